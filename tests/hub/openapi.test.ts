import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { runWebhooksOnce } from '../../app/hub';
import { answerValidator, operationOf, type OpenApiDocument, type RecordedAnswer } from '../support/openapi-contract';
import { seedCheckTokenStatus, seedCreate3dsToken, seedCreateTokenAndCharge, seedCreateTokenOnly } from '../support/hub-seed';
import { startTestContext, TEST_HUB_ADMIN_TOKEN, type TestContext } from '../support/test-context';

/** The API reference: generated from the request and answer schemas, it must say what the Hub really does. */

const KEY = 'sk_test_hub_openapi_vendor';

let ctx: TestContext;
let doc: OpenApiDocument & Record<string, unknown>;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY] });
  doc = (await request(ctx.app).get('/api/v1/openapi.json').expect(200)).body;
});
afterAll(async () => {
  await ctx.close();
});

/** An ESM-only package, loaded as such from this CommonJS test. */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

test('when GET /api/v1/openapi.json is read, then it is a valid OpenAPI 3.1 document', async () => {
  const { Validator } = (await importEsm('@seriousme/openapi-schema-validator')) as {
    Validator: new () => { validate(doc: unknown): Promise<{ valid: boolean; errors?: unknown }>; version: string };
  };
  const validator = new Validator();
  const result = await validator.validate(doc);
  expect([result.valid, validator.version, result.errors]).toEqual([true, '3.1', undefined]);
  expect(doc.openapi).toBe('3.1.0');
});

type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
/** Every route of an Express 5 router stack, nested routers included, as [method, path]. */
function routesOf(stack: Layer[]): Array<[string, string]> {
  return stack.flatMap((layer): Array<[string, string]> => {
    if (layer.route) {
      // `all` routes are the Hub's 404 fallbacks for unknown paths, not operations.
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      return [layer.route.path].flat().flatMap((p) => methods.map((m): [string, string] => [m, p]));
    }
    return layer.handle?.stack ? routesOf(layer.handle.stack) : [];
  });
}
const shape = (p: string) => p.replace(/:\w+/g, '{}').replace(/\{\w+\}/g, '{}');

