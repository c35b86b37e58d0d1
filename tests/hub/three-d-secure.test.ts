import request from 'supertest';
import { admin, hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCheckTokenStatus, seedCreate3dsToken } from '../support/hub-seed';
import { startTestContext, type TestContext } from '../support/test-context';

/** 3-D Secure tokens: an authorization the customer confirms with the bank's challenge, captured by a charge. */

const KEY = 'sk_test_hub_3ds_vendor';

let ctx: TestContext;
let merchant: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY] });
  merchant = await hubMerchant(ctx, { stripeKey: KEY });
  // As a merchant does it: the vendor's webhook URL into its Stripe account, then that endpoint's secret into the vendor.
  const vendor = (await admin(ctx).get(`/merchants/${merchant.id}/vendors`)).body.data[0];
  const endpoint = ctx.emulator.addWebhookEndpoint(vendor.webhook_url.replace(ctx.config.publicBaseUrl, ctx.baseUrl), vendor.webhook_events, { apiKey: KEY });
  expect(
    (await admin(ctx).put(`/merchants/${merchant.id}/vendors/${merchant.vendorId}/webhook-secret`, { stripe_webhook_secret: endpoint.secret })).status,
  ).toBe(200);
});
afterAll(async () => {
  await ctx.close();
});
afterEach(async () => {
  ctx.emulator.releaseWebhooks();
  await ctx.emulator.settleWebhooks();
});

const api = () => hubApi(ctx, merchant.secretKey);
const status = async (token: string) => (await hubApi(ctx, merchant.publicKey).getWithBody('/token', seedCheckTokenStatus(merchant.vendorId, token))).body.data;
/** The customer's browser on the emulator's challenge page: pressing pass or fail posts the form. */
const answerChallenge = (authUrl: string, result: 'pass' | 'fail') => {
  const url = new URL(authUrl);
  return request(url.origin).post(url.pathname).type('form').send({ result });
};
const chargeBody = (token: string, overrides: Record<string, unknown> = {}) => ({
  payment_vendor: merchant.vendorId,
  token,
  transaction_detail: {
    merchant_ref_code: `3ds-${Math.random().toString(36).slice(2)}`,
    amount: 10000,
    service_charge: 0,
    description: 'Booking',
    currency: 'IDR',
    ...overrides,
  },
});

