import type { WebhookTargets } from './webhook-http';
import type { Deps } from '../shared/deps';
import type { HubRateLimiter } from './hub-rate-limit';
import type { SecretBox } from './secret-box';
import type { VendorDoors } from './vendor-doors';

/** What every Hub service receives: the core's deps plus the Hub's sealed secrets and vendor doors. */
export interface Hub {
  deps: Deps;
  box: SecretBox;
  vendorDoors: VendorDoors;
  rateLimiter: HubRateLimiter;
  /** Stripe is the built-in emulator (no STRIPE_SECRET_KEY): vendors may come without a key, raw card data is fine. */
  sandbox: boolean;
  /** Where merchant webhooks may go (public addresses only, outside development). */
  webhookTargets: WebhookTargets;
}
