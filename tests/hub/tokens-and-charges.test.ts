import { randomInt } from 'node:crypto';
import { hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCheckTokenStatus, seedCreateCharge, seedCreateTokenAndCharge, seedCreateTokenOnly } from '../support/hub-seed';
import { startTestContext, type TestContext } from '../support/test-context';

/** The seed's flows against the service, with the seed's bodies; each vendor its own emulator account. */

const VENDOR_KEY = 'sk_test_hub_vendor_main';
const OTHER_VENDOR_KEY = 'sk_test_hub_vendor_other';

let ctx: TestContext;
let merchant: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [VENDOR_KEY, OTHER_VENDOR_KEY] });
  merchant = await hubMerchant(ctx, { stripeKey: VENDOR_KEY });
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(() => ctx.emulator.clearRequests());

const api = (key = merchant.secretKey) => hubApi(ctx, key);
const posts = () => ctx.emulator.requests().filter((r) => r.method === 'POST');
const refCode = () => `order-${randomInt(1e9)}`;
const detail = (overrides: Record<string, unknown> = {}) => ({
  merchant_ref_code: refCode(),
  amount: 150,
  service_charge: 2.5,
  description: 'Room 101',
  currency: 'USD',
  email: 'guest@example.com',
  ...overrides,
});
const card = (number: string) => ({ ...seedCreateTokenOnly(merchant.vendorId).credit_card, account_number: number });

describe('the seed examples, as written', () => {
  test('create token only: "Tokenize successfully", verified, no transaction; Stripe holds a verified card and we keep its last 4 only', async () => {
    const res = await api(merchant.publicKey).post('/token', seedCreateTokenOnly(merchant.vendorId));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      message: 'Tokenize successfully',
      data: { token: expect.stringMatching(/^tok_[0-9A-Za-z]{24}$/), status: 'verified', transaction: null },
    });
    const row = await ctx.db('hub_tokens').where({ id: res.body.data.token }).first();
    expect(row).toMatchObject({
      owner_id: merchant.id,
      vendor_id: merchant.vendorId,
      kind: 'card',
      status: 'verified',
      brand: 'jcb',
      last4: '0000',
      exp_month: 12,
      exp_year: 2040,
    });
    expect(posts().map((r) => r.path)).toEqual(['/v1/payment_methods', '/v1/customers', '/v1/setup_intents']);
    expect(posts().every((r) => r.account === ctx.emulator.accountId(VENDOR_KEY))).toBe(true);
    expect(posts()[2].params).toMatchObject({ confirm: 'true', usage: 'off_session' });
  });

  test('create token and charge: "Tokenize and Charge Successfully", paid, Total = Amount + ServiceCharge, IDR 100000 reaches Stripe as 10000000', async () => {
    const res = await api(merchant.publicKey).post('/token', seedCreateTokenAndCharge(merchant.vendorId));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, message: 'Tokenize and Charge Successfully', data: { status: 'verified' } });
    const tx = res.body.data.transaction;
    expect(tx).toMatchObject({
      ClientId: merchant.id,
      Description: 'Invoice 84b88501',
      Amount: 100000,
      ServiceCharge: 0,
      Total: 100000,
      Currency: 'IDR',
      PaymentVendor: merchant.vendorId,
      Status: 'paid',
      MerchantRefCode: '84b88501',
      WebhookUrl: 'https://clientpage.io/webhook/84b88501',
      PaymentFailReason: '',
      SendEmail: true,
      Enable3dSecure: false,
      VendorPaymentId: expect.stringMatching(/^pi_/),
      VendorPaymentChannel: 'VISA',
      VendorPaymentMethod: 'CREDIT_CARD',
      Refunds: null,
    });
    for (const field of [
      'ID',
      'FirstName',
      'LastName',
      'Mobile',
      'Email',
      'PaymentMethod',
      'Lang',
      'PaymentLinkType',
      'ExpiredAt',
      'CreatedAt',
      'UpdatedAt',
      'VendorId',
      'VendorOrderId',
      'VendorPaidAt',
    ]) {
      expect(Object.hasOwn(tx, field)).toBe(true);
    }
    const create = posts().find((r) => r.path === '/v1/payment_intents');
    expect(create?.params).toMatchObject({ amount: '10000000', currency: 'idr', off_session: 'true', confirm: 'true', receipt_email: 'dev@bookandlink.com' });
    // The same request again: the same answer, and the card is not tokenized a second time.
    ctx.emulator.clearRequests();
    const again = await api(merchant.publicKey).post('/token', seedCreateTokenAndCharge(merchant.vendorId));
    expect(again.body).toEqual(res.body);
    expect(posts()).toEqual([]);
    const charge = await ctx.db('charges').where({ owner_id: merchant.id, reference: '84b88501' }).first();
    expect(charge).toMatchObject({ status: 'succeeded', currency: 'IDR', channel: 'hub', payment_intent_id: tx.VendorPaymentId });
    expect(Number(charge.amount)).toBe(10000000);
  });

  test('check token status (a JSON body on GET, as the seed sends it) and create charge, with the seed bodies', async () => {
    const token = (await api(merchant.publicKey).post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    const status = await api(merchant.publicKey).getWithBody('/token', seedCheckTokenStatus(merchant.vendorId, token));
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      success: true,
      message: 'Token check result',
      data: { chargeable: true, description: expect.any(String), status: 'verified', token },
    });
    const byQuery = await api(merchant.publicKey).get(`/token?payment_vendor=${merchant.vendorId}&token=${token}`);
    expect(byQuery.body.data).toEqual(status.body.data);

    const charged = await api().post('/charge', seedCreateCharge(merchant.vendorId, token));
    expect(charged.status).toBe(200);
    expect(charged.body).toMatchObject({
      success: true,
      message: 'Charge Credit Card Successfully',
      data: { token, transaction: { MerchantRefCode: 'TEST_STG-500000007', Status: 'paid', Amount: 200000, Total: 200000, Currency: 'IDR' } },
    });
    // The card token stays chargeable: a saved card, charged off-session as often as the merchant asks.
    expect((await api(merchant.publicKey).getWithBody('/token', seedCheckTokenStatus(merchant.vendorId, token))).body.data.status).toBe('verified');
    const read = await api().get('/TEST_STG-500000007');
    expect(read.body).toMatchObject({ success: true, data: { MerchantRefCode: 'TEST_STG-500000007', Status: 'paid' } });
  });
});

