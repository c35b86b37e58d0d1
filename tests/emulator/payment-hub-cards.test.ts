import Stripe from 'stripe';
import { createCustomer, rejectionOf, startWebhookReceiver, stripeClient, useEmulator, type WebhookReceiver } from './emulator-test-helpers';

type SetupErrorRaw = { setup_intent: Stripe.SetupIntent; payment_method: Stripe.PaymentMethod };
type PaymentErrorRaw = { payment_intent: Stripe.PaymentIntent; charge: string };

const KEY_A = 'sk_test_hub_vendor_a_1234';
const KEY_B = 'sk_test_hub_vendor_b_5678';

function rawCard(stripe: Stripe, number: string): Promise<Stripe.PaymentMethod> {
  return stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' } });
}

/** The hub's POST /token: a raw card saved on a customer by a confirmed off-session SetupIntent. */
async function tokenize(stripe: Stripe, number: string): Promise<Stripe.SetupIntent> {
  const customer = await createCustomer(stripe);
  const pm = await rawCard(stripe, number);
  return stripe.setupIntents.create({
    customer: customer.id,
    payment_method: pm.id,
    usage: 'off_session',
    confirm: true,
    allowed_payment_method_types: ['card'],
  });
}

/** The hub's charge of a token: off-session, with a receipt e-mail. */
function charge(stripe: Stripe, si: Stripe.SetupIntent, overrides: Partial<Stripe.PaymentIntentCreateParams> = {}): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create({
    amount: 20000000,
    currency: 'idr',
    customer: si.customer as string,
    payment_method: si.payment_method as string,
    off_session: true,
    confirm: true,
    allowed_payment_method_types: ['card'],
    receipt_email: 'dev@example.com',
    ...overrides,
  });
}

describe('emulator: the Payment Hub cards', () => {
  const emulator = useEmulator({ apiKey: [KEY_A, KEY_B] });

  it('when the JCB is tokenized and charged, then the SetupIntent succeeds and the payment too, with its receipt_email', async () => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const si = await tokenize(stripe, '3530111333300000');
    expect(si.status).toBe('succeeded');
    const pi = await charge(stripe, si);
    expect(pi).toMatchObject({ status: 'succeeded', receipt_email: 'dev@example.com', amount_received: 20000000 });
    expect((await stripe.charges.retrieve(pi.latest_charge as string)).receipt_email).toBe('dev@example.com');
  });

  it('when Radar’s fraud card is tokenized, then the setup is blocked: card_declined / fraudulent, last_setup_error set', async () => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const customer = await createCustomer(stripe);
    const pm = await rawCard(stripe, '4100000000000019');
    const err = await rejectionOf(
      stripe.setupIntents.create({ customer: customer.id, payment_method: pm.id, usage: 'off_session', confirm: true, allowed_payment_method_types: ['card'] }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect([err.statusCode, err.code, err.decline_code, err.message]).toEqual([402, 'card_declined', 'fraudulent', 'Your card was declined.']);
    const si = (err.raw as SetupErrorRaw).setup_intent;
    expect(si).toMatchObject({ status: 'requires_payment_method', last_setup_error: { code: 'card_declined', decline_code: 'fraudulent' } });
    expect((await stripe.paymentMethods.retrieve(pm.id)).customer).toBeNull();
  });

  it('when Radar’s fraud card is charged, then the charge is blocked: outcome blocked, risk_level highest, even with a challenge requested', async () => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const customer = await createCustomer(stripe);
    const err = await rejectionOf(
      stripe.paymentIntents.create({
        amount: 5000,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_radarBlock',
        confirm: true,
        return_url: 'https://hub.example/back',
        capture_method: 'manual',
        payment_method_options: { card: { request_three_d_secure: 'challenge' } },
        allowed_payment_method_types: ['card'],
      }),
    );
    expect([err.code, err.decline_code]).toEqual(['card_declined', 'fraudulent']);
    const failed = await stripe.charges.retrieve((err.raw as PaymentErrorRaw).charge);
    expect(failed).toMatchObject({
      status: 'failed',
      failure_code: 'card_declined',
      outcome: { type: 'blocked', risk_level: 'highest', network_status: 'not_sent_to_network', reason: 'highest_risk_level' },
    });
  });

  it.each([
    ['4000000000009995', 'insufficient_funds', 'Your card has insufficient funds.'],
    ['4000000000000341', 'generic_decline', 'Your card was declined.'],
  ])('when %s was tokenized and is charged, then the payment declines with %s', async (number, declineCode, message) => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const si = await tokenize(stripe, number);
    expect(si.status).toBe('succeeded');
    const err = await rejectionOf(charge(stripe, si));
    expect([err.statusCode, err.code, err.decline_code, err.message]).toEqual([402, 'card_declined', declineCode, message]);
    const pi = (err.raw as PaymentErrorRaw).payment_intent;
    expect(pi).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: declineCode } });
  });

  it('when 4000000000000002 is tokenized, then the setup fails with card_declined / generic_decline and setup_intent.setup_failed', async () => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const err = await rejectionOf(tokenize(stripe, '4000000000000002'));
    expect([err.code, err.decline_code]).toEqual(['card_declined', 'generic_decline']);
    const si = (err.raw as SetupErrorRaw).setup_intent;
    expect(si.last_setup_error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' });
    const events = await stripe.events.list({ type: 'setup_intent.setup_failed' });
    expect(events.data.map((e) => (e.data.object as Stripe.SetupIntent).id)).toContain(si.id);
  });

  it('when receipt_email is not an e-mail address, then it is refused', async () => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const si = await tokenize(stripe, '4242424242424242');
    const err = await rejectionOf(charge(stripe, si, { receipt_email: 'not-an-email' }));
    expect([err.statusCode, err.code, err.param]).toEqual([400, 'email_invalid', 'receipt_email']);
  });
});

