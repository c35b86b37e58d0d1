import { inTransaction } from '../db';
import { AppError, isAppError } from '../shared/app-error';
import type { Hub } from './hub-context';
import { validationFailed } from './hub-http';
import { newApiKey, newMerchantId, newVendorId, newWebhookSecret, secretHint, type KeyKind } from './hub-ids';
import { findMerchant, insertApiKey, insertMerchant, listApiKeys, listMerchants, revokeApiKey, type ApiKeyRecord, type Merchant } from './merchant-repository';
import { disableVendor, insertVendor, listVendors, updateVendorWebhookSecret, type Vendor } from './vendor-repository';
import { VENDOR_WEBHOOK_EVENTS, vendorWebhookUrl } from './vendor-webhooks';

/** What a new merchant is shown once: its keys and webhook secret are never readable again. */
export interface NewMerchant {
  id: string;
  name: string;
  public_key: string;
  secret_key: string;
  webhook_secret: string;
}

const livemodeOf = (hub: Hub): boolean => (hub.deps.config.stripe.secretKey ?? '').includes('_live_');

export async function createMerchant(hub: Hub, name: string, options: { webhookMethod?: 'GET' | 'POST' } = {}): Promise<NewMerchant> {
  const id = newMerchantId();
  const webhookSecret = newWebhookSecret();
  const now = hub.deps.clock.now();
  const livemode = livemodeOf(hub);
  const publicKey = newApiKey('public', livemode);
  const secretKey = newApiKey('secret', livemode);
  await inTransaction(hub.deps.db, async (trx) => {
    await insertMerchant(trx, { id, name, webhookSecretSealed: hub.box.seal(webhookSecret), webhookMethod: options.webhookMethod, now });
    for (const k of [
      { kind: 'public' as const, ...publicKey },
      { kind: 'secret' as const, ...secretKey },
    ])
      await insertApiKey(trx, { ownerId: id, kind: k.kind, prefix: k.prefix, hash: k.hash, now });
  });
  hub.deps.logger.info({ merchantId: id, name }, 'hub merchant created');
  return { id, name, public_key: publicKey.key, secret_key: secretKey.key, webhook_secret: webhookSecret };
}

async function requireMerchant(hub: Hub, id: string): Promise<Merchant> {
  const merchant = await findMerchant(hub.deps.db, id);
  if (!merchant) throw new AppError('not_found', 'No such merchant');
  return merchant;
}

/** A new key beside the old ones: both work until the old one is revoked (rotation without downtime). */
export async function issueKey(hub: Hub, merchantId: string, kind: KeyKind): Promise<{ id: number; kind: KeyKind; key: string }> {
  await requireMerchant(hub, merchantId);
  const key = newApiKey(kind, livemodeOf(hub));
  const record = await insertApiKey(hub.deps.db, { ownerId: merchantId, kind, prefix: key.prefix, hash: key.hash, now: hub.deps.clock.now() });
  hub.deps.logger.info({ merchantId, keyId: record.id, kind, prefix: key.prefix }, 'hub key issued');
  return { id: record.id, kind, key: key.key };
}

export async function revokeKey(hub: Hub, merchantId: string, keyId: number): Promise<void> {
  if (!(await revokeApiKey(hub.deps.db, merchantId, keyId, hub.deps.clock.now()))) throw new AppError('not_found', 'No such live key of this merchant');
  hub.deps.logger.info({ merchantId, keyId }, 'hub key revoked');
}

export interface MerchantView {
  id: string;
  name: string;
  created_at: string;
  keys: Array<{ id: number; kind: KeyKind; prefix: string; created_at: string; revoked_at: string | null }>;
}

