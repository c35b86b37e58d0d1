import Stripe from 'stripe';
import { EmulatorApiError } from '../../emulator';
import { control, createCustomer, customerWithSavedCard, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

type PaymentErrorRaw = { payment_intent: Stripe.PaymentIntent; charge: string; payment_method: Stripe.PaymentMethod };

/** What the service sends for a merchant-initiated charge of a saved card. */
function offSession(customer: string, paymentMethod: string, overrides: Partial<Stripe.PaymentIntentCreateParams> = {}): Stripe.PaymentIntentCreateParams {
  return {
    amount: 1999,
    currency: 'usd',
    customer,
    payment_method: paymentMethod,
    off_session: true,
    confirm: true,
    allowed_payment_method_types: ['card'],
    metadata: { txId: 'tx-1' },
    ...overrides,
  };
}

describe('emulator: PaymentIntents off-session', () => {
  const emulator = useEmulator();

  it('when a saved visa is charged off-session, then the PaymentIntent succeeds with a succeeded, captured charge', async () => {
    const stripe = stripeClient(emulator());
    const { customer, paymentMethod } = await customerWithSavedCard(stripe, emulator());
    const pi = await stripe.paymentIntents.create(offSession(customer.id, paymentMethod, { description: 'Order 42' }), { idempotencyKey: 'tx-1-charge' });

    expect(pi).toMatchObject({
      object: 'payment_intent',
      status: 'succeeded',
      amount: 1999,
      amount_received: 1999,
      currency: 'usd',
      customer: customer.id,
      payment_method: paymentMethod,
      metadata: { txId: 'tx-1' },
      description: 'Order 42',
      last_payment_error: null,
      next_action: null,
    });
    expect(pi.id).toMatch(/^pi_[A-Za-z0-9]{24}$/);
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge).toMatchObject({
      status: 'succeeded',
      paid: true,
      captured: true,
      amount: 1999,
      amount_captured: 1999,
      amount_refunded: 0,
      refunded: false,
      payment_intent: pi.id,
      payment_method: paymentMethod,
      customer: customer.id,
      outcome: { network_status: 'approved_by_network', type: 'authorized' },
      payment_method_details: { type: 'card', card: { brand: 'visa', last4: '4242' } },
    });
    expect(charge.payment_method_details?.card?.exp_year).toBeGreaterThan(2000);
  });

  it('when a card with insufficient funds is charged, then stripe-node raises StripeCardError carrying the failed PaymentIntent and charge', async () => {
    const stripe = stripeClient(emulator());
    const { customer, paymentMethod } = await customerWithSavedCard(stripe, emulator(), '4000000000009995');
    const err = await rejectionOf(stripe.paymentIntents.create(offSession(customer.id, paymentMethod)));

    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.statusCode).toBe(402);
    expect(err.code).toBe('card_declined');
    expect(err.decline_code).toBe('insufficient_funds');
    expect(err.message).toBe('Your card has insufficient funds.');
    const raw = err.raw as PaymentErrorRaw;
    expect(raw.payment_intent.status).toBe('requires_payment_method');
    expect(raw.payment_intent.last_payment_error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      charge: raw.charge,
      payment_method: { id: paymentMethod },
    });
    expect(raw.payment_method.id).toBe(paymentMethod);

    const failed = await stripe.charges.retrieve(raw.charge);
    expect(failed).toMatchObject({
      status: 'failed',
      paid: false,
      captured: false,
      failure_code: 'card_declined',
      failure_message: 'Your card has insufficient funds.',
    });
    const stored = await stripe.paymentIntents.retrieve(raw.payment_intent.id);
    expect(stored).toMatchObject({ status: 'requires_payment_method', payment_method: null, latest_charge: raw.charge, amount_received: 0 });
  });

  it.each([
    ['pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline'],
    ['pm_card_chargeCustomerFail', 'card_declined', 'generic_decline'],
    ['pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
    ['pm_card_visa_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
    ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
  ])('when %s is charged, then it declines with %s / %s', async (magic, code, declineCode) => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const err = await rejectionOf(
      stripe.paymentIntents.create({
        amount: 500,
        currency: 'sgd',
        customer: customer.id,
        payment_method: magic,
        confirm: true,
        allowed_payment_method_types: ['card'],
      }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect([err.code, err.decline_code]).toEqual([code, declineCode]);
  });

  it('when a card that always wants 3DS is charged off-session, then it is a 402 authentication_required and the PaymentIntent waits for a new payment method', async () => {
    const stripe = stripeClient(emulator());
    const { customer, paymentMethod } = await customerWithSavedCard(stripe, emulator(), '4000002760003184');
    const err = await rejectionOf(stripe.paymentIntents.create(offSession(customer.id, paymentMethod)));

    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.code).toBe('authentication_required');
    expect(err.decline_code).toBe('authentication_required');
    const pi = (err.raw as PaymentErrorRaw).payment_intent;
    expect(pi.status).toBe('requires_payment_method');
    expect(pi.last_payment_error?.code).toBe('authentication_required');
    expect(pi.next_action).toBeNull();
  });

  it.each(['pm_card_threeDSecure2Required', 'pm_card_threeDSecureRequiredChargeDeclined'])(
    'when the 3DS card %s is charged off-session, then it needs authentication too',
    async (magic) => {
      const stripe = stripeClient(emulator());
      const customer = await createCustomer(stripe);
      const err = await rejectionOf(stripe.paymentIntents.create(offSession(customer.id, magic)));
      expect(err.code).toBe('authentication_required');
    },
  );

  it('when the authenticate-on-setup card is charged off-session, then it succeeds without a challenge', async () => {
    const stripe = stripeClient(emulator());
    const { customer, paymentMethod } = await customerWithSavedCard(stripe, emulator(), '4000002500003155');
    const pi = await stripe.paymentIntents.create(offSession(customer.id, paymentMethod));
    expect(pi.status).toBe('succeeded');
    expect(pi.next_action).toBeNull();
  });

  it('when a payment is created without confirm, then it waits for confirmation and confirm charges it', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const created = await stripe.paymentIntents.create({ amount: 5000, currency: 'jpy', customer: customer.id, allowed_payment_method_types: ['card'] });
    expect(created).toMatchObject({ status: 'requires_payment_method', allowed_payment_method_types: ['card'], automatic_payment_methods: null });
    const confirmed = await stripe.paymentIntents.confirm(created.id, { payment_method: 'pm_card_visa' });
    expect(confirmed).toMatchObject({ status: 'succeeded', amount_received: 5000, currency: 'jpy' });
    const again = await rejectionOf(stripe.paymentIntents.confirm(created.id, { payment_method: 'pm_card_visa' }));
    expect(again.code).toBe('payment_intent_unexpected_state');
  });

  it('when a PaymentIntent is canceled, then it is canceled with the reason; a succeeded one cannot be', async () => {
    const stripe = stripeClient(emulator());
    const open = await stripe.paymentIntents.create({ amount: 1000, currency: 'thb' });
    const canceled = await stripe.paymentIntents.cancel(open.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect(canceled.canceled_at).toBeGreaterThan(0);
    const paid = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'thb',
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
    });
    expect((await rejectionOf(stripe.paymentIntents.cancel(paid.id))).code).toBe('payment_intent_unexpected_state');
  });

  it('when the request is invalid, then nothing is created: small amount, unknown currency, manual confirmation, confirm without a card', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const tooSmall = await rejectionOf(stripe.paymentIntents.create({ amount: 49, currency: 'usd', customer: customer.id }));
    expect([tooSmall.code, tooSmall.param]).toEqual(['amount_too_small', 'amount']);
    expect(tooSmall.message).toBe('Amount must be at least $0.50 usd');
    const tooLarge = await rejectionOf(stripe.paymentIntents.create({ amount: 100_000_000, currency: 'usd', customer: customer.id }));
    expect(tooLarge.code).toBe('amount_too_large');
    expect((await rejectionOf(stripe.paymentIntents.create({ amount: 1000, currency: 'xyz', customer: customer.id }))).param).toBe('currency');
    const manual = await rejectionOf(stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: customer.id, confirmation_method: 'manual' }));
    expect(manual.param).toBe('confirmation_method');
    const noCard = await rejectionOf(
      stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: customer.id, confirm: true, allowed_payment_method_types: ['card'] }),
    );
    expect(noCard.code).toBe('payment_intent_unexpected_state');
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data).toHaveLength(0);
  });

  it('when a card saved to one customer is used for another, then it is refused before charging', async () => {
    const stripe = stripeClient(emulator());
    const { paymentMethod } = await customerWithSavedCard(stripe, emulator());
    const other = await createCustomer(stripe, 'other@example.com');
    const err = await rejectionOf(stripe.paymentIntents.create(offSession(other.id, paymentMethod)));
    expect([err.statusCode, err.code]).toEqual([400, 'payment_method_unexpected_state']);
    expect((await stripe.charges.list({ customer: other.id })).data).toHaveLength(0);
  });

  it("when PaymentIntents are listed by customer and created[gte], then only that customer's recent ones come back, newest first", async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const first = await stripe.paymentIntents.create({ amount: 1000, currency: 'myr', customer: customer.id });
    emulator().advanceClock(60);
    const second = await stripe.paymentIntents.create({ amount: 2000, currency: 'myr', customer: customer.id });
    await stripe.paymentIntents.create({ amount: 3000, currency: 'myr' });
    const all = await stripe.paymentIntents.list({ customer: customer.id });
    expect(all.data.map((p) => p.id)).toEqual([second.id, first.id]);
    const recent = await stripe.paymentIntents.list({ customer: customer.id, created: { gte: second.created } });
    expect(recent.data.map((p) => p.id)).toEqual([second.id]);
    const page = await stripe.paymentIntents.list({ customer: customer.id, limit: 1, starting_after: second.id });
    expect(page.data.map((p) => p.id)).toEqual([first.id]);
  });
});