describe('emulator: Payment Hub events, per vendor account', () => {
  const emulator = useEmulator({ apiKey: [KEY_A, KEY_B] });
  let receiverA: WebhookReceiver;
  let receiverB: WebhookReceiver;
  let secretA: string;
  beforeAll(async () => {
    receiverA = await startWebhookReceiver();
    receiverB = await startWebhookReceiver();
    secretA = emulator().addWebhookEndpoint(receiverA.url, ['*'], { apiKey: KEY_A }).secret;
    emulator().addWebhookEndpoint(receiverB.url, ['*'], { apiKey: KEY_B });
  });
  afterAll(async () => {
    await receiverA.close();
    await receiverB.close();
  });

  it("when vendor A tokenizes, authorizes with 3DS and captures, then A's endpoint gets every event in order and B's none", async () => {
    const stripe = stripeClient(emulator(), { key: KEY_A });
    const si = await tokenize(stripe, '4000000000001091');
    const pi = await stripe.paymentIntents.create({
      amount: 1000000,
      currency: 'idr',
      customer: si.customer as string,
      payment_method: si.payment_method as string,
      capture_method: 'manual',
      confirm: true,
      return_url: 'https://hub.example/back',
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
      allowed_payment_method_types: ['card'],
    });
    emulator().authenticatePaymentIntent(pi.id, 'pass');
    const captured = await stripe.paymentIntents.capture(pi.id);
    await emulator().settleWebhooks();

    const ids = [si.id, pi.id, captured.latest_charge, si.payment_method];
    const ours = receiverA.received.filter((r) => ids.includes(r.event.data.object.id));
    const types = ours.map((r) => r.event.type);
    expect(types).toEqual([
      'setup_intent.created',
      'payment_method.attached',
      'setup_intent.succeeded',
      'payment_intent.created',
      'payment_intent.requires_action',
      'charge.succeeded',
      'payment_intent.amount_capturable_updated',
      'charge.captured',
      'payment_intent.succeeded',
    ]);
    const webhooks = new Stripe(KEY_A).webhooks;
    for (const r of ours) expect(webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, secretA).id).toBe(r.event.id);
    expect(receiverB.received).toHaveLength(0);
  });
});
