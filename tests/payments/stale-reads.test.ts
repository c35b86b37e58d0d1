import { applyPaymentState } from '../../app/payments/charge-state';
import { findCharge } from '../../app/payments/charge-repository';
import { accountWithCard } from '../support/card-setup';
import { newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

/**
 * The one apply path decides on the charge as its caller read it and writes with a compare-and-set;
 * a read that is stale must never cost an update the current row allows. No concurrency is
 * needed to show it: the stale row is handed in, as a slow webhook handler would hand it.
 */

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  ctx.emulator.setPaymentMode('immediate');
  await ctx.close();
});

test('when the charge was read as processing and has since failed, then an observation of requires_action still moves the current row', async () => {
  const { aid } = await accountWithCard(ctx);
  ctx.emulator.setPaymentMode('processing');
  const reference = newReference();
  const paid = await pay(ctx, { aid, amount: '12.00', currency: 'USD', reference });
  expect(paid.body.details.status).toBe('Pending');
  const row = await ctx.db('charges').where({ reference }).first();
  const staleRead = await findCharge(ctx.db, Number(row.id));
  expect(staleRead?.status).toBe('processing');

  ctx.emulator.settlePaymentIntent(row.payment_intent_id, 'failed');
  await ctx.emulator.settleWebhooks();
  expect((await ctx.db('charges').where({ reference }).first()).status).toBe('failed');

  // Stripe now says requires_action (the customer is asked to authenticate a new attempt): allowed
  // from failed, not from the processing the caller read.
  const applied = await applyPaymentState(
    ctx.deps,
    Number(row.id),
    {
      paymentIntentId: row.payment_intent_id,
      status: 'requires_action',
      amount: Number(row.amount),
      currency: 'usd',
      customerId: staleRead?.customerId ?? null,
      paymentMethodId: staleRead?.paymentMethodId ?? null,
      failureCode: null,
      failureMessage: null,
      metadata: {},
    },
    staleRead,
  );
  expect(applied.status).toBe('requires_action');
  expect((await ctx.db('charges').where({ reference }).first()).status).toBe('requires_action');
});