test("when the app's routes are walked, then every /api/v1 route is in the document with its method, and every documented one is routed", () => {
  const routed = routesOf((ctx.app as unknown as { router: { stack: Layer[] } }).router.stack)
    .filter(([, p]) => p.startsWith('/api/v1'))
    .map(([m, p]) => `${m.toUpperCase()} ${shape(p)}`);
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${shape(p)}`));
  expect(routed.length).toBeGreaterThan(15);
  expect([...new Set(routed)].sort()).toEqual([...new Set(documented)].sort());
});

describe('contract', () => {
  const answers: RecordedAnswer[] = [];
  type Method = 'get' | 'post' | 'put' | 'delete';
  /** A call as a client makes it; its answer is kept to be checked against the document. */
  async function call(method: Method, url: string, options: { key?: string; body?: unknown; query?: Record<string, string>; raw?: string } = {}) {
    let req = request(ctx.app)[method](url).set('Accept', 'application/json');
    if (options.key) req = req.set('Authorization', `Bearer ${options.key}`);
    if (options.query) req = req.query(options.query);
    if (options.raw !== undefined) req = req.set('Content-Type', 'application/json').set('Stripe-Signature', 't=1,v1=00');
    const res = options.raw !== undefined ? await req.send(options.raw) : options.body !== undefined ? await req.send(options.body as object) : await req;
    const contentType = String(res.headers['content-type'] ?? '');
    answers.push({ method: method.toUpperCase(), path: url, status: res.status, contentType, body: /json/.test(contentType) ? res.body : res.text });
    return res;
  }
  const adminCall = (method: Method, url: string, body?: unknown) => call(method, `/api/v1/admin${url}`, { key: TEST_HUB_ADMIN_TOKEN, body });
  const ref = () => `oa-${Math.random().toString(36).slice(2, 10)}`;

  test('when the main Hub flows run (tokenize, check, charge, 3-D Secure, refunds, webhooks, admin, errors), then every answer conforms to the document', async () => {
    // Administration.
    const merchant = (await adminCall('post', '/merchants', { name: 'Contract Hotel' })).body.data;
    expect((await adminCall('post', '/merchants', { name: '' })).status).toBe(400);
    expect((await call('get', '/api/v1/admin/merchants', { key: 'wrong' })).status).toBe(401);
    expect((await adminCall('get', '/merchants')).status).toBe(200);
    const key = (await adminCall('post', `/merchants/${merchant.id}/keys`, { kind: 'secret' })).body.data;
    expect((await adminCall('delete', `/merchants/${merchant.id}/keys/${key.id}`)).status).toBe(200);
    const vendor = (await adminCall('post', `/merchants/${merchant.id}/vendors`, { name: 'Stripe', stripe_secret_key: KEY, allow_raw_card_data: true })).body
      .data;
    const spare = (await adminCall('post', `/merchants/${merchant.id}/vendors`, { name: 'Spare', stripe_secret_key: KEY })).body.data;
    expect(
      (await adminCall('put', `/merchants/${merchant.id}/vendors/${vendor.id}/webhook-secret`, { stripe_webhook_secret: 'whsec_contract_12345678' })).status,
    ).toBe(200);
    expect((await adminCall('post', `/merchants/${merchant.id}/vendors/${spare.id}/disable`)).status).toBe(200);
    expect((await adminCall('get', `/merchants/${merchant.id}/vendors`)).status).toBe(200);
    expect((await adminCall('get', '/merchants/mer_0000000000000000/vendors')).status).toBe(404);

    const secret = merchant.secret_key as string;
    const pub = merchant.public_key as string;
    const tx = '/api/v1/transactions';
    // Tokens.
    const token = (await call('post', `${tx}/token`, { key: pub, body: seedCreateTokenOnly(vendor.id) })).body.data.token;
    expect((await call('post', `${tx}/token`, { key: pub, body: { payment_vendor: vendor.id, credit_card: { account_number: '12' } } })).status).toBe(400);
    expect((await call('post', `${tx}/token`, { key: pub, body: { ...seedCreateTokenOnly(vendor.id), payment_vendor: 'nope' } })).status).toBe(404);
    const declinedCard = { ...seedCreateTokenOnly(vendor.id).credit_card, account_number: '4000000000000002' };
    expect((await call('post', `${tx}/token`, { key: pub, body: { payment_vendor: vendor.id, credit_card: declinedCard } })).status).toBe(402);
    expect((await call('post', `${tx}/token`, { key: 'pk_test_nobody', body: seedCreateTokenOnly(vendor.id) })).status).toBe(401);
    expect((await call('get', `${tx}/token`, { key: pub, query: { payment_vendor: vendor.id, token } })).body.data.chargeable).toBe(true);
    expect((await call('get', `${tx}/token`, { key: pub, query: { payment_vendor: vendor.id, token: 'tok_nope' } })).status).toBe(404);
    const both = seedCreateTokenAndCharge(vendor.id);
    const paid = await call('post', `${tx}/token`, {
      key: pub,
      body: { ...both, transaction_detail: { ...both.transaction_detail, merchant_ref_code: ref(), webhook_url: `${ctx.baseUrl}/merchant-hook` } },
    });
    expect(paid.body.data.transaction.Status).toBe('paid');
    for (let i = 0; i < 3; i++) await runWebhooksOnce(ctx.hub);

    // Charges.
    const detail = (overrides: Record<string, unknown> = {}) => ({
      merchant_ref_code: ref(),
      amount: 150,
      service_charge: 2.5,
      description: 'Room 12',
      currency: 'USD',
      email: 'guest@example.com',
      ...overrides,
    });
    const charged = await call('post', `${tx}/charge`, { key: secret, body: { payment_vendor: vendor.id, token, transaction_detail: detail() } });
    const merchantRefCode = charged.body.data.transaction.MerchantRefCode as string;
    expect(charged.status).toBe(200);
    const reused = { payment_vendor: vendor.id, token, transaction_detail: detail({ merchant_ref_code: merchantRefCode, amount: 151 }) };
    expect((await call('post', `${tx}/charge`, { key: secret, body: reused })).status).toBe(409);
    expect((await call('post', `${tx}/charge`, { key: pub, body: { payment_vendor: vendor.id, token, transaction_detail: detail() } })).status).toBe(403);
    expect(
      (await call('post', `${tx}/charge`, { key: secret, body: { payment_vendor: vendor.id, token, transaction_detail: detail({ amount: 'x' }) } })).status,
    ).toBe(400);
    const poor = (
      await call('post', `${tx}/token`, { key: pub, body: { payment_vendor: vendor.id, credit_card: { ...declinedCard, account_number: '4000000000009995' } } })
    ).body.data.token;
    expect((await call('post', `${tx}/charge`, { key: secret, body: { payment_vendor: vendor.id, token: poor, transaction_detail: detail() } })).status).toBe(
      402,
    );
    expect((await call('get', `${tx}/${merchantRefCode}`, { key: secret })).body.data.Status).toBe('paid');
    expect((await call('get', `${tx}/nope`, { key: secret })).status).toBe(404);

    // 3-D Secure.
    const threeDs = await call('post', `${tx}/token/3ds`, {
      key: pub,
      body: { ...seedCreate3dsToken(vendor.id), credit_card: { ...seedCreate3dsToken(vendor.id).credit_card, account_number: '4000000000001091' } },
    });
    expect(threeDs.body.data).toMatchObject({ status: 'review', auth_url: expect.stringMatching(/^http/) });
    expect((await call('post', `${tx}/token/3ds`, { key: pub, body: { ...seedCreate3dsToken(vendor.id), return_url: 'ftp://x' } })).status).toBe(400);
    expect((await call('get', `${tx}/token`, { key: pub, query: seedCheckTokenStatus(vendor.id, threeDs.body.data.token) })).body.data.status).toBe('review');
    expect([302, 404]).toContain((await call('get', `${tx}/token/3ds/return/${threeDs.body.data.token}`)).status);
    expect((await call('get', `${tx}/token/3ds/return/tok_nope`)).status).toBe(404);

    // Refunds.
    const refund = await call('post', `${tx}/${merchantRefCode}/refunds`, { key: secret, body: { refund_ref_code: `${merchantRefCode}-r1`, amount: 10 } });
    expect([refund.status, refund.body.data.transaction.Status]).toEqual([201, 'partially_refunded']);
    expect((await call('get', `${tx}/${merchantRefCode}/refunds/${merchantRefCode}-r1`, { key: secret })).body.data.Amount).toBe(10);
    expect((await call('get', `${tx}/${merchantRefCode}/refunds/nope`, { key: secret })).status).toBe(404);
    expect((await call('post', `${tx}/${merchantRefCode}/refunds`, { key: secret, body: { amount: 'ten' } })).status).toBe(400);
    expect(
      (await call('post', `${tx}/${merchantRefCode}/refunds`, { key: secret, body: { refund_ref_code: `${merchantRefCode}-r1`, amount: 11 } })).status,
    ).toBe(409);
    expect((await call('get', `${tx}/${merchantRefCode}`, { key: secret })).body.data.Refunds).toHaveLength(1);

    // Merchant webhooks.
    const deliveries = (await call('get', '/api/v1/webhooks/deliveries', { key: secret })).body.data;
    expect(deliveries.length).toBeGreaterThan(0);
    expect((await call('post', `/api/v1/webhooks/deliveries/${deliveries[0].id}/resend`, { key: secret })).status).toBe(202);
    expect((await call('post', '/api/v1/webhooks/deliveries/999999999/resend', { key: secret })).status).toBe(404);

    // Stripe webhooks in (a forged signature) and the reference itself.
    expect((await call('post', '/api/v1/hook/stripe', { raw: '{"id":"evt_1"}' })).status).toBe(400);
    expect([400, 404]).toContain((await call('post', `/api/v1/hook/stripe/${vendor.id}`, { raw: '{"id":"evt_1"}' })).status);
    expect((await call('get', '/api/v1/openapi.json')).status).toBe(200);
    expect((await call('get', '/api/v1/docs')).status).toBe(200);

    const check = answerValidator(doc);
    expect(answers.flatMap(check)).toEqual([]);
    // Every operation of the document was answered at least once.
    const exercised = new Set(answers.map((a) => `${a.method} ${operationOf(doc, a.method, a.path)}`));
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    expect(operations.filter((op) => !exercised.has(op))).toEqual([]);
  });

  test('when an answer strays from the document, then the contract check says where', () => {
    const check = answerValidator(doc);
    const wrong: RecordedAnswer = {
      method: 'GET',
      path: '/api/v1/transactions/token',
      status: 200,
      contentType: 'application/json',
      body: { success: true, message: 'Token check result', data: { chargeable: 'yes', status: 'verified', token: 't', description: 'd' } },
    };
    expect(check(wrong)).toEqual([expect.stringContaining('/data/chargeable')]);
    expect(check({ ...wrong, status: 418 })).toEqual([expect.stringContaining('status not documented')]);
    expect(check({ ...wrong, body: { ...(wrong.body as object), extra: 1 } }).length).toBeGreaterThan(0);
  });
});

describe('validation edges of the schemas', () => {
  test('when transaction_detail is missing, null or not an object, then 400 names it (never a 500)', async () => {
    const admin = (url: string, body: unknown) =>
      request(ctx.app)
        .post(`/api/v1/admin${url}`)
        .set('Authorization', `Bearer ${TEST_HUB_ADMIN_TOKEN}`)
        .send(body as object);
    const merchant = (await admin('/merchants', { name: 'Edges' })).body.data;
    const vendor = (await admin(`/merchants/${merchant.id}/vendors`, { stripe_secret_key: KEY, allow_raw_card_data: true })).body.data;
    const charge = (body: Record<string, unknown>) =>
      request(ctx.app)
        .post('/api/v1/transactions/charge')
        .set('Authorization', `Bearer ${merchant.secret_key}`)
        .send({ payment_vendor: vendor.id, token: 'tok_x', ...body });
    for (const [detail, message] of [
      [undefined, 'is required'],
      [null, 'is required'],
      ['x', 'must be an object'],
      [[1], 'must be an object'],
    ] as const) {
      const res = await charge(detail === undefined ? {} : { transaction_detail: detail });
      expect([res.status, res.body.errors]).toEqual([400, [{ field: 'transaction_detail', message }]]);
    }
    const blankCard = await request(ctx.app)
      .post('/api/v1/transactions/token')
      .set('Authorization', `Bearer ${merchant.public_key}`)
      .send({ payment_vendor: vendor.id, payment_method: '  ', credit_card: seedCreateTokenOnly(vendor.id).credit_card });
    expect(blankCard.body.errors).toEqual([{ field: 'payment_method', message: 'is required' }]);
  });
});

describe('the docs page', () => {
  test('when /api/v1/docs is opened, then Swagger UI comes from the service itself under a strict CSP, with no inline script', async () => {
    const page = await request(ctx.app).get('/api/v1/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((s) => [/src="\/api\/v1\/docs\/[\w.-]+\.js"/.test(s[1]), s[2].trim()])).toEqual([
      [true, ''],
      [true, ''],
    ]);
    const bundle = await request(ctx.app).get('/api/v1/docs/swagger-ui-bundle.js').expect(200);
    const packaged = readFileSync(path.join(path.dirname(require.resolve('swagger-ui-dist/package.json')), 'swagger-ui-bundle.js'), 'utf8');
    expect(bundle.text === packaged).toBe(true);
    const init = await request(ctx.app).get('/api/v1/docs/hub-docs-init.js').expect(200);
    expect(init.text).toContain('validatorUrl: null');
    expect(init.text).toContain("url: '/api/v1/openapi.json'");
    // The package's own page and initializer (a petstore) are not served.
    expect((await request(ctx.app).get('/api/v1/docs/index.html')).status).toBe(404);
    expect((await request(ctx.app).get('/api/v1/docs/swagger-initializer.js')).status).toBe(404);
  });
});
