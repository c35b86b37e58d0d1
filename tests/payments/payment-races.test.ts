import { accountWithCard, stripeCustomerOf } from '../support/card-setup';
import { credit, newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

// Races need parallel connections; PGlite has one, so these prove nothing there and are skipped.
const onPostgres = Boolean(process.env.DATABASE_URL);
if (!onPostgres) {
  describe('payment races (skipped: needs PostgreSQL; PGlite has one connection, so races cannot happen there)', () => {
    test.skip('20 concurrent identical pays and 50 concurrent partial refunds', () => undefined);
  });
}

(onPostgres ? describe : describe.skip)('payment races on PostgreSQL', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  test('when the same pay request arrives 20 times at once, then one PaymentIntent, one charge row and 20 identical answers', async () => {
    const { aid } = await accountWithCard(ctx);
    ctx.emulator.clearRequests();
    const reference = newReference();
    const answers = await Promise.all(Array.from({ length: 20 }, () => pay(ctx, { aid, amount: '42.00', reference })));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(answers[0].body.details).toMatchObject({ status: 'Completed', transaction_id: expect.stringMatching(/^pi_/) });
    expect(await ctx.db('charges').where({ reference })).toHaveLength(1);
    const customer = await stripeCustomerOf(ctx, aid);
    const intents = await ctx.stripe.paymentIntents.list({ customer, limit: 100 });
    expect(intents.data).toHaveLength(1);
  });

  test('when 50 partial refunds that add up to more than the charge arrive at once, then the accepted ones fit and Stripe never saw an over-refund', async () => {
    const { aid } = await accountWithCard(ctx);
    const charge = await pay(ctx, { aid, amount: '100.00' });
    const pi = charge.body.details.transaction_id as string;
    ctx.emulator.clearRequests();
    const answers = await Promise.all(Array.from({ length: 50 }, () => credit(ctx, { transaction_id: pi, amount: '3.00' })));
    const accepted = answers.filter((a) => a.body.status === 1);
    const refused = answers.filter((a) => a.body.status === 0);
    expect(accepted).toHaveLength(33); // 33 x 3.00 = 99.00 <= 100.00; a 34th would exceed it
    expect(accepted.every((a) => a.body.details.status === 'Completed')).toBe(true);
    expect(refused.every((a) => /exceeds the refundable rest of 1\.00 USD/.test(a.body.details.message))).toBe(true);

    const refundCalls = ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
    expect(refundCalls).toHaveLength(33);
    expect(refundCalls.every((r) => r.status === 200)).toBe(true);
    const atStripe = await ctx.stripe.refunds.list({ payment_intent: pi, limit: 100 });
    expect(atStripe.data.reduce((sum, r) => sum + r.amount, 0)).toBe(9900);
  });
});
