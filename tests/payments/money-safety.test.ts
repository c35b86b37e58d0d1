import request from 'supertest';
import { reconcileOnce } from '../../app/payments';
import { isDefiniteRefusal } from '../../app/payments/stripe-failure';
import { AppError } from '../../app/shared/app-error';
import { accountWithCard, stripeCustomerOf } from '../support/card-setup';
import { signed } from '../support/billrun-requests';
import { credit, newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});
afterEach(async () => {
  ctx.emulator.loseWebhooks(0);
  await ctx.emulator.settleWebhooks();
});

const HOUR = 3600;
const customerOf = (aid: number): Promise<string> => stripeCustomerOf(ctx, aid);

describe('no second charge, no lost refund', () => {
  test('when the answer was lost and BillRun repeats the bill after 25 h (no reconciler ran), then the recorded PaymentIntent is found and nothing is charged again', async () => {
    const { aid } = await accountWithCard(ctx);
    const customer = await customerOf(aid);
    ctx.emulator.loseWebhooks(50);
    ctx.emulator.injectFault({ type: 'drop_after_acting', count: 3, method: 'POST', path: '/v1/payment_intents' });
    const reference = newReference();
    expect((await pay(ctx, { aid, amount: '15.00', reference })).body.details.status).toBe('Pending');

    ctx.clock.advance(25 * HOUR); // past Stripe's 24 h idempotency window
    const again = await pay(ctx, { aid, amount: '15.00', reference });
    const intents = await ctx.stripe.paymentIntents.list({ customer });
    expect(intents.data).toHaveLength(1);
    expect(again.body.details).toMatchObject({ status: 'Completed', transaction_id: intents.data[0].id });
  });

  test('when a PaymentIntent of someone else claims our unsent charge in its metadata, then it is not bound', async () => {
    const { aid } = await accountWithCard(ctx);
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'POST', path: '/v1/payment_intents' });
    const reference = newReference();
    await pay(ctx, { aid, amount: '15.00', reference });
    const row = await ctx.db('charges').where({ reference }).first();
    expect(row).toMatchObject({ status: 'created', payment_intent_id: null });

    const other = await accountWithCard(ctx);
    const foreign = await ctx.stripe.paymentIntents.create({
      amount: 50,
      currency: 'jpy',
      customer: await customerOf(other.aid),
      payment_method: (
        await ctx
          .db('cards')
          .where({ customer_ref: String(other.aid) })
          .first()
      ).payment_method_id,
      off_session: true,
      confirm: true,
      allowed_payment_method_types: ['card'],
      metadata: { charge_id: String(row.id) },
    });
    await ctx.emulator.settleWebhooks();
    expect(await ctx.db('charges').where({ reference }).first()).toMatchObject({ status: 'created', payment_intent_id: null });
    expect(ctx.logs.some((l) => l.includes('a PaymentIntent that is not this charge claims it') && l.includes(foreign.id))).toBe(true);

    ctx.clock.advance(3 * 60);
    await reconcileOnce(ctx.deps);
    const settled = await ctx.db('charges').where({ reference }).first();
    expect(settled.status).toBe('succeeded');
    expect(settled.payment_intent_id).not.toBe(foreign.id);
  });

  test('when a refund was made at Stripe before our charge was even bound (events lost), then binding records it and a full credit refunds only the rest', async () => {
    const { aid } = await accountWithCard(ctx);
    const customer = await customerOf(aid);
    ctx.emulator.loseWebhooks(50);
    ctx.emulator.injectFault({ type: 'drop_after_acting', count: 3, method: 'POST', path: '/v1/payment_intents' });
    const reference = newReference();
    await pay(ctx, { aid, amount: '20.00', reference });
    const [pi] = (await ctx.stripe.paymentIntents.list({ customer })).data;
    await ctx.stripe.refunds.create({ payment_intent: pi.id, amount: 600 }); // the dashboard
    await ctx.emulator.settleWebhooks();
    ctx.emulator.loseWebhooks(0);

    ctx.clock.advance(3 * 60);
    await reconcileOnce(ctx.deps);
    const charge = await ctx.db('charges').where({ reference }).first();
    expect(charge).toMatchObject({ status: 'succeeded', payment_intent_id: pi.id });
    const refunds = await ctx.db('refunds').where({ charge_id: charge.id });
    expect(refunds.map((r) => [Number(r.amount), r.status, r.reference])).toEqual([[600, 'succeeded', null]]);

    ctx.emulator.clearRequests();
    const rest = await credit(ctx, { transaction_id: pi.id });
    expect(rest.body.details).toMatchObject({ status: 'Completed', amount: '14.00' });
    expect(
      ctx.emulator
        .requests()
        .filter((r) => r.path === '/v1/refunds')
        .every((r) => r.status === 200),
    ).toBe(true);
  });

  test('when Stripe answers "same key, other parameters", then the outcome counts as unknown, not as a refusal', () => {
    const idempotency = new AppError('conflict', 'x', { code: 'idempotency_error', details: { stripeStatus: 400 } });
    const declined = new AppError('upstream_failed', 'x', { code: 'invalid_request', details: { stripeStatus: 400 } });
    const timeout = new AppError('upstream_failed', 'x', { code: 'stripe_unreachable' });
    expect([isDefiniteRefusal(idempotency), isDefiniteRefusal(declined), isDefiniteRefusal(timeout)]).toEqual([false, true, false]);
  });
});