const keyView = (k: ApiKeyRecord) => ({
  id: k.id,
  kind: k.kind,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

export async function describeMerchants(hub: Hub): Promise<MerchantView[]> {
  const all = await listMerchants(hub.deps.db);
  return Promise.all(
    all.map(async (m) => ({ id: m.id, name: m.name, created_at: m.createdAt.toISOString(), keys: (await listApiKeys(hub.deps.db, m.id)).map(keyView) })),
  );
}

export interface VendorInput {
  name?: string;
  stripeSecretKey?: string;
  stripePublishableKey?: string;
  stripeWebhookSecret?: string;
  allowRawCardData?: boolean;
}

/** A vendor as the API shows it: never a secret, only hints. */
export interface VendorView {
  id: string;
  merchant_id: string;
  name: string;
  stripe_account: string | null;
  livemode: boolean;
  secret_key_hint: string;
  publishable_key: string | null;
  webhook_secret_set: boolean;
  /** Paste into the Stripe Dashboard (Developers, Webhooks) with the events below; its signing secret is `stripe_webhook_secret`. */
  webhook_url: string;
  webhook_events: readonly string[];
  allow_raw_card_data: boolean;
  sandbox: boolean;
  created_at: string;
  disabled_at: string | null;
}

/** The shapes of what a vendor is registered with (checked where the request is read). */
export const VENDOR_FIELDS = {
  stripe_secret_key: { pattern: /^(sk|rk)_(test|live)_[0-9A-Za-z_]{8,}$/, patternMessage: 'must look like sk_test_... or sk_live_...' },
  stripe_publishable_key: { pattern: /^pk_(test|live)_[0-9A-Za-z_]{8,}$/, patternMessage: 'must look like pk_test_...' },
  stripe_webhook_secret: { pattern: /^whsec_[0-9A-Za-z+/=_-]{8,}$/, patternMessage: 'must look like whsec_...' },
} as const;

export async function vendorView(hub: Hub, vendor: Vendor, stripeAccount?: string): Promise<VendorView> {
  return {
    id: vendor.id,
    merchant_id: vendor.ownerId,
    name: vendor.name,
    stripe_account: stripeAccount ?? null,
    livemode: hub.box.open(vendor.secretKeySealed).includes('_live_'),
    secret_key_hint: vendor.secretKeyHint,
    publishable_key: vendor.publishableKey,
    webhook_secret_set: vendor.webhookSecretSealed !== null || vendor.sandbox,
    webhook_url: vendorWebhookUrl(hub, vendor.id),
    webhook_events: VENDOR_WEBHOOK_EVENTS,
    allow_raw_card_data: vendor.allowRawCardData,
    sandbox: vendor.sandbox,
    created_at: vendor.createdAt.toISOString(),
    disabled_at: vendor.disabledAt?.toISOString() ?? null,
  };
}

/**
 * Registers a merchant's Stripe account. A key is checked with Stripe (`GET /v1/account`) before
 * it is kept; in sandbox a vendor without a key gets its own account in the built-in emulator.
 */
export async function createVendor(hub: Hub, merchantId: string, input: VendorInput): Promise<VendorView> {
  await requireMerchant(hub, merchantId);
  if (input.stripeSecretKey === undefined && !hub.sandbox) {
    throw validationFailed([{ field: 'stripe_secret_key', message: 'is required (only the sandbox makes vendors without a Stripe key)' }]);
  }

  const id = newVendorId();
  const sandbox = input.stripeSecretKey === undefined;
  // Each sandbox vendor is its own emulator account: the emulator keeps one per key.
  const secretKey = input.stripeSecretKey ?? `sk_test_hubsandbox_${id}`;
  const vendor: Vendor = {
    id,
    ownerId: merchantId,
    name: input.name ?? (sandbox ? 'Sandbox vendor' : 'Stripe'),
    secretKeySealed: hub.box.seal(secretKey),
    secretKeyHint: secretHint(secretKey),
    publishableKey: input.stripePublishableKey ?? null,
    webhookSecretSealed: input.stripeWebhookSecret ? hub.box.seal(input.stripeWebhookSecret) : null,
    allowRawCardData: input.allowRawCardData ?? false,
    sandbox,
    createdAt: hub.deps.clock.now(),
    disabledAt: null,
  };
  let door;
  try {
    door = await hub.vendorDoors.doorFor(vendor);
  } catch (err) {
    if (isAppError(err) && err.code === 'stripe_auth') throw validationFailed([{ field: 'stripe_secret_key', message: 'was refused by Stripe' }]);
    throw err;
  }
  await insertVendor(hub.deps.db, vendor);
  hub.deps.logger.info({ merchantId, vendorId: id, stripeAccount: door.stripeAccountId, livemode: door.livemode, sandbox }, 'hub vendor created');
  return vendorView(hub, vendor, door.stripeAccountId);
}

export async function describeVendors(hub: Hub, merchantId: string): Promise<VendorView[]> {
  await requireMerchant(hub, merchantId);
  return Promise.all((await listVendors(hub.deps.db, merchantId)).map((v) => vendorView(hub, v)));
}

export async function disableMerchantVendor(hub: Hub, merchantId: string, vendorId: string): Promise<void> {
  if (!(await disableVendor(hub.deps.db, merchantId, vendorId, hub.deps.clock.now())))
    throw new AppError('not_found', 'No such enabled vendor of this merchant');
  hub.deps.logger.info({ merchantId, vendorId }, 'hub vendor disabled');
}

/** Sets the signing secret of the vendor's Stripe webhook endpoint (made in the Dashboard after the vendor). */
export async function setVendorWebhookSecret(hub: Hub, merchantId: string, vendorId: string, secret: string): Promise<VendorView> {
  const vendor = await updateVendorWebhookSecret(hub.deps.db, merchantId, vendorId, hub.box.seal(secret));
  if (!vendor) throw new AppError('not_found', 'No such enabled vendor of this merchant');
  const door = await hub.vendorDoors.refresh(vendor);
  hub.deps.logger.info({ merchantId, vendorId }, 'hub vendor webhook secret set');
  return vendorView(hub, vendor, door.stripeAccountId);
}