describe('money and idempotency', () => {
  test('when JPY 500 is charged, then Stripe gets 500 (no decimals); a second decimal place is refused for it', async () => {
    const token = (await api().post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    const ok = await api().post('/charge', {
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: detail({ amount: 500, service_charge: 0, currency: 'JPY' }),
    });
    expect(ok.body.data.transaction).toMatchObject({ Amount: 500, Total: 500, Currency: 'JPY', Status: 'paid' });
    expect(posts().find((r) => r.path === '/v1/payment_intents')?.params).toMatchObject({ amount: '500', currency: 'jpy' });
    const bad = await api().post('/charge', {
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: detail({ amount: '500.5', service_charge: 0, currency: 'JPY' }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'transaction_detail.amount', message: 'Invalid amount: JPY has no decimals' }]);
  });

  test('when the same merchant_ref_code comes again, then the same transaction answers and Stripe is charged once; with another amount, 409', async () => {
    const token = (await api().post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    const body = { payment_vendor: merchant.vendorId, token, transaction_detail: detail() };
    const first = await api().post('/charge', body);
    const again = await api().post('/charge', body);
    expect(again.body).toEqual(first.body);
    expect(first.body.data.transaction).toMatchObject({ Amount: 150, ServiceCharge: 2.5, Total: 152.5, Status: 'paid' });
    expect(posts().filter((r) => r.path === '/v1/payment_intents')).toHaveLength(1);
    const other = await api().post('/charge', { ...body, transaction_detail: { ...body.transaction_detail, amount: 151 } });
    expect([other.status, other.body.success, other.body.message]).toEqual([409, false, expect.stringMatching(/merchant_ref_code/)]);
  });

  test('when transaction_detail is wrong, then 400 Validation failed names each field and nothing reaches Stripe', async () => {
    const token = (await api().post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    ctx.emulator.clearRequests();
    const res = await api().post('/charge', {
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: { amount: -1, service_charge: 'x', currency: 'EUR', lang: 'fr', webhook_url: 'ftp://x', email: 'nope' },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Validation failed');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(
      [
        'transaction_detail.amount',
        'transaction_detail.currency',
        'transaction_detail.description',
        'transaction_detail.email',
        'transaction_detail.lang',
        'transaction_detail.merchant_ref_code',
        'transaction_detail.service_charge',
        'transaction_detail.webhook_url',
      ].sort(),
    );
    expect(posts()).toEqual([]);
  });
});

describe('declines', () => {
  test('when the card is declined at tokenization (4000000000000002), then 402 and a failed token', async () => {
    const res = await api().post('/token', { payment_vendor: merchant.vendorId, credit_card: card('4000000000000002') });
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ success: false, data: { status: 'failed', transaction: null } });
    expect(res.body.message).toMatch(/declined/i);
    expect((await ctx.db('hub_tokens').where({ id: res.body.data.token }).first()).status).toBe('failed');
  });

  test('when Radar blocks the card (4100000000000019), then 402 and a fraud token', async () => {
    const res = await api().post('/token', { payment_vendor: merchant.vendorId, credit_card: card('4100000000000019') });
    expect(res.status).toBe(402);
    expect(res.body.data.status).toBe('fraud');
  });

  test('when the charge is declined for insufficient funds (4000000000009995), then 402, Status failed, PaymentFailReason says why', async () => {
    const token = (await api().post('/token', { payment_vendor: merchant.vendorId, credit_card: card('4000000000009995') })).body.data.token;
    const res = await api().post('/charge', { payment_vendor: merchant.vendorId, token, transaction_detail: detail() });
    expect(res.status).toBe(402);
    expect(res.body.success).toBe(false);
    expect(res.body.data.transaction.Status).toBe('failed');
    expect(res.body.data.transaction.PaymentFailReason).toMatch(/insufficient funds/i);
  });
});

describe('language and receipts', () => {
  const customerOf = async (token: string) => {
    const row = await ctx.db('customers').where({ owner_id: merchant.id, external_ref: token }).first();
    return ctx.stripe.customers.retrieve(row.stripe_customer_id, {}, { apiKey: VENDOR_KEY });
  };

  test('when lang comes with tokenize-and-charge or with a charge, then it is the Stripe customer preferred locale; send_email sets the receipt e-mail', async () => {
    const both = await api().post('/token', {
      ...seedCreateTokenOnly(merchant.vendorId),
      transaction_detail: detail({ lang: 'zh-cn', send_email: true, email: 'guest@example.com' }),
    });
    expect(both.body.data.transaction).toMatchObject({ Status: 'paid', Lang: 'zh-cn', SendEmail: true });
    expect(await customerOf(both.body.data.token)).toMatchObject({ preferred_locales: ['zh'] });
    expect(posts().find((r) => r.path === '/v1/payment_intents')?.params).toMatchObject({ receipt_email: 'guest@example.com' });

    const token = (await api().post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
    ctx.emulator.clearRequests();
    const charged = await api().post('/charge', { payment_vendor: merchant.vendorId, token, transaction_detail: detail({ lang: 'en-GB', send_email: false }) });
    expect(charged.body.data.transaction).toMatchObject({ Status: 'paid', Lang: 'en-gb' });
    expect(await customerOf(token)).toMatchObject({ preferred_locales: ['en-GB'] });
    expect(posts().find((r) => r.path === '/v1/payment_intents')?.params.receipt_email).toBeUndefined();
  });
});
