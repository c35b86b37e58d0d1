import { Router } from 'express';
import type { Deps } from '../shared/deps';
import { createHubAdminRouter } from './hub-admin-routes';
import type { Hub } from './hub-context';
import { createHubDocsRouter } from './hub-docs';
import { hubErrorHandler, hubNotFound } from './hub-http';
import { createHubTransactionsRouter } from './hub-routes';
import { createHubRateLimiter } from './hub-rate-limit';
import { checkSealedSecrets, createSecretBox } from './secret-box';
import { createVendorDoors, type VendorStripeOptions } from './vendor-doors';
import { listVendors } from './vendor-repository';
import { systemWebhookTargets, type WebhookTargets } from './webhook-http';

export type { Hub } from './hub-context';
export { createMerchant, createVendor } from './hub-admin-service';
export { loadEncryptionKey, SecretDoesNotOpen } from './secret-box';
export { hubStripeEventObserver } from './three-d-secure-service';
export { vendorWebhookDoors } from './vendor-webhooks';
export { createWebhookWorker, runWebhooksOnce, startHubWebhookWorker } from './webhook-outbox';
export { resendDelivery } from './webhook-deliveries';
export type { WebhookTargets } from './webhook-http';

export interface HubOptions extends VendorStripeOptions {
  encryptionKey: Buffer;
  /** Where the key came from (HUB_ENCRYPTION_KEY or a file), for the start-up check's message. */
  encryptionKeySource?: string;
  /** Default: private addresses refused in production, names resolved by the system. */
  webhookTargets?: WebhookTargets;
}

/** The Payment Hub on the payments core: every vendor's key is known to the account registry from the start. */
export async function createHub(deps: Deps, options: HubOptions): Promise<Hub> {
  const box = createSecretBox(options.encryptionKey);
  await checkSealedSecrets(deps.db, box, options.encryptionKeySource ?? 'HUB_ENCRYPTION_KEY');
  const vendorDoors = createVendorDoors(deps, box, options);
  for (const vendor of await listVendors(deps.db)) if (!vendor.disabledAt) vendorDoors.register(vendor);
  const rateLimiter = createHubRateLimiter(deps.db, deps.config.hub.rateLimitPerMinute, deps.logger);
  const webhookTargets = options.webhookTargets ?? systemWebhookTargets(deps.config.nodeEnv === 'production');
  return { deps, box, vendorDoors, rateLimiter, sandbox: deps.config.stripe.mode === 'sandbox', webhookTargets };
}

/** The merchant API, its administration (answering in the Hub's envelope) and its reference (/api/v1/openapi.json, /api/v1/docs). */
export function createHubRouter(hub: Hub): Router {
  const router = Router();
  router.use(createHubDocsRouter());
  router.use(createHubAdminRouter(hub));
  router.use(createHubTransactionsRouter(hub));
  router.use(['/api/v1/admin', '/api/v1/transactions', '/api/v1/webhooks'], hubErrorHandler);
  router.all(
    ['/api/v1/admin', '/api/v1/admin/*rest', '/api/v1/transactions', '/api/v1/transactions/*rest', '/api/v1/webhooks', '/api/v1/webhooks/*rest'],
    hubNotFound,
  );
  return router;
}