describe('emulator: PaymentIntents on-session with 3D Secure', () => {
  const emulator = useEmulator();
  const RETURN_URL = 'https://merchant.example/pay/return?order=42';

  async function requiresAction(stripe: Stripe, card: string): Promise<Stripe.PaymentIntent> {
    const customer = await createCustomer(stripe);
    return stripe.paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      customer: customer.id,
      payment_method: card,
      confirm: true,
      allowed_payment_method_types: ['card'],
      return_url: RETURN_URL,
    });
  }

  it('when a 3DS card is confirmed on-session, then it requires a redirect; passing the challenge page succeeds and returns to return_url', async () => {
    const stripe = stripeClient(emulator());
    const pi = await requiresAction(stripe, 'pm_card_authenticationRequired');
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action).toEqual({
      type: 'redirect_to_url',
      redirect_to_url: { url: `${emulator().url}/c/3ds/pi/${pi.id}`, return_url: RETURN_URL },
    });
    expect(pi.latest_charge).toBeNull();

    const page = await fetch(pi.next_action?.redirect_to_url?.url as string);
    const html = await page.text();
    expect(html).toContain('Complete authentication');
    expect(html).toContain('Fail authentication');
    const pass = await fetch(pi.next_action?.redirect_to_url?.url as string, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'result=pass',
      redirect: 'manual',
    });
    expect(pass.status).toBe(303);
    const back = new URL(pass.headers.get('location') as string);
    expect(back.origin + back.pathname).toBe('https://merchant.example/pay/return');
    expect(back.searchParams.get('order')).toBe('42');
    expect(back.searchParams.get('payment_intent')).toBe(pi.id);
    expect(back.searchParams.get('payment_intent_client_secret')).toBe(pi.client_secret);
    expect(back.searchParams.get('redirect_status')).toBe('succeeded');

    const after = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
    expect(after).toMatchObject({ status: 'succeeded', amount_received: 2500, next_action: null });
    expect((after.latest_charge as Stripe.Charge).payment_method_details?.card?.three_d_secure?.result).toBe('authenticated');
  });

  it('when the challenge is failed, then the PaymentIntent goes back to requires_payment_method with payment_intent_authentication_failure', async () => {
    const stripe = stripeClient(emulator());
    const pi = await requiresAction(stripe, 'pm_card_authenticationRequired');
    const result = emulator().authenticatePaymentIntent(pi.id, 'fail');
    expect(new URL(result.redirectUrl).searchParams.get('redirect_status')).toBe('failed');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
    expect(after.latest_charge).toBeNull();
    expect((await stripe.charges.list({ payment_intent: pi.id })).data).toHaveLength(0);
  });

  it('when the 3DS-then-decline card passes the challenge, then the payment is declined with a failed charge', async () => {
    const stripe = stripeClient(emulator());
    const pi = await requiresAction(stripe, 'pm_card_threeDSecureRequiredChargeDeclined');
    const { json, status } = await control(emulator(), `/_emulator/payment_intents/${pi.id}/three_d_secure`, { result: 'pass' });
    expect(status).toBe(200);
    expect(new URL(json.redirect_url).searchParams.get('redirect_status')).toBe('failed');
    expect(json.payment_intent).toMatchObject({
      id: pi.id,
      status: 'requires_payment_method',
      last_payment_error: { code: 'card_declined', decline_code: 'generic_decline' },
    });
    const charge = await stripe.charges.retrieve(json.payment_intent.latest_charge);
    expect(charge).toMatchObject({ status: 'failed', failure_code: 'card_declined' });
  });

  it.each(['pm_card_threeDSecure2Required', 'pm_card_authenticationRequiredOnSetup'])(
    'when %s is confirmed on-session and authenticated, then it succeeds',
    async (card) => {
      const stripe = stripeClient(emulator());
      const pi = await requiresAction(stripe, card);
      expect(pi.status).toBe('requires_action');
      expect(emulator().authenticatePaymentIntent(pi.id, 'pass').paymentIntent).toMatchObject({ status: 'succeeded' });
    },
  );

  it('when a PaymentIntent is not waiting for authentication, then authenticating it is refused', async () => {
    const stripe = stripeClient(emulator());
    const pi = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
    });
    expect(() => emulator().authenticatePaymentIntent(pi.id, 'pass')).toThrow(EmulatorApiError);
    expect((await control(emulator(), `/_emulator/payment_intents/${pi.id}/three_d_secure`, { result: 'pass' })).status).toBe(400);
    expect((await control(emulator(), '/_emulator/payment_intents/pi_missing/three_d_secure', { result: 'pass' })).status).toBe(404);
  });

  it('when an authentication failed, then confirming again with another card succeeds', async () => {
    const stripe = stripeClient(emulator());
    const pi = await requiresAction(stripe, 'pm_card_authenticationRequired');
    emulator().authenticatePaymentIntent(pi.id, 'fail');
    const retried = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', return_url: RETURN_URL });
    expect(retried.status).toBe('succeeded');
  });
});

