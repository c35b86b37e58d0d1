import { reconcileOnce } from '../../app/payments';
import { accountWithCard, okPageJson, startIframeSetup, stripeCustomerOf } from '../support/card-setup';
import { credit, newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';
import { handshakeRows } from '../support/handshake-rows';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});
afterEach(async () => {
  ctx.emulator.setRefundMode('immediate');
  ctx.emulator.loseWebhooks(0);
  await ctx.emulator.settleWebhooks();
});

const MIN = 60;

describe('the reconciler', () => {
  test('when Stripe charged but every answer was lost (and its webhooks too), then the reconciler completes the charge without a second one', async () => {
    const { aid } = await accountWithCard(ctx);
    const customer = await stripeCustomerOf(ctx, aid);
    ctx.emulator.loseWebhooks(20);
    // Stripe acts, then the connection drops; stripe-node's two retries (same key) are dropped too.
    ctx.emulator.injectFault({ type: 'drop_after_acting', count: 3, method: 'POST', path: '/v1/payment_intents' });
    const reference = newReference();
    const paid = await pay(ctx, { aid, amount: '15.00', reference });
    expect(paid.body.details).toMatchObject({ status: 'Pending', transaction_id: null });
    expect((await ctx.stripe.paymentIntents.list({ customer })).data).toHaveLength(1);

    ctx.clock.advance(3 * MIN);
    const report = await reconcileOnce(ctx.deps);
    expect(report.charges).toBeGreaterThanOrEqual(1);
    const row = await ctx.db('charges').where({ reference }).first();
    expect(row.status).toBe('succeeded');
    const intents = await ctx.stripe.paymentIntents.list({ customer });
    expect(intents.data).toHaveLength(1);
    expect(row.payment_intent_id).toBe(intents.data[0].id);
    const again = await pay(ctx, { aid, amount: '15.00', reference });
    expect(again.body.details).toMatchObject({ status: 'Completed', transaction_id: intents.data[0].id });
  });

  test('when the charge request never reached Stripe, then the reconciler sends it once with the same key', async () => {
    const { aid } = await accountWithCard(ctx);
    const customer = await stripeCustomerOf(ctx, aid);
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'POST', path: '/v1/payment_intents' });
    const reference = newReference();
    expect((await pay(ctx, { aid, amount: '16.00', reference })).body.details.status).toBe('Pending');
    expect((await ctx.stripe.paymentIntents.list({ customer })).data).toHaveLength(0);
    ctx.clock.advance(3 * MIN);
    await reconcileOnce(ctx.deps);
    expect((await ctx.db('charges').where({ reference }).first()).status).toBe('succeeded');
    expect((await ctx.stripe.paymentIntents.list({ customer })).data).toHaveLength(1);
  });

  test('when a card is saved in Checkout, OkPage never comes and the webhook is lost, then the reconciler records it', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.loseWebhooks(20);
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
    await ctx.emulator.settleWebhooks();
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('open');

    ctx.clock.advance(16 * MIN);
    await reconcileOnce(ctx.deps);
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('completed');
    expect(
      (
        await ctx
          .db('cards')
          .where({ customer_ref: String(setup.aid) })
          .first()
      ).four_digits,
    ).toBe('4242');
    expect((await okPageJson(ctx, setup.txId)).body.details.credit_card).toBe('4242');
  });

  test('when nobody finishes a card setup, then the reconciler marks it expired once Stripe expired the session', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.loseWebhooks(20);
    ctx.clock.advance(16 * MIN);
    await reconcileOnce(ctx.deps);
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('open');
    ctx.clock.advance(24 * 60 * MIN);
    await reconcileOnce(ctx.deps);
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('expired');
  });

  test('when a pending refund settles and its webhooks are lost, then the reconciler records the result', async () => {
    const { aid } = await accountWithCard(ctx);
    const paid = await pay(ctx, { aid, amount: '20.00' });
    ctx.emulator.setRefundMode('pending');
    const refunded = await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: '7.00' });
    expect(refunded.body.details.status).toBe('Pending');
    ctx.emulator.loseWebhooks(20);
    ctx.emulator.settleRefund(refunded.body.details.refund_id, 'failed');
    await ctx.emulator.settleWebhooks();
    ctx.clock.advance(11 * MIN);
    await reconcileOnce(ctx.deps);
    const row = await ctx.db('refunds').where({ stripe_refund_id: refunded.body.details.refund_id }).first();
    expect(row.status).toBe('failed');
    // A failed refund frees its amount: the whole charge can be refunded again.
    ctx.emulator.setRefundMode('immediate');
    expect((await credit(ctx, { transaction_id: paid.body.details.transaction_id })).body.details).toMatchObject({ status: 'Completed', amount: '20.00' });
  });

  test('when Stripe keeps failing for a row, then its checks back off and the failures are counted, and a success resets them', async () => {
    const { aid } = await accountWithCard(ctx);
    ctx.emulator.setPaymentMode('processing');
    const paid = await pay(ctx, { aid, amount: '9.00' });
    ctx.emulator.setPaymentMode('immediate');
    const pi = paid.body.details.transaction_id as string;
    ctx.emulator.loseWebhooks(50);
    for (const expectedDelayMin of [5, 10]) {
      ctx.clock.advance(11 * MIN);
      ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'GET', path: `/v1/payment_intents/${pi}` });
      const before = ctx.clock.now().getTime();
      const report = await reconcileOnce(ctx.deps);
      const after = ctx.clock.now().getTime();
      expect(report.failures).toBeGreaterThanOrEqual(1);
      const next = new Date((await ctx.db('charges').where({ payment_intent_id: pi }).first()).next_check_at).getTime();
      expect(next).toBeGreaterThanOrEqual(before + expectedDelayMin * MIN * 1000);
      expect(next).toBeLessThanOrEqual(after + expectedDelayMin * MIN * 1000);
    }
    expect((await ctx.db('charges').where({ payment_intent_id: pi }).first()).check_failures).toBe(2);
    ctx.emulator.settlePaymentIntent(pi, 'succeeded');
    ctx.clock.advance(11 * MIN);
    await reconcileOnce(ctx.deps);
    expect(await ctx.db('charges').where({ payment_intent_id: pi }).first()).toMatchObject({ status: 'succeeded', check_failures: 0 });
  });

  test('when two reconcilers run at once, then each due row is read from Stripe once', async () => {
    const sessions: string[] = [];
    for (let i = 0; i < 3; i++) sessions.push((await startIframeSetup(ctx)).sessionId);
    ctx.clock.advance(16 * MIN);
    await ctx.emulator.settleWebhooks();
    ctx.emulator.clearRequests();
    const [a, b] = await Promise.all([reconcileOnce(ctx.deps), reconcileOnce(ctx.deps)]);
    const open = await handshakeRows(ctx.db).whereIn('state', ['open', 'creating']);
    expect(a.cardSetups + b.cardSetups).toBe(open.length);
    for (const id of sessions) {
      expect(ctx.emulator.requests().filter((r) => r.method === 'GET' && r.path === `/v1/checkout/sessions/${id}`)).toHaveLength(1);
    }
  });
});
