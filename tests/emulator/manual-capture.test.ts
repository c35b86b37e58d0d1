import Stripe from 'stripe';
import { control, createCustomer, rejectionOf, startWebhookReceiver, stripeClient, useEmulator, type WebhookReceiver } from './emulator-test-helpers';

const SEVEN_DAYS = 7 * 24 * 60 * 60;

/** An authorization of `amount` with a saved-card-like magic id, confirmed off-session. */
async function authorize(stripe: Stripe, overrides: Partial<Stripe.PaymentIntentCreateParams> = {}): Promise<Stripe.PaymentIntent> {
  const customer = await createCustomer(stripe);
  return stripe.paymentIntents.create({
    amount: 10000,
    currency: 'usd',
    customer: customer.id,
    payment_method: 'pm_card_visa',
    capture_method: 'manual',
    confirm: true,
    off_session: true,
    allowed_payment_method_types: ['card'],
    ...overrides,
  });
}

function typesFor(events: object[], ids: string[]): string[] {
  return (events as Stripe.Event[]).filter((e) => ids.includes((e.data.object as { id: string }).id)).map((e) => e.type);
}

describe('emulator: PaymentIntents with manual capture', () => {
  const emulator = useEmulator();

  it('when a manual-capture PaymentIntent is confirmed, then it holds an authorization: requires_capture, an uncaptured charge, capture_before in 7 days', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    expect(pi).toMatchObject({ status: 'requires_capture', capture_method: 'manual', amount_capturable: 10000, amount_received: 0 });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ status: 'succeeded', paid: true, captured: false, amount: 10000, amount_captured: 0, amount_refunded: 0 });
    expect(charge.payment_method_details?.card?.amount_authorized).toBe(10000);
    expect(charge.payment_method_details?.card?.capture_before).toBe(charge.created + SEVEN_DAYS);
    expect(typesFor(emulator().events(), [pi.id, charge.id])).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.amount_capturable_updated',
    ]);
  });

  it('when it is captured in full, then it succeeds with the whole amount received and charge.captured', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    const captured = await stripe.paymentIntents.capture(pi.id, {}, { idempotencyKey: `capture-${pi.id}` });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 10000, amount_capturable: 0 });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ captured: true, amount_captured: 10000, amount_refunded: 0, refunded: false });
    expect(typesFor(emulator().events(), [pi.id, charge.id]).slice(3)).toEqual(['charge.captured', 'payment_intent.succeeded']);
  });

  it('when part of it is captured, then the rest is given back as a refund and only the captured part can be refunded', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe, { metadata: { ref: 'R-1' } });
    const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 6000, metadata: { captured_by: 'hub' } });
    expect(captured).toMatchObject({
      status: 'succeeded',
      amount: 10000,
      amount_received: 6000,
      amount_capturable: 0,
      metadata: { ref: 'R-1', captured_by: 'hub' },
    });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string, { expand: ['refunds'] });
    expect(charge).toMatchObject({ captured: true, amount: 10000, amount_captured: 6000, amount_refunded: 4000, refunded: false });
    expect(charge.refunds?.data.map((r) => [r.amount, r.status, r.reason])).toEqual([[4000, 'succeeded', null]]);

    const tooMuch = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 6001 }));
    expect([tooMuch.code, tooMuch.message]).toEqual(['amount_too_large', 'Refund amount ($60.01) is greater than unrefunded amount on charge ($60.00)']);
    const refund = await stripe.refunds.create({ payment_intent: pi.id });
    expect(refund.amount).toBe(6000);
    expect((await stripe.charges.retrieve(charge.id)).refunded).toBe(true);
    expect(typesFor(emulator().events(), [pi.id, charge.id]).slice(3, 7)).toEqual([
      'charge.captured',
      'charge.refunded',
      'payment_intent.succeeded',
      'charge.refunded',
    ]);
  });

  it('when more than the authorization is captured, then it is a 400 amount_too_large and it can still be captured', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    const err = await rejectionOf(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 10001 }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect([err.statusCode, err.code, err.param]).toEqual([400, 'amount_too_large', 'amount_to_capture']);
    expect(err.message).toContain('greater than the amount you can capture');
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    const small = await rejectionOf(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 10 }));
    expect([small.code, small.param]).toEqual(['amount_too_small', 'amount_to_capture']);
  });

  it('when a PaymentIntent that holds no authorization is captured, then it is payment_intent_unexpected_state', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    await stripe.paymentIntents.capture(pi.id);
    const twice = await rejectionOf(stripe.paymentIntents.capture(pi.id));
    expect([twice.statusCode, twice.code]).toEqual([400, 'payment_intent_unexpected_state']);
    expect(twice.message).toContain('it has a status of succeeded');
    const automatic = await authorize(stripe, { capture_method: 'automatic' });
    expect((await rejectionOf(stripe.paymentIntents.capture(automatic.id))).code).toBe('payment_intent_unexpected_state');
    const unknown = await rejectionOf(stripe.paymentIntents.capture(pi.id, { amount_to_capture: 1, colour: 'red' } as never));
    expect(unknown.code).toBe('parameter_unknown');
  });

  it('when an uncaptured PaymentIntent is canceled, then the whole authorization is given back and the charge is refunded', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    const canceled = await stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'requested_by_customer' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer', amount_capturable: 0, amount_received: 0 });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ captured: false, amount_captured: 0, amount_refunded: 10000, refunded: true });
    expect(typesFor(emulator().events(), [pi.id, charge.id]).slice(3)).toEqual(['charge.refunded', 'payment_intent.canceled']);
    expect((await rejectionOf(stripe.paymentIntents.capture(pi.id))).code).toBe('payment_intent_unexpected_state');
  });

  it('when card-level capture_method is manual, then the PaymentIntent holds an authorization too', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe, { capture_method: undefined, payment_method_options: { card: { capture_method: 'manual' } } });
    expect(pi.status).toBe('requires_capture');
    expect(pi.payment_method_options?.card?.capture_method).toBe('manual');
  });

  it('when a card declines, then a manual-capture PaymentIntent declines as any other', async () => {
    const err = await rejectionOf(authorize(stripeClient(emulator()), { payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' }));
    expect([err.code, err.decline_code]).toEqual(['card_declined', 'insufficient_funds']);
    expect((err.raw as { payment_intent: Stripe.PaymentIntent }).payment_intent.status).toBe('requires_payment_method');
  });

  it('when processing mode settles a manual-capture payment, then it ends in requires_capture', async () => {
    const stripe = stripeClient(emulator());
    emulator().setPaymentMode('processing');
    try {
      const pi = await authorize(stripe);
      expect(pi.status).toBe('processing');
      const settled = emulator().settlePaymentIntent(pi.id, 'succeeded') as Stripe.PaymentIntent;
      expect(settled).toMatchObject({ status: 'requires_capture', amount_capturable: 10000 });
      const charge = await stripe.charges.retrieve(pi.latest_charge as string);
      expect(charge).toMatchObject({ status: 'succeeded', captured: false });
      expect(charge.payment_method_details?.card?.capture_before).toBeGreaterThan(emulator().now());
    } finally {
      emulator().setPaymentMode('immediate');
    }
  });
});

describe('emulator: an uncaptured authorization lapses', () => {
  const emulator = useEmulator();
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    emulator().addWebhookEndpoint(receiver.url);
  });
  afterAll(() => receiver.close());

  it('when the clock passes 7 days, then it is canceled automatically with charge.expired and payment_intent.canceled, named by no request', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    emulator().advanceClock(SEVEN_DAYS - 60);
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_capture');
    emulator().advanceClock(60);
    const lapsed = await stripe.paymentIntents.retrieve(pi.id);
    expect(lapsed).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic', amount_capturable: 0 });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({ captured: false, refunded: true, amount_refunded: 10000 });
    const events = (emulator().events() as Stripe.Event[]).filter((e) => ['charge.expired', 'payment_intent.canceled'].includes(e.type));
    expect(events.map((e) => [e.type, (e.data.object as { id: string }).id, e.request])).toEqual([
      ['charge.expired', charge.id, { id: null, idempotency_key: null }],
      ['payment_intent.canceled', pi.id, { id: null, idempotency_key: null }],
    ]);
    await emulator().settleWebhooks();
    expect(receiver.received.map((r) => r.event.type)).toEqual(expect.arrayContaining(['charge.expired', 'payment_intent.canceled']));
    expect((await rejectionOf(stripe.paymentIntents.capture(pi.id))).code).toBe('payment_intent_unexpected_state');
  });

  it('when the expire control is called, then the authorization lapses at once; on anything else it is a 400', async () => {
    const stripe = stripeClient(emulator());
    const pi = await authorize(stripe);
    const answer = await control(emulator(), `/_emulator/payment_intents/${pi.id}/expire_authorization`);
    expect(answer.status).toBe(200);
    expect(answer.json.payment_intent).toMatchObject({ id: pi.id, status: 'canceled', cancellation_reason: 'automatic' });
    const again = await control(emulator(), `/_emulator/payment_intents/${pi.id}/expire_authorization`);
    expect([again.status, again.json.error.code]).toEqual([400, 'payment_intent_unexpected_state']);
    expect((await control(emulator(), '/_emulator/payment_intents/pi_nope/expire_authorization')).status).toBe(404);
    const other = await authorize(stripe);
    expect((emulator().expireAuthorization(other.id) as Stripe.PaymentIntent).status).toBe('canceled');
  });
});
