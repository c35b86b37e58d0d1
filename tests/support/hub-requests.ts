import request, { type Response, type Test } from 'supertest';
import { hubOpenApiDocument } from '../../app/hub/hub-openapi';
import { answerValidator, type OpenApiDocument } from './openapi-contract';
import { TEST_HUB_ADMIN_TOKEN, type TestContext } from './test-context';

let validate: ReturnType<typeof answerValidator> | undefined;

/**
 * Every answer the Hub gives through these helpers (so: every Hub test of the suite) is checked
 * against the service's own OpenAPI document; an answer that does not conform fails the test
 * that got it, naming what is wrong.
 */
async function conforming(test: Test, method: string): Promise<Response> {
  const res = await test;
  validate ??= answerValidator(hubOpenApiDocument() as unknown as OpenApiDocument);
  const contentType = String(res.headers['content-type'] ?? '');
  const path = new URL(res.request.url).pathname;
  const problems = validate({ method, path, status: res.status, contentType, body: /json/.test(contentType) ? res.body : res.text });
  if (problems.length > 0) throw new Error(`the answer does not conform to /api/v1/openapi.json:\n${problems.join('\n')}`);
  return res;
}

/** The admin API as an operator (or `npm run hub`) calls it. */
export const admin = (ctx: TestContext) => {
  const call = (method: 'post' | 'get' | 'put' | 'delete', path: string, body?: unknown) => {
    const req = request(ctx.app)[method](`/api/v1/admin${path}`).set('Authorization', `Bearer ${TEST_HUB_ADMIN_TOKEN}`);
    return conforming(body === undefined ? req : req.send(body as object), method.toUpperCase());
  };
  return {
    post: (path: string, body: unknown = {}) => call('post', path, body),
    get: (path: string) => call('get', path),
    put: (path: string, body: unknown = {}) => call('put', path, body),
    delete: (path: string) => call('delete', path),
  };
};

export interface HubMerchant {
  id: string;
  publicKey: string;
  secretKey: string;
  webhookSecret: string;
  vendorId: string;
}

/**
 * A merchant with one vendor on the given emulator key (its own emulator account), through the
 * admin API, allowed to send raw card data as the seed's examples do.
 */
export async function hubMerchant(ctx: TestContext, options: { stripeKey: string; allowRawCardData?: boolean; webhookSecret?: string }): Promise<HubMerchant> {
  const created = await admin(ctx).post('/merchants', { name: `Merchant ${Math.random().toString(36).slice(2, 8)}` });
  if (created.status !== 201) throw new Error(`merchant creation failed: ${JSON.stringify(created.body)}`);
  const m = created.body.data;
  const vendor = await admin(ctx).post(`/merchants/${m.id}/vendors`, {
    name: 'Stripe',
    stripe_secret_key: options.stripeKey,
    allow_raw_card_data: options.allowRawCardData ?? true,
    ...(options.webhookSecret ? { stripe_webhook_secret: options.webhookSecret } : {}),
  });
  if (vendor.status !== 201) throw new Error(`vendor creation failed: ${JSON.stringify(vendor.body)}`);
  return { id: m.id, publicKey: m.public_key, secretKey: m.secret_key, webhookSecret: m.webhook_secret, vendorId: vendor.body.data.id };
}

/** The merchant API as the seed's curl calls it: JSON, `Authorization: Bearer <key>`. */
export const hubApi = (ctx: TestContext, key: string) => ({
  post: (path: string, body: unknown) =>
    conforming(
      request(ctx.app)
        .post(`/api/v1/transactions${path}`)
        .set('Accept', 'application/json')
        .set('Authorization', `Bearer ${key}`)
        .send(body as object),
      'POST',
    ),
  /** The seed sends its token check as GET with a JSON body. */
  getWithBody: (path: string, body: unknown) =>
    conforming(
      request(ctx.app)
        .get(`/api/v1/transactions${path}`)
        .set('Accept', 'application/json')
        .set('Authorization', `Bearer ${key}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(body)),
      'GET',
    ),
  get: (path: string) =>
    conforming(request(ctx.app).get(`/api/v1/transactions${path}`).set('Accept', 'application/json').set('Authorization', `Bearer ${key}`), 'GET'),
});