describe('3-D Secure tokens', () => {
  test('the seed example: review with an auth_url; after the challenge is passed on the emulator page the customer lands on return_url and the token is verified', async () => {
    const res = await hubApi(ctx, merchant.publicKey).post('/token/3ds', seedCreate3dsToken(merchant.vendorId));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      message: 'Tokenize successfully',
      data: { token: expect.stringMatching(/^tok_/), status: 'review', auth_url: expect.stringMatching(/^http/) },
    });
    const { token, auth_url: authUrl } = res.body.data;
    const pi = (await ctx.db('hub_tokens').where({ id: token }).first()).payment_intent_id;
    const create = ctx.emulator.requests().find((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    expect(create?.params).toMatchObject({
      amount: '1000000',
      currency: 'idr',
      capture_method: 'manual',
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    });
    expect(await status(token)).toMatchObject({ chargeable: false, status: 'review' });

    ctx.emulator.pauseWebhooks();
    const page = await answerChallenge(authUrl, 'pass');
    expect(page.status).toBe(303);
    const back = new URL(page.headers.location);
    expect(back.pathname).toBe(`/api/v1/transactions/token/3ds/return/${token}`);
    const landing = await request(ctx.app).get(`${back.pathname}${back.search}`);
    expect(landing.status).toBe(302);
    expect(landing.headers.location).toBe(`https://example.com/complete?token=${token}&status=verified`);
    expect(await status(token)).toMatchObject({ chargeable: true, status: 'verified' });
    expect((await ctx.stripe.paymentIntents.retrieve(pi, {}, { apiKey: KEY })).status).toBe('requires_capture');
  });

  test('when the customer never comes back, then the webhook alone verifies the token', async () => {
    const { token, auth_url: authUrl } = (await api().post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
    await answerChallenge(authUrl, 'pass');
    await ctx.emulator.settleWebhooks();
    expect(await status(token)).toMatchObject({ chargeable: true, status: 'verified' });
    const events = await ctx.db('stripe_events').whereLike('outcome', `%hub token ${token}: verified%`);
    expect(events.length).toBeGreaterThan(0);
  });

  test('when the webhook is lost and the browser never returns, then checking the token reads Stripe and says verified', async () => {
    const { token, auth_url: authUrl } = (await api().post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
    await ctx.emulator.settleWebhooks();
    ctx.emulator.loseWebhooks(100);
    await answerChallenge(authUrl, 'pass');
    await ctx.emulator.settleWebhooks();
    ctx.emulator.loseWebhooks(0);
    expect((await ctx.db('hub_tokens').where({ id: token }).first()).status).toBe('review');
    expect(await status(token)).toMatchObject({ chargeable: true, status: 'verified' });
  });

  test('when the challenge is failed, then the token is failed and cannot be charged', async () => {
    const { token, auth_url: authUrl } = (await api().post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
    await answerChallenge(authUrl, 'fail');
    await ctx.emulator.settleWebhooks();
    expect(await status(token)).toMatchObject({ chargeable: false, status: 'failed' });
    const charge = await api().post('/charge', chargeBody(token));
    expect(charge.status).toBe(409);
  });

  test('when a verified token is charged, then its authorization is captured (up to what it holds) and the token is used', async () => {
    const { token, auth_url: authUrl } = (await api().post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
    await answerChallenge(authUrl, 'pass');
    await ctx.emulator.settleWebhooks();
    const tooMuch = await api().post('/charge', chargeBody(token, { amount: 10001 }));
    expect([tooMuch.status, tooMuch.body.errors]).toEqual([400, [{ field: 'transaction_detail.amount', message: expect.stringMatching(/authorized/) }]]);
    const otherCurrency = await api().post('/charge', chargeBody(token, { currency: 'USD', amount: 5 }));
    expect(otherCurrency.body.errors).toEqual([{ field: 'transaction_detail.currency', message: expect.stringMatching(/IDR/) }]);

    const res = await api().post('/charge', chargeBody(token, { amount: 9000 }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      message: 'Charge Credit Card Successfully',
      data: { token, status: 'used', transaction: { Status: 'paid', Total: 9000, Enable3dSecure: true } },
    });
    const pi = res.body.data.transaction.VendorPaymentId;
    expect(await ctx.stripe.paymentIntents.retrieve(pi, {}, { apiKey: KEY })).toMatchObject({ status: 'succeeded', amount_received: 900000 });
    expect(
      ctx.emulator
        .requests()
        .filter((r) => r.method === 'POST' && r.path === `/v1/payment_intents/${pi}/capture`)
        .map((r) => r.params),
    ).toEqual([expect.objectContaining({ amount_to_capture: '900000' })]);
    expect(await status(token)).toMatchObject({ chargeable: false, status: 'used' });
    expect((await api().post('/charge', chargeBody(token))).status).toBe(409);
  });

  test('when return_url is not a URL or a path id holds a NUL byte, then 400 and 404, never a 500', async () => {
    const bad = await api().post('/token/3ds', { ...seedCreate3dsToken(merchant.vendorId), return_url: 'http://a:b:c' });
    expect([bad.status, bad.body.errors]).toEqual([400, [{ field: 'return_url', message: 'must be an http(s) URL' }]]);
    for (const path of ['/%00', '/x%00/refunds/y', '/x/refunds/%00', '/token/3ds/return/%00']) {
      const res = await api().get(path);
      expect([path, res.status, res.body.success]).toEqual([path, 404, false]);
    }
    expect((await admin(ctx).get('/merchants/%00/vendors')).status).toBe(404);
  });

  test('when the card has no 3-D Secure (378282246310005), then the token is skipped and chargeable', async () => {
    const body = seedCreate3dsToken(merchant.vendorId);
    const res = await api().post('/token/3ds', { ...body, credit_card: { ...body.credit_card, account_number: '378282246310005', cvn: '1234' } });
    expect(res.body.data).toMatchObject({ status: 'skipped', auth_url: null });
    expect(await status(res.body.data.token)).toMatchObject({ chargeable: true, status: 'skipped' });
    expect((await api().post('/charge', chargeBody(res.body.data.token))).body.data.transaction.Status).toBe('paid');
  });

  test('when Stripe lets the authorization lapse, then the token is failed, not chargeable', async () => {
    const { token, auth_url: authUrl } = (await api().post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
    await answerChallenge(authUrl, 'pass');
    await ctx.emulator.settleWebhooks();
    const pi = (await ctx.db('hub_tokens').where({ id: token }).first()).payment_intent_id;
    ctx.emulator.expireAuthorization(pi);
    await ctx.emulator.settleWebhooks();
    expect(await status(token)).toMatchObject({ chargeable: false, status: 'failed' });
  });
});
