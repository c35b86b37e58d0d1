import { Router, type NextFunction, type Request, type Response } from 'express';
import { hasBearerToken } from '../http/bearer-token';
import { jsonBody } from '../http/body-parsers';
import { AppError } from '../shared/app-error';
import type { Hub } from './hub-context';
import {
  createMerchant,
  createVendor,
  describeMerchants,
  describeVendors,
  disableMerchantVendor,
  issueKey,
  revokeKey,
  setVendorWebhookSecret,
} from './hub-admin-service';
import { parseBody, reply } from './hub-http';
import { hubRequestSchemas } from './hub-schemas';

/**
 * The admin API (`/api/v1/admin`, `Authorization: Bearer <HUB_ADMIN_TOKEN>`): merchants, their
 * keys and vendors. Without HUB_ADMIN_TOKEN it does not exist (404), so nobody can guess at it.
 */
export function createHubAdminRouter(hub: Hub): Router {
  const router = Router();
  const token = hub.deps.config.hub.adminToken;
  const schemas = hubRequestSchemas();
  const asyncRoute = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

  router.use('/api/v1/admin', (req, _res, next) => {
    if (!token) return next('router');
    if (!hasBearerToken(req, token)) return next(new AppError('unauthorized', 'Unauthorized'));
    next();
  });
  router.use('/api/v1/admin', jsonBody);
  // Ids in the path have fixed shapes: anything else (a NUL byte included) is simply unknown.
  router.param('id', (_req, _res, next, value) => next(/^mer_[0-9a-f]{16}$/.test(String(value)) ? undefined : new AppError('not_found', 'No such merchant')));
  router.param('vendorId', (_req, _res, next, value) =>
    next(/^[0-9A-Za-z_-]{1,32}$/.test(String(value)) ? undefined : new AppError('not_found', 'No such vendor')),
  );

  router.post(
    '/api/v1/admin/merchants',
    asyncRoute(async (req, res) => {
      const body = parseBody(schemas.merchant, req.body);
      reply(
        res,
        201,
        'Merchant created: the keys and webhook secret are shown only now',
        await createMerchant(hub, body.name, { webhookMethod: body.webhook_method }),
      );
    }),
  );
  router.get(
    '/api/v1/admin/merchants',
    asyncRoute(async (_req, res) => reply(res, 200, 'Merchants', await describeMerchants(hub))),
  );
  router.post(
    '/api/v1/admin/merchants/:id/keys',
    asyncRoute(async (req, res) => {
      const { kind } = parseBody(schemas.key, req.body);
      reply(res, 201, 'Key issued: shown only now; the old keys keep working until revoked', await issueKey(hub, String(req.params.id), kind));
    }),
  );
  router.delete(
    '/api/v1/admin/merchants/:id/keys/:keyId',
    asyncRoute(async (req, res) => {
      const keyId = /^[0-9]{1,15}$/.test(String(req.params.keyId)) ? Number(req.params.keyId) : undefined;
      if (keyId === undefined) throw new AppError('not_found', 'No such live key of this merchant');
      await revokeKey(hub, String(req.params.id), keyId);
      reply(res, 200, 'Key revoked', { id: keyId });
    }),
  );
  router.post(
    '/api/v1/admin/merchants/:id/vendors',
    asyncRoute(async (req, res) => {
      const body = parseBody(schemas.vendor, req.body);
      const input = {
        name: body.name,
        stripeSecretKey: body.stripe_secret_key,
        stripePublishableKey: body.stripe_publishable_key,
        stripeWebhookSecret: body.stripe_webhook_secret,
        allowRawCardData: body.allow_raw_card_data,
      };
      reply(res, 201, 'Vendor created', await createVendor(hub, String(req.params.id), input));
    }),
  );
  router.get(
    '/api/v1/admin/merchants/:id/vendors',
    asyncRoute(async (req, res) => reply(res, 200, 'Vendors', await describeVendors(hub, String(req.params.id)))),
  );
  router.put(
    '/api/v1/admin/merchants/:id/vendors/:vendorId/webhook-secret',
    asyncRoute(async (req, res) => {
      const { stripe_webhook_secret: secret } = parseBody(schemas.webhookSecret, req.body);
      reply(res, 200, 'Webhook secret set', await setVendorWebhookSecret(hub, String(req.params.id), String(req.params.vendorId), secret));
    }),
  );
  router.post(
    '/api/v1/admin/merchants/:id/vendors/:vendorId/disable',
    asyncRoute(async (req, res) => {
      await disableMerchantVendor(hub, String(req.params.id), String(req.params.vendorId));
      reply(res, 200, 'Vendor disabled', { id: String(req.params.vendorId) });
    }),
  );
  return router;
}
