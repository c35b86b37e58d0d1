import Stripe from 'stripe';
import { EmulatorApiError } from '../../emulator';
import { control, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: refunds', () => {
  const emulator = useEmulator();
  afterEach(() => emulator().setRefundMode('immediate'));

  async function paid(stripe: Stripe, amount = 1000, currency = 'usd'): Promise<Stripe.PaymentIntent> {
    const customer = await stripe.customers.create({ email: 'refunds@example.com' });
    return stripe.paymentIntents.create({
      amount,
      currency,
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
      off_session: true,
    });
  }

  it('when a payment is refunded in two parts, then both succeed and the charge counts them until fully refunded', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe);
    const first = await stripe.refunds.create({ payment_intent: pi.id, amount: 300, reason: 'requested_by_customer', metadata: { refundRef: 'r-1' } });
    expect(first).toMatchObject({
      object: 'refund',
      status: 'succeeded',
      amount: 300,
      currency: 'usd',
      payment_intent: pi.id,
      charge: pi.latest_charge,
      reason: 'requested_by_customer',
      metadata: { refundRef: 'r-1' },
    });
    expect(first.id).toMatch(/^re_/);
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 300, refunded: false });

    const rest = await stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(700);
    const charge = await stripe.charges.retrieve(pi.latest_charge as string, { expand: ['refunds'] });
    expect(charge).toMatchObject({ amount_refunded: 1000, refunded: true });
    expect(charge.refunds?.data.map((r) => r.id)).toEqual([rest.id, first.id]);
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.amount)).toEqual([700, 300]);
  });

  it('when more than the unrefunded rest is asked for, then it is a 400 amount_too_large naming both amounts', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe);
    await stripe.refunds.create({ payment_intent: pi.id, amount: 900 });
    const err = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 2000 }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.code).toBe('amount_too_large');
    expect(err.message).toBe('Refund amount ($20.00) is greater than unrefunded amount on charge ($1.00)');
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data).toHaveLength(1);
  });

  it('when a fully refunded charge is refunded again, then it is charge_already_refunded', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe, 500, 'jpy');
    await stripe.refunds.create({ charge: pi.latest_charge as string });
    const err = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 1 }));
    expect([err.statusCode, err.code]).toEqual([400, 'charge_already_refunded']);
  });

  it('when the PaymentIntent did not succeed, then there is nothing to refund', async () => {
    const stripe = stripeClient(emulator());
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const err = await rejectionOf(stripe.refunds.create({ payment_intent: open.id }));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/does not have a successful charge to refund/);
    expect((await rejectionOf(stripe.refunds.create({}))).code).toBe('parameter_missing');
    expect((await rejectionOf(stripe.refunds.create({ payment_intent: 'pi_missing' }))).code).toBe('resource_missing');
  });

  it('when refunds are pending and settle as succeeded, then the refund succeeds with refund.updated and charge.refunded', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe);
    emulator().setRefundMode('pending');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 400 });
    expect(refund.status).toBe('pending');
    // A pending refund already counts: only the rest can be refunded meanwhile.
    expect((await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 700 }))).code).toBe('amount_too_large');
    const before = (await stripe.events.list({ limit: 1 })).data[0];
    expect(before.type).toBe('refund.created');

    expect(emulator().settleRefund(refund.id, 'succeeded')).toMatchObject({ id: refund.id, status: 'succeeded' });
    expect((await stripe.refunds.retrieve(refund.id)).status).toBe('succeeded');
    const events = (await stripe.events.list({ limit: 2 })).data;
    expect(events.map((e) => e.type).sort()).toEqual(['charge.refunded', 'refund.updated']);
    const updated = events.find((e) => e.type === 'refund.updated') as Stripe.Event;
    expect(updated.data.previous_attributes).toMatchObject({ status: 'pending' });
  });

  it('when a pending refund fails, then its amount is refundable again and the refund says why', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe);
    const mode = await control(emulator(), '/_emulator/refund_mode', { mode: 'pending' });
    expect(mode.json).toEqual({ mode: 'pending' });
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).amount_refunded).toBe(1000);

    const { status, json } = await control(emulator(), `/_emulator/refunds/${refund.id}/settle`, { outcome: 'failed' });
    expect(status).toBe(200);
    expect(json.refund).toMatchObject({ status: 'failed', failure_reason: 'declined' });
    expect(await stripe.charges.retrieve(pi.latest_charge as string)).toMatchObject({ amount_refunded: 0, refunded: false });
    const types = (await stripe.events.list({ limit: 2 })).data.map((e) => e.type);
    expect(types.sort()).toEqual(['refund.failed', 'refund.updated']);
    expect(() => emulator().settleRefund(refund.id, 'succeeded')).toThrow(EmulatorApiError);

    emulator().setRefundMode('immediate');
    expect((await stripe.refunds.create({ payment_intent: pi.id })).amount).toBe(1000);
  });

  it('when a pending refund is canceled, then it is canceled and gives its amount back; a succeeded one cannot be canceled', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe);
    emulator().setRefundMode('pending');
    const pending = await stripe.refunds.create({ payment_intent: pi.id, amount: 250 });
    const canceled = await stripe.refunds.cancel(pending.id);
    expect(canceled.status).toBe('canceled');
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).amount_refunded).toBe(0);
    emulator().setRefundMode('immediate');
    const done = await stripe.refunds.create({ payment_intent: pi.id, amount: 250 });
    const err = await rejectionOf(stripe.refunds.cancel(done.id));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/status of `succeeded`/);
  });

  it('when a refund is created with expand, then charge and payment_intent come back as objects', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe);
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 100, expand: ['charge', 'payment_intent'] });
    expect((refund.charge as Stripe.Charge).amount_refunded).toBe(100);
    expect((refund.payment_intent as Stripe.PaymentIntent).id).toBe(pi.id);
    const charges = await stripe.charges.list({ payment_intent: pi.id, expand: ['data.refunds'] });
    expect(charges.data[0].refunds?.data.map((r) => r.id)).toEqual([refund.id]);
    const viaIntent = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.refunds'] });
    expect((viaIntent.latest_charge as Stripe.Charge).refunds?.data.map((r) => r.id)).toEqual([refund.id]);
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).refunds).toBeUndefined();
  });

  it('when a refund answer is dropped after acting, then the retry with the same key replays it and the charge is refunded once', async () => {
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const pi = await paid(stripe);
    emulator().injectFault({ type: 'drop_after_acting', path: '/v1/refunds' });
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 600 }, { idempotencyKey: 'refund-r-9' });
    expect(refund.amount).toBe(600);
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.id)).toEqual([refund.id]);
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).amount_refunded).toBe(600);
  });

  it('when a refund is made in the Dashboard, then it is refund.created and charge.refunded with no API request, with the same limits as the API', async () => {
    const stripe = stripeClient(emulator());
    const pi = await paid(stripe, 1000);
    emulator().clearRequests();
    const refund = (await control(emulator(), '/_emulator/dashboard/refunds', { payment_intent: pi.id, amount: 400, reason: 'fraudulent' })).json.refund;
    expect(refund).toMatchObject({ object: 'refund', amount: 400, status: 'succeeded', reason: 'fraudulent', metadata: {}, payment_intent: pi.id });
    expect(emulator().requests()).toEqual([]);
    const ours = new Set([refund.id, pi.latest_charge]);
    const events = (emulator().events() as Stripe.Event[]).filter((e) => ours.has((e.data.object as { id: string }).id) && e.type !== 'charge.succeeded');
    expect(events.map((e) => [e.type, e.request?.id ?? null])).toEqual([
      ['refund.created', null],
      ['charge.refunded', null],
    ]);
    expect((await stripe.refunds.list({ payment_intent: pi.id })).data.map((r) => r.id)).toEqual([refund.id]);
    const rest = emulator().dashboardRefund({ charge: pi.latest_charge as string }) as Stripe.Refund;
    expect(rest.amount).toBe(600);
    const again = await control(emulator(), '/_emulator/dashboard/refunds', { payment_intent: pi.id });
    expect([again.status, again.json.error.code]).toEqual([400, 'charge_already_refunded']);
    const bad = await control(emulator(), '/_emulator/dashboard/refunds', { payment_intent: pi.id, reason: 'because' });
    expect([bad.status, bad.json.error.param]).toEqual([400, 'reason']);
    const none = await control(emulator(), '/_emulator/dashboard/refunds', {});
    expect([none.status, none.json.error.code]).toEqual([400, 'parameter_missing']);
  });
});
