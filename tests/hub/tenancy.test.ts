import request from 'supertest';
import { createStripeClient } from '../../app/stripe';
import { admin, hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCheckTokenStatus, seedCreateTokenOnly } from '../support/hub-seed';
import { startTestContext, type TestContext } from '../support/test-context';

/** A merchant reaches only its own vendors, tokens and transactions; keys say what they may do. */

const KEY_A = 'sk_test_hub_tenant_a';
const KEY_A2 = 'sk_test_hub_tenant_a_second';
const KEY_B = 'sk_test_hub_tenant_b';
const KEY_STRICT = 'sk_test_hub_tenant_strict';

let ctx: TestContext;
let a: HubMerchant;
let b: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY_A, KEY_A2, KEY_B, KEY_STRICT] });
  a = await hubMerchant(ctx, { stripeKey: KEY_A });
  b = await hubMerchant(ctx, { stripeKey: KEY_B });
});
afterAll(async () => {
  await ctx.close();
});

const chargeBody = (vendorId: string, token: string, ref = `order-${Math.random().toString(36).slice(2)}`) => ({
  payment_vendor: vendorId,
  token,
  transaction_detail: { merchant_ref_code: ref, amount: 20, service_charge: 0, description: 'x', currency: 'USD' },
});

describe('tenancy', () => {
  test("when merchant A names B's vendor, token or transaction, then 404 every time, and nothing moves", async () => {
    const bToken = (await hubApi(ctx, b.secretKey).post('/token', seedCreateTokenOnly(b.vendorId))).body.data.token;
    const bCharge = await hubApi(ctx, b.secretKey).post('/charge', chargeBody(b.vendorId, bToken, 'b-order-1'));
    expect(bCharge.body.data.transaction.Status).toBe('paid');
    const asA = hubApi(ctx, a.secretKey);
    const answers = [
      await asA.post('/token', seedCreateTokenOnly(b.vendorId)),
      await asA.getWithBody('/token', seedCheckTokenStatus(b.vendorId, bToken)),
      await asA.getWithBody('/token', seedCheckTokenStatus(a.vendorId, bToken)),
      await asA.post('/charge', chargeBody(a.vendorId, bToken)),
      await asA.post('/charge', chargeBody(b.vendorId, bToken)),
      await asA.get('/b-order-1'),
    ];
    expect(answers.map((r) => [r.status, r.body.success])).toEqual(answers.map(() => [404, false]));
    expect(await ctx.db('charges').where({ owner_id: a.id })).toEqual([]);
  });

  test('when the public key charges or reads a transaction, then it is refused; without a key or with a wrong one, 401 Unauthorized', async () => {
    const token = (await hubApi(ctx, a.publicKey).post('/token', seedCreateTokenOnly(a.vendorId))).body.data.token;
    expect((await hubApi(ctx, a.publicKey).post('/charge', chargeBody(a.vendorId, token))).status).toBe(403);
    expect((await hubApi(ctx, a.publicKey).get('/some-order')).status).toBe(403);
    for (const res of [
      await request(ctx.app).post('/api/v1/transactions/token').send(seedCreateTokenOnly(a.vendorId)),
      await hubApi(ctx, 'hub_sk_test_00000000000000000000000000000000').post('/token', seedCreateTokenOnly(a.vendorId)),
      await hubApi(ctx, 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9').get('/x'),
    ]) {
      expect([res.status, res.body]).toEqual([401, { success: false, message: 'Unauthorized', data: null }]);
    }
  });

  test('when a key is rotated, then the new key works beside the old until the old is revoked', async () => {
    const issued = await admin(ctx).post(`/merchants/${a.id}/keys`, { kind: 'secret' });
    expect(issued.status).toBe(201);
    const fresh = issued.body.data.key;
    for (const key of [a.secretKey, fresh]) expect((await hubApi(ctx, key).post('/token', seedCreateTokenOnly(a.vendorId))).status).toBe(200);
    const keys = (await admin(ctx).get('/merchants')).body.data.find((m: { id: string }) => m.id === a.id).keys;
    const old = keys.find((k: { prefix: string }) => a.secretKey.startsWith(k.prefix));
    expect((await admin(ctx).delete(`/merchants/${a.id}/keys/${old.id}`)).status).toBe(200);
    expect((await hubApi(ctx, a.secretKey).post('/token', seedCreateTokenOnly(a.vendorId))).status).toBe(401);
    expect((await hubApi(ctx, fresh).post('/token', seedCreateTokenOnly(a.vendorId))).status).toBe(200);
    a = { ...a, secretKey: fresh };
  });

  test("when a merchant has two vendors with different Stripe keys, then each vendor's objects live in its own account, and a token of one charged through the other is 404", async () => {
    const second = await admin(ctx).post(`/merchants/${a.id}/vendors`, { stripe_secret_key: KEY_A2, allow_raw_card_data: true });
    const vendor2 = second.body.data.id;
    ctx.emulator.clearRequests();
    const t1 = (await hubApi(ctx, a.secretKey).post('/token', seedCreateTokenOnly(a.vendorId))).body.data.token;
    const t2 = (await hubApi(ctx, a.secretKey).post('/token', seedCreateTokenOnly(vendor2))).body.data.token;
    const accounts = new Set(
      ctx.emulator
        .requests()
        .filter((r) => r.method === 'POST')
        .map((r) => r.account),
    );
    expect(accounts).toEqual(new Set([ctx.emulator.accountId(KEY_A), ctx.emulator.accountId(KEY_A2)]));
    expect((await hubApi(ctx, a.secretKey).post('/charge', chargeBody(vendor2, t1))).status).toBe(404);
    expect((await hubApi(ctx, a.secretKey).post('/charge', chargeBody(vendor2, t2))).body.data.transaction.Status).toBe('paid');
  });

  test('when a vendor is not flagged for raw card data, then a credit_card is refused with the reason and a Stripe.js payment_method is accepted', async () => {
    const strict = await admin(ctx).post(`/merchants/${a.id}/vendors`, { stripe_secret_key: KEY_STRICT });
    const vendorId = strict.body.data.id;
    ctx.emulator.clearRequests();
    const raw = await hubApi(ctx, a.secretKey).post('/token', seedCreateTokenOnly(vendorId));
    expect(raw.status).toBe(400);
    expect(raw.body.errors).toEqual([{ field: 'credit_card', message: expect.stringMatching(/raw card data.*payment_method/) }]);
    expect(ctx.emulator.requests()).toEqual([]);
    // What Stripe.js does in the customer's browser: a PaymentMethod made with the vendor's publishable side.
    const browser = createStripeClient({ secretKey: KEY_STRICT, apiBase: ctx.config.stripe.apiBase as URL, timeoutMs: 10000, maxNetworkRetries: 0 });
    const pm = await browser.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    const ok = await hubApi(ctx, a.publicKey).post('/token', { payment_vendor: vendorId, payment_method: pm.id });
    expect(ok.body).toMatchObject({ success: true, data: { status: 'verified' } });
  });
});