describe('webhook endpoint edge cases', () => {
  test('when an event type is not handled, then it is answered 200 and recorded as ignored', async () => {
    const { aid } = await accountWithCard(ctx);
    await ctx.emulator.settleWebhooks();
    const customer = await customerOf(aid);
    const row = await ctx.db('stripe_events').where({ type: 'customer.created', object_id: customer }).first();
    expect(row).toMatchObject({ outcome: 'ignored: event type not handled', deliveries: 1 });
    expect(row.processed_at).not.toBeNull();
  });

  test('when Stripe cannot be read back during a webhook, then 500, and the redelivery processes it', async () => {
    const { aid } = await accountWithCard(ctx);
    await ctx.emulator.settleWebhooks();
    ctx.emulator.setPaymentMode('processing');
    const paid = await pay(ctx, { aid, amount: '11.00' });
    ctx.emulator.setPaymentMode('immediate');
    const pi = paid.body.details.transaction_id as string;
    await ctx.emulator.settleWebhooks();
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'GET', path: `/v1/payment_intents/${pi}` });
    ctx.emulator.settlePaymentIntent(pi, 'succeeded');
    await ctx.emulator.settleWebhooks();
    const succeeded = ctx.emulator
      .deliveries()
      .filter(
        (d) =>
          d.type === 'payment_intent.succeeded' &&
          ctx.emulator
            .events()
            .some(
              (e) =>
                (e as { id: string; data: { object: { id: string } } }).id === d.eventId && (e as { data: { object: { id: string } } }).data.object.id === pi,
            ),
      );
    expect(succeeded.map((d) => d.status)).toEqual([500, 200]);
    expect((await ctx.db('charges').where({ payment_intent_id: pi }).first()).status).toBe('succeeded');
  });
});

describe('BillRun pay/credit input', () => {
  test('when pay comes as a GET, then 405 and nothing is charged', async () => {
    const { aid } = await accountWithCard(ctx);
    const data = signed({ aid, amount: '10', currency: 'USD', reference: newReference(), _t_: String(Math.floor(ctx.clock.now().getTime() / 1000)) });
    ctx.emulator.clearRequests();
    const res = await request(ctx.app).get('/paymentgateways/pay').query({ data });
    expect(res.status).toBe(405);
    expect(res.body.message).toBe('pay accepts POST only');
    expect(ctx.emulator.requests().filter((r) => r.path === '/v1/payment_intents')).toEqual([]);
  });

  test('when the reference is a number (a PHP bill id), then it is accepted as its decimal text', async () => {
    const { aid } = await accountWithCard(ctx);
    const reference = Math.floor(Math.random() * 1e12);
    const res = await pay(ctx, { aid, amount: '10', reference });
    expect(res.body.details).toMatchObject({ status: 'Completed', reference: String(reference) });
  });

  test('when a refund amount is 0, then the message names the real minimum', async () => {
    const { aid } = await accountWithCard(ctx);
    const paid = await pay(ctx, { aid, amount: '10' });
    const res = await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: 0 });
    expect(res.body).toEqual({ status: 0, details: { message: 'Amount too small: at least 0.01 USD' } });
  });
});