describe('emulator: processing mode', () => {
  const emulator = useEmulator();
  afterEach(() => emulator().setPaymentMode('immediate'));

  it('when payments are in processing mode, then a good card leaves the PaymentIntent processing until settled as succeeded', async () => {
    const stripe = stripeClient(emulator());
    emulator().setPaymentMode('processing');
    const customer = await createCustomer(stripe);
    const pi = await stripe.paymentIntents.create(offSession(customer.id, 'pm_card_visa'));
    expect(pi.status).toBe('processing');
    expect(pi.amount_received).toBe(0);
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).status).toBe('pending');

    const settled = emulator().settlePaymentIntent(pi.id, 'succeeded');
    expect(settled).toMatchObject({ status: 'succeeded', amount_received: 1999 });
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).status).toBe('succeeded');
    const types = (await stripe.events.list({ limit: 5 })).data.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['payment_intent.succeeded', 'charge.succeeded']);
  });

  it('when a processing payment settles as failed, then it needs a new payment method and its charge failed', async () => {
    const stripe = stripeClient(emulator());
    const mode = await control(emulator(), '/_emulator/payment_mode', { mode: 'processing' });
    expect(mode.json).toEqual({ mode: 'processing' });
    const pi = await stripe.paymentIntents.create({
      amount: 3000,
      currency: 'php',
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
    });
    expect(pi.status).toBe('processing');
    const { status, json } = await control(emulator(), `/_emulator/payment_intents/${pi.id}/settle`, { outcome: 'failed' });
    expect(status).toBe(200);
    expect(json.payment_intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined' } });
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).status).toBe('failed');
    expect(() => emulator().settlePaymentIntent(pi.id, 'succeeded')).toThrow(/not processing/);
  });

  it('when a declining card is charged in processing mode, then it still declines at once', async () => {
    emulator().setPaymentMode('processing');
    const err = await rejectionOf(
      stripeClient(emulator()).paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
        allowed_payment_method_types: ['card'],
      }),
    );
    expect(err.code).toBe('card_declined');
  });
});

