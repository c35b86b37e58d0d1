import { keyedAccount, type KeyedAccount, type StripeDoor } from '../stripe';
import type { Deps } from '../shared/deps';
import type { SecretBox } from './secret-box';
import type { Vendor } from './vendor-repository';

/** How a vendor's key reaches Stripe: the host (Stripe, STRIPE_API_BASE or the sandbox emulator) and our idempotency scope. */
export interface VendorStripeOptions {
  apiBase?: URL;
  idempotencyPrefix: string;
  /** Sandbox: the webhook secrets the built-in emulator signs a sandbox vendor's events with (its endpoint is made on demand). */
  sandboxWebhookSecrets?: (secretKey: string, vendorId: string) => string[];
}

/** The Stripe door of each vendor, through the core's account registry (one stripe-node client per key). */
export interface VendorDoors {
  /** Makes the vendor's key known to the registry (at start, for webhooks and the reconciler). */
  register(vendor: Vendor): KeyedAccount;
  doorFor(vendor: Vendor): Promise<StripeDoor>;
  /** The vendor's secrets changed: its key joins again with them (the old ones keep verifying until a restart, as during a rotation). */
  refresh(vendor: Vendor): Promise<StripeDoor>;
}

export function createVendorDoors(deps: Pick<Deps, 'stripeAccounts' | 'config' | 'metrics'>, box: SecretBox, options: VendorStripeOptions): VendorDoors {
  const byVendor = new Map<string, KeyedAccount>();
  const register = (vendor: Vendor): KeyedAccount => {
    const known = byVendor.get(vendor.id);
    if (known) return known;
    const secretKey = box.open(vendor.secretKeySealed);
    const sandboxSecrets = vendor.sandbox && options.sandboxWebhookSecrets ? options.sandboxWebhookSecrets(secretKey, vendor.id) : [];
    const account = keyedAccount({
      label: `vendor ${vendor.id} (${vendor.name})`,
      secretKey,
      apiBase: options.apiBase,
      timeoutMs: deps.config.stripe.timeoutMs,
      maxNetworkRetries: deps.config.stripe.maxNetworkRetries,
      observe: deps.metrics.stripeCall,
      webhookSecrets: [...(vendor.webhookSecretSealed ? [box.open(vendor.webhookSecretSealed)] : []), ...sandboxSecrets],
      idempotencyPrefix: options.idempotencyPrefix,
    });
    byVendor.set(vendor.id, account);
    deps.stripeAccounts.add(account);
    return account;
  };
  return {
    register,
    doorFor: (vendor) => deps.stripeAccounts.doorOf(register(vendor)),
    refresh: (vendor) => {
      byVendor.delete(vendor.id);
      return deps.stripeAccounts.doorOf(register(vendor));
    },
  };
}
