import request from 'supertest';
import { admin, hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCreate3dsToken } from '../support/hub-seed';
import { startTestContext, type TestContext } from '../support/test-context';

/** Each vendor's Stripe webhooks at its own path, verified with its own secret; the seed's bare path finds the vendor by its secret. */

const KEY_A = 'sk_test_hub_hooks_a';
const KEY_B = 'sk_test_hub_hooks_b';
const KEY_C = 'sk_test_hub_hooks_c';
const SECRET_A = 'whsec_vendor_a_secret_0123456789';
const SECRET_B = 'whsec_vendor_b_secret_0123456789';

let ctx: TestContext;
let a: HubMerchant;
let b: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY_A, KEY_B, KEY_C] });
  a = await hubMerchant(ctx, { stripeKey: KEY_A, webhookSecret: SECRET_A });
  b = await hubMerchant(ctx, { stripeKey: KEY_B, webhookSecret: SECRET_B });
});
afterAll(async () => {
  await ctx.close();
});

/** A 3-D Secure token of A whose challenge was passed while no webhook reached us: still review in our rows. */
async function reviewTokenOfA(): Promise<{ token: string; pi: string }> {
  const { token, auth_url: authUrl } = (await hubApi(ctx, a.secretKey).post('/token/3ds', seedCreate3dsToken(a.vendorId))).body.data;
  const url = new URL(authUrl);
  await request(url.origin).post(url.pathname).type('form').send({ result: 'pass' });
  const pi = (await ctx.db('hub_tokens').where({ id: token }).first()).payment_intent_id;
  return { token, pi };
}

const event = (pi: string) =>
  JSON.stringify({
    id: `evt_${Math.random().toString(36).slice(2)}`,
    object: 'event',
    type: 'payment_intent.amount_capturable_updated',
    livemode: false,
    data: { object: { id: pi, object: 'payment_intent' } },
  });
const post = (path: string, payload: string, secret: string) =>
  request(ctx.app)
    .post(path)
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload, secret }))
    .send(payload);

test("when an event of vendor A is posted to vendor B's endpoint, then 400 and nothing moves; at A's own endpoint it moves A's token", async () => {
  const { token, pi } = await reviewTokenOfA();
  const payload = event(pi);
  expect((await post(`/api/v1/hook/stripe/${b.vendorId}`, payload, SECRET_A)).status).toBe(400);
  expect((await ctx.db('hub_tokens').where({ id: token }).first()).status).toBe('review');
  expect((await post('/api/v1/hook/stripe/000000000000000000000000', payload, SECRET_A)).status).toBe(404);
  const own = await post(`/api/v1/hook/stripe/${a.vendorId}`, payload, SECRET_A);
  expect(own.status).toBe(200);
  expect((await ctx.db('hub_tokens').where({ id: token }).first()).status).toBe('verified');
});

test("when an event is posted to the seed's bare path, then the vendor whose secret signed it is found and only its rows are touched", async () => {
  const { token, pi } = await reviewTokenOfA();
  const payload = event(pi);
  const res = await post('/api/v1/hook/stripe', payload, SECRET_A);
  expect(res.status).toBe(200);
  expect((await ctx.db('hub_tokens').where({ id: token }).first()).status).toBe('verified');
  const recorded = await ctx.db('stripe_events').where({ id: JSON.parse(payload).id });
  const doorA = await ctx.deps.stripeAccounts.forStripeAccount(ctx.emulator.accountId(KEY_A));
  expect(recorded.map((e) => Number(e.stripe_account))).toEqual([doorA?.accountId]);
  expect((await post('/api/v1/hook/stripe', event(pi), 'whsec_nobody_knows_this_one')).status).toBe(400);
});

test('when the admin API shows a vendor, then it names the URL and the events to paste into the Stripe Dashboard', async () => {
  const vendors = (await admin(ctx).get(`/merchants/${a.id}/vendors`)).body.data;
  expect(vendors[0]).toMatchObject({
    webhook_url: `${ctx.config.publicBaseUrl}/api/v1/hook/stripe/${a.vendorId}`,
    webhook_events: expect.arrayContaining(['invoice.paid', 'charge.expired', 'charge.failed', 'charge.refunded', 'payment_intent.amount_capturable_updated']),
  });
});

test("when an invoice of the vendor's Stripe account is paid, then Stripe's invoice.paid reaches the vendor's endpoint, verifies, and is recorded for that account only", async () => {
  const c = await hubMerchant(ctx, { stripeKey: KEY_C });
  const endpoint = ctx.emulator.addWebhookEndpoint(`${ctx.baseUrl}/api/v1/hook/stripe/${c.vendorId}`, ['invoice.paid'], { apiKey: KEY_C });
  expect((await admin(ctx).put(`/merchants/${c.id}/vendors/${c.vendorId}/webhook-secret`, { stripe_webhook_secret: endpoint.secret })).status).toBe(200);
  const customer = await ctx.stripe.customers.create({ email: 'billing@example.com' }, { apiKey: KEY_C });
  const invoice = ctx.emulator.payInvoice({ customer: customer.id, amount: 4200, currency: 'usd' }) as { id: string };
  await ctx.emulator.settleWebhooks();
  const delivered = ctx.emulator.deliveries().filter((d) => d.endpointId === endpoint.id);
  expect(delivered.map((d) => [d.type, d.status])).toEqual([['invoice.paid', 200]]);
  const rows = await ctx.db('stripe_events').where({ type: 'invoice.paid', object_id: invoice.id });
  const doorC = await ctx.deps.stripeAccounts.forStripeAccount(ctx.emulator.accountId(KEY_C));
  expect(rows.map((r) => [Number(r.stripe_account), r.outcome])).toEqual([[doorC?.accountId, 'recorded: the service makes no invoices']]);
});