describe('emulator: a lost PaymentIntent answer', () => {
  const emulator = useEmulator();

  it('when the create answer is dropped after acting, then the retry with the same key replays it and the customer has one PaymentIntent and one charge', async () => {
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const { customer, paymentMethod } = await customerWithSavedCard(stripe, emulator());
    emulator().clearRequests();
    emulator().injectFault({ type: 'drop_after_acting', path: '/v1/payment_intents' });

    const pi = await stripe.paymentIntents.create(offSession(customer.id, paymentMethod), { idempotencyKey: 'tx-777-charge' });
    expect(pi.status).toBe('succeeded');
    expect(
      emulator()
        .requests()
        .map((r) => ({ key: r.idempotencyKey, fault: r.fault, replayed: r.replayed })),
    ).toEqual([
      { key: 'tx-777-charge', fault: 'drop_after_acting', replayed: false },
      { key: 'tx-777-charge', fault: undefined, replayed: true },
    ]);
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data.map((p) => p.id)).toEqual([pi.id]);
    expect((await stripe.charges.list({ customer: customer.id })).data).toHaveLength(1);
    const succeeded = (await stripe.events.list({ type: 'payment_intent.succeeded' })).data.filter(
      (e) => (e.data.object as Stripe.PaymentIntent).customer === customer.id,
    );
    expect(succeeded).toHaveLength(1);
  });

  it('when a declined create answer is dropped, then the retry replays the same 402 and nothing is charged twice', async () => {
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const customer = await createCustomer(stripe);
    emulator().injectFault({ type: 'drop_after_acting', path: '/v1/payment_intents' });
    const err = await rejectionOf(
      stripe.paymentIntents.create(offSession(customer.id, 'pm_card_visa_chargeDeclinedInsufficientFunds'), { idempotencyKey: 'tx-778-charge' }),
    );
    expect(err.decline_code).toBe('insufficient_funds');
    expect((await stripe.paymentIntents.list({ customer: customer.id })).data).toHaveLength(1);
    expect((await stripe.charges.list({ customer: customer.id })).data).toHaveLength(1);
  });
});
