import { hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCreateTokenOnly } from '../support/hub-seed';
import { startTestContext, type TestContext } from '../support/test-context';

/** Refunds of Hub transactions, through the core's refund use case. */

const KEY = 'sk_test_hub_refund_vendor';
const OTHER_KEY = 'sk_test_hub_refund_other';

let ctx: TestContext;
let merchant: HubMerchant;
let other: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY, OTHER_KEY] });
  const endpoint = ctx.emulator.addWebhookEndpoint(`${ctx.baseUrl}/webhooks/stripe/${ctx.emulator.accountId(KEY)}`, ['*'], { apiKey: KEY });
  merchant = await hubMerchant(ctx, { stripeKey: KEY, webhookSecret: endpoint.secret });
  other = await hubMerchant(ctx, { stripeKey: OTHER_KEY });
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(() => ctx.emulator.clearRequests());

const api = () => hubApi(ctx, merchant.secretKey);
let n = 0;
async function paidTransaction(amount = 100, currency = 'USD'): Promise<string> {
  const token = (await api().post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
  const ref = `refundable-${++n}-${Date.now()}`;
  const res = await api().post('/charge', {
    payment_vendor: merchant.vendorId,
    token,
    transaction_detail: { merchant_ref_code: ref, amount, service_charge: 0, description: 'x', currency },
  });
  expect(res.body.data.transaction.Status).toBe('paid');
  return ref;
}
const refundsAtStripe = () => ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/refunds');

describe('Hub refunds', () => {
  test('when a transaction is refunded in parts, then partially_refunded, then refunded; more than the rest is 409 and never reaches Stripe', async () => {
    const ref = await paidTransaction(100);
    const first = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-r1`, amount: 30, reason: 'late checkout' });
    expect(first.status).toBe(201);
    expect(first.body.data.refund).toMatchObject({
      RefundRefCode: `${ref}-r1`,
      Amount: 30,
      Currency: 'USD',
      Status: 'succeeded',
      VendorRefundId: expect.stringMatching(/^re_/),
    });
    expect(first.body.data.transaction).toMatchObject({ Status: 'partially_refunded', Refunds: [expect.objectContaining({ Amount: 30 })] });
    const tooMuch = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-r2`, amount: 70.01 });
    expect([tooMuch.status, tooMuch.body.message]).toEqual([409, expect.stringMatching(/exceeds the refundable rest of 70.00 USD/)]);
    const rest = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-r3` });
    expect(rest.body.data.refund).toMatchObject({ Amount: 70, Status: 'succeeded' });
    expect(rest.body.data.transaction).toMatchObject({ Status: 'refunded' });
    expect(refundsAtStripe().map((r) => r.params.amount)).toEqual(['3000', '7000']);
    const read = await api().get(`/${ref}/refunds/${ref}-r1`);
    expect(read.body).toMatchObject({ success: true, data: { RefundRefCode: `${ref}-r1`, Status: 'succeeded' } });
    expect((await api().get(`/${ref}`)).body.data.Refunds).toHaveLength(2);
  });

  test('when the same refund_ref_code comes twice, then one refund; with another amount, 409', async () => {
    const ref = await paidTransaction(50);
    const body = { refund_ref_code: `${ref}-once`, amount: 10 };
    const a = await api().post(`/${ref}/refunds`, body);
    const b = await api().post(`/${ref}/refunds`, body);
    expect(b.body.data.refund).toEqual(a.body.data.refund);
    expect(refundsAtStripe()).toHaveLength(1);
    expect((await api().post(`/${ref}/refunds`, { ...body, amount: 11 })).status).toBe(409);
  });

  test('when the input is wrong or the transaction is not refundable or not ours, then 400, 409 or 404', async () => {
    const ref = await paidTransaction(20);
    const bad = await api().post(`/${ref}/refunds`, { amount: 'ten' });
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['amount', 'refund_ref_code']);
    const decimals = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-d`, amount: '1.001' });
    expect([decimals.status, decimals.body.errors]).toEqual([400, [{ field: 'amount', message: 'Invalid amount: USD has only 2 decimals' }]]);
    const token = (
      await api().post('/token', {
        payment_vendor: merchant.vendorId,
        credit_card: { ...seedCreateTokenOnly(merchant.vendorId).credit_card, account_number: '4000000000009995' },
      })
    ).body.data.token;
    await api().post('/charge', {
      payment_vendor: merchant.vendorId,
      token,
      transaction_detail: { merchant_ref_code: `${ref}-declined`, amount: 5, service_charge: 0, description: 'x', currency: 'USD' },
    });
    expect((await api().post(`/${ref}-declined/refunds`, { refund_ref_code: `${ref}-declined-r` })).status).toBe(409);
    expect((await hubApi(ctx, other.secretKey).post(`/${ref}/refunds`, { refund_ref_code: 'mine' })).status).toBe(404);
    expect((await hubApi(ctx, other.secretKey).get(`/${ref}/refunds/${ref}-r1`)).status).toBe(404);
    expect((await api().get(`/${ref}/refunds/nope`)).status).toBe(404);
    expect(refundsAtStripe()).toEqual([]);
  });

  test('when a refund is made in the Stripe Dashboard, then after its webhook it appears in the transaction', async () => {
    const ref = await paidTransaction(40);
    const pi = (await api().get(`/${ref}`)).body.data.VendorPaymentId;
    const dashboard = ctx.emulator.dashboardRefund({ paymentIntent: pi, amount: 1500, reason: 'duplicate' }) as { id: string };
    await ctx.emulator.settleWebhooks();
    expect(refundsAtStripe()).toEqual([]);
    const tx = (await api().get(`/${ref}`)).body.data;
    expect(tx.Refunds[0].VendorRefundId).toBe(dashboard.id);
    expect(tx).toMatchObject({
      Status: 'partially_refunded',
      Refunds: [expect.objectContaining({ Amount: 15, Status: 'succeeded', RefundRefCode: '', Reason: 'duplicate' })],
    });
  });

  test("when a refund gives a reason, then it is kept and shown, sent to Stripe in the metadata, and as Stripe's own reason when it is one of Stripe's", async () => {
    const ref = await paidTransaction(30);
    const words = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-words`, amount: 5, reason: 'The guest left a day early' });
    const stripeWord = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-enum`, amount: 5, reason: 'requested_by_customer' });
    const none = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-none`, amount: 5 });
    expect([words.body.data.refund.Reason, stripeWord.body.data.refund.Reason, none.body.data.refund.Reason]).toEqual([
      'The guest left a day early',
      'requested_by_customer',
      '',
    ]);
    expect(refundsAtStripe().map((r) => [r.params.reason, (r.params.metadata as Record<string, string> | undefined)?.reason])).toEqual([
      [undefined, 'The guest left a day early'],
      ['requested_by_customer', 'requested_by_customer'],
      [undefined, undefined],
    ]);
    const rows = await ctx
      .db('refunds')
      .whereIn('reference', [`${ref}-words`, `${ref}-enum`, `${ref}-none`])
      .orderBy('id')
      .pluck('reason');
    expect(rows).toEqual(['The guest left a day early', 'requested_by_customer', null]);
    expect((await api().get(`/${ref}/refunds/${ref}-words`)).body.data.Reason).toBe('The guest left a day early');
    const tooLong = await api().post(`/${ref}/refunds`, { refund_ref_code: `${ref}-long`, amount: 1, reason: 'x'.repeat(501) });
    expect([tooLong.status, tooLong.body.errors.map((e: { field: string }) => e.field)]).toEqual([400, ['reason']]);
  });
});
