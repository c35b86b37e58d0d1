import { hubApi, hubMerchant } from '../support/hub-requests';
import { seedCreate3dsToken, seedCreateTokenAndCharge, seedCreateTokenOnly } from '../support/hub-seed';
import request from 'supertest';
import { startTestContext, type TestContext } from '../support/test-context';

// Races need real parallel connections: PGlite is one connection that serialises every query, so
// this would pass there without proving anything. It runs on PostgreSQL (DATABASE_URL, as .ci/run does).
const onPostgres = Boolean(process.env.DATABASE_URL);
if (!onPostgres) {
  describe('Hub races (skipped: needs PostgreSQL; PGlite has one connection, so races cannot happen there)', () => {
    test.skip('20 concurrent charges with one merchant_ref_code', () => undefined);
    test.skip('50 concurrent partial refunds of one transaction', () => undefined);
    test.skip('20 concurrent tokenize-and-charge requests with one merchant_ref_code', () => undefined);
    test.skip('one 3-D Secure token charged under two merchant_ref_codes at once', () => undefined);
  });
}

(onPostgres ? describe : describe.skip)('Hub races on PostgreSQL', () => {
  const KEY = 'sk_test_hub_race_vendor';
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ otherStripeKeys: [KEY] });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  test('when the same merchant_ref_code is charged 20 times at once, then one PaymentIntent, one transaction and 20 identical answers', async () => {
    const merchant = await hubMerchant(ctx, { stripeKey: KEY });
    const api = hubApi(ctx, merchant.secretKey);
    const token = (await api.post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    ctx.emulator.clearRequests();
    const body = {
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: { merchant_ref_code: 'race-1', amount: 99, service_charge: 1, description: 'race', currency: 'SGD' },
    };
    const answers = await Promise.all(Array.from({ length: 20 }, () => api.post('/charge', body)));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(answers[0].body.data.transaction).toMatchObject({ Status: 'paid', Total: 100 });
    const created = ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    expect(new Set(created.map((r) => r.idempotencyKey)).size).toBe(1);
    const intents = new Set((await ctx.db('charges').where({ owner_id: merchant.id })).map((c) => c.payment_intent_id));
    expect(intents.size).toBe(1);
    expect(await ctx.db('hub_transactions').where({ owner_id: merchant.id, merchant_ref_code: 'race-1' })).toHaveLength(1);
  });

  test('when one tokenize-and-charge is sent 20 times at once, then one PaymentIntent and 20 identical answers', async () => {
    const merchant = await hubMerchant(ctx, { stripeKey: KEY });
    const api = hubApi(ctx, merchant.publicKey);
    ctx.emulator.clearRequests();
    const answers = await Promise.all(Array.from({ length: 20 }, () => api.post('/token', seedCreateTokenAndCharge(merchant.vendorId))));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(answers[0].body.data.transaction).toMatchObject({ Status: 'paid', MerchantRefCode: '84b88501' });
    const created = ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    expect(new Set(created.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(await ctx.db('charges').where({ owner_id: merchant.id })).toHaveLength(1);
  });

  test('when one 3-D Secure token is charged under two merchant_ref_codes at once, then one capture, and the other is a plain 409', async () => {
    const merchant = await hubMerchant(ctx, { stripeKey: KEY });
    const api = hubApi(ctx, merchant.secretKey);
    const { token, auth_url: authUrl } = (await api.post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
    const url = new URL(authUrl);
    await request(url.origin).post(url.pathname).type('form').send({ result: 'pass' });
    const body = (ref: string) => ({
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: { merchant_ref_code: ref, amount: 10000, service_charge: 0, description: 'one hold', currency: 'IDR' },
    });
    const answers = await Promise.all([api.post('/charge', body('hold-a')), api.post('/charge', body('hold-b'))]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 200)?.body.data.transaction.Status).toBe('paid');
    expect(await ctx.db('charges').where({ owner_id: merchant.id })).toHaveLength(1);
    expect(await ctx.db('hub_transactions').where({ owner_id: merchant.id })).toHaveLength(1);
  });

  test('when 50 partial refunds of one transaction arrive at once, then those accepted fit within Total, the rest are refused plainly, and Stripe sees no over-refund', async () => {
    const merchant = await hubMerchant(ctx, { stripeKey: KEY });
    const api = hubApi(ctx, merchant.secretKey);
    const token = (await api.post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    const paid = await api.post('/charge', {
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: { merchant_ref_code: 'refund-race', amount: 100, service_charge: 0, description: 'race', currency: 'USD' },
    });
    expect(paid.body.data.transaction.Status).toBe('paid');
    ctx.emulator.clearRequests();
    // 50 refunds of 3.00 against 100.00: at most 33 fit.
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => api.post('/refund-race/refunds', { refund_ref_code: `rr-${i}`, amount: 3 })));
    const accepted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(accepted).toHaveLength(33);
    expect(new Set(refused.map((a) => [a.status, a.body.message].join(' ')))).toEqual(
      new Set(['409 Refund of 3.00 USD exceeds the refundable rest of 1.00 USD']),
    );
    const atStripe = ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
    expect(atStripe).toHaveLength(33);
    expect(atStripe.reduce((sum, r) => sum + Number(r.params.amount), 0)).toBe(9900);
    expect((await api.get('/refund-race')).body.data.Status).toBe('partially_refunded');
  });
});
