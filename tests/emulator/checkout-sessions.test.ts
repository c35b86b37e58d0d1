import Stripe from 'stripe';
import { EmulatorApiError } from '../../emulator';
import { createCustomer, createSetupSession, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

type Expanded = Stripe.Checkout.Session & { setup_intent: Stripe.SetupIntent & { payment_method: Stripe.PaymentMethod } };

async function control(url: string, path: string, body: Record<string, unknown>): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('emulator: setup-mode Checkout Sessions', () => {
  const emulator = useEmulator();

  it('when a setup session is created, then it is open with a SetupIntent awaiting a card and a hosted url', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id, { expand: ['setup_intent'] });
    const si = session.setup_intent as Stripe.SetupIntent;

    expect(session.id).toMatch(/^cs_test_[A-Za-z0-9]{58}$/);
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'setup',
      status: 'open',
      customer: customer.id,
      payment_status: 'no_payment_required',
      payment_method_types: ['card'],
      client_reference_id: 'order-42',
      metadata: { aid: 'A-1' },
      success_url: 'https://merchant.example/ok?session_id={CHECKOUT_SESSION_ID}',
      livemode: false,
      url: `${emulator().url}/c/pay/${session.id}`,
    });
    expect(session.expires_at - session.created).toBe(24 * 60 * 60);
    expect(si).toMatchObject({ object: 'setup_intent', status: 'requires_payment_method', usage: 'off_session', customer: customer.id });
    expect(si.client_secret).toMatch(new RegExp(`^${si.id}_secret_`));
  });

  it('when setup mode has neither currency nor allowed_payment_method_types, then it is refused', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(stripe.checkout.sessions.create({ mode: 'setup', success_url: 'https://m.example/ok' }));
    expect(err.code).toBe('parameter_missing');
    expect(err.param).toBe('currency');
  });

  it('when payment mode is requested, then the emulator says it is not supported yet', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(stripe.checkout.sessions.create({ mode: 'payment', currency: 'usd' }));
    expect(err.statusCode).toBe(400);
    expect(err.param).toBe('mode');
    expect(err.message).toMatch(/not supported by the emulator yet/);
  });

  it('when the session names an unknown customer, then it is a 400 resource_missing on customer', async () => {
    const err = await rejectionOf(createSetupSession(stripeClient(emulator()), 'cus_unknown123456'));
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('resource_missing');
    expect(err.param).toBe('customer');
  });

  it('when completed with 4242 through the control API, then the expanded retrieve shows a saved card', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id);

    const done = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/complete`, {
      card: '4242424242424242',
      exp_month: 11,
      exp_year: 2034,
    });
    expect(done.status).toBe(200);
    expect(done.json.redirect_url).toBe(`https://merchant.example/ok?session_id=${session.id}`);
    expect(done.json.session.status).toBe('complete');

    const got = (await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent.payment_method'] })) as Expanded;
    expect(got.status).toBe('complete');
    expect(got.url).toBeNull();
    expect(got.setup_intent.status).toBe('succeeded');
    expect(got.setup_intent.customer).toBe(customer.id);
    const pm = got.setup_intent.payment_method;
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.customer).toBe(customer.id);
    expect(pm.card).toMatchObject({ brand: 'visa', last4: '4242', exp_month: 11, exp_year: 2034, funding: 'credit', country: 'US' });

    const saved = await stripe.customers.listPaymentMethods(customer.id);
    expect(saved.data.map((p) => p.id)).toEqual([pm.id]);
  });

  it('when completed in-process with a magic id, then the customer gets a fresh PaymentMethod', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id);
    const result = emulator().completeCheckoutSession(session.id, 'pm_card_visa');
    expect(result.redirectUrl).toBe(`https://merchant.example/ok?session_id=${session.id}`);
    const si = await stripe.setupIntents.retrieve((result.session as Stripe.Checkout.Session).setup_intent as string, {
      expand: ['payment_method'],
    });
    expect(si.status).toBe('succeeded');
    expect((si.payment_method as Stripe.PaymentMethod).id).not.toBe('pm_card_visa');
    expect((si.payment_method as Stripe.PaymentMethod).card?.last4).toBe('4242');
  });

  it.each([['4000002500003155'], ['4000002760003184'], ['4000000000003220'], ['4000008400001629']])(
    'when 3DS card %s passes the challenge, then the card is saved',
    async (card) => {
      const stripe = stripeClient(emulator());
      const customer = await createCustomer(stripe);
      const session = await createSetupSession(stripe, customer.id);
      const done = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/complete`, { card, three_d_secure: 'pass' });
      expect(done.status).toBe(200);
      const got = (await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent.payment_method'] })) as Expanded;
      expect(got.setup_intent.status).toBe('succeeded');
      expect(got.setup_intent.payment_method.card?.last4).toBe(card.slice(-4));
    },
  );

  it('when a 3DS card fails the challenge, then the session stays open and the SetupIntent records the failure', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id);
    const failed = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/complete`, {
      card: '4000002760003184',
      three_d_secure: 'fail',
    });
    expect(failed.status).toBe(402);
    expect(failed.json.error.code).toBe('setup_intent_authentication_failure');

    const got = (await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] })) as Expanded;
    expect(got.status).toBe('open');
    expect(got.setup_intent.status).toBe('requires_payment_method');
    expect(got.setup_intent.payment_method).toBeNull();
    expect(got.setup_intent.last_setup_error?.code).toBe('setup_intent_authentication_failure');
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(0);

    // The customer can try again with another card.
    const retry = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/complete`, { card: '4242424242424242' });
    expect(retry.status).toBe(200);
  });

  it.each([
    ['4000000000000002', 'card_declined', 'generic_decline'],
    ['4000000000009987', 'card_declined', 'lost_card'],
    ['4000000000009979', 'card_declined', 'stolen_card'],
    ['4000000000000069', 'expired_card', 'expired_card'],
    ['4000000000000127', 'incorrect_cvc', 'incorrect_cvc'],
    ['4000000000000119', 'processing_error', 'processing_error'],
  ])('when declining card %s is entered, then it answers 402 %s/%s and the session stays open', async (card, code, declineCode) => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id);
    const res = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/complete`, { card });
    expect(res.status).toBe(402);
    expect(res.json.error).toMatchObject({ type: 'card_error', code, decline_code: declineCode });
    const got = (await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] })) as Expanded;
    expect(got.status).toBe('open');
    expect(got.setup_intent.last_setup_error).toMatchObject({ code, decline_code: declineCode });
  });

  it.each([
    ['4000000000009995', 'visa'],
    ['4000000000000341', 'visa'],
    ['3530111333300000', 'jcb'],
    ['5555555555554444', 'mastercard'],
    ['378282246310005', 'amex'],
  ])('when card %s is entered, then it is saved as a %s card (it only fails later, on charges, if at all)', async (card, brand) => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id);
    const res = emulator().completeCheckoutSession(session.id, card);
    expect((res.session as Stripe.Checkout.Session).status).toBe('complete');
    const [pm] = (await stripe.customers.listPaymentMethods(customer.id)).data;
    expect(pm.card).toMatchObject({ brand, last4: card.slice(-4) });
  });

  it('when a number fails Luhn, then the in-process completion throws incorrect_number', async () => {
    const stripe = stripeClient(emulator());
    const session = await createSetupSession(stripe, (await createCustomer(stripe)).id);
    let caught: unknown;
    try {
      emulator().completeCheckoutSession(session.id, '4242424242424241');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(EmulatorApiError);
    expect((caught as EmulatorApiError).body).toMatchObject({ type: 'card_error', code: 'incorrect_number' });
  });

  it('when the customer cancels, then the redirect goes to cancel_url and the session stays open', async () => {
    const stripe = stripeClient(emulator());
    const session = await createSetupSession(stripe, (await createCustomer(stripe)).id);
    const res = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/cancel`, {});
    expect(res.status).toBe(200);
    expect(res.json.redirect_url).toBe(`https://merchant.example/cancelled?session_id=${session.id}`);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it('when an open session is expired, then it is expired, its SetupIntent canceled, and it cannot be expired or completed again', async () => {
    const stripe = stripeClient(emulator());
    const session = await createSetupSession(stripe, (await createCustomer(stripe)).id);
    const expired = await stripe.checkout.sessions.expire(session.id, { expand: ['setup_intent'] });
    expect(expired.status).toBe('expired');
    expect(expired.url).toBeNull();
    expect((expired.setup_intent as Stripe.SetupIntent).status).toBe('canceled');

    const again = await rejectionOf(stripe.checkout.sessions.expire(session.id));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again.message).toMatch(/Only Checkout Sessions with a status in \["open"\] can be expired/);

    const complete = await control(emulator().url, `/_emulator/checkout/sessions/${session.id}/complete`, { card: '4242424242424242' });
    expect(complete.status).toBe(400);
    expect(complete.json.error.message).toMatch(/no longer open/);
  });

  it('when a completed session is expired, then it is refused', async () => {
    const stripe = stripeClient(emulator());
    const session = await createSetupSession(stripe, (await createCustomer(stripe)).id);
    emulator().completeCheckoutSession(session.id, '4242424242424242');
    const err = await rejectionOf(stripe.checkout.sessions.expire(session.id));
    expect(err.message).toMatch(/has a status of "complete"/);
  });

  it('when the emulator clock passes 24 hours, then an untouched session reads as expired', async () => {
    const stripe = stripeClient(emulator());
    const session = await createSetupSession(stripe, (await createCustomer(stripe)).id);
    emulator().advanceClock(24 * 60 * 60 - 60);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
    emulator().advanceClock(61);
    const later = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
    expect(later.status).toBe('expired');
    expect((later.setup_intent as Stripe.SetupIntent).status).toBe('canceled');
  });

  it('when expires_at is under 30 minutes away, then it is refused', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(createSetupSession(stripe, (await createCustomer(stripe)).id, { expires_at: emulator().now() + 60 }));
    expect(err.param).toBe('expires_at');
  });

  it('when sessions are listed by customer, then only that customer’s sessions come back', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const a = await createSetupSession(stripe, customer.id);
    const b = await createSetupSession(stripe, customer.id);
    await createSetupSession(stripe, (await createCustomer(stripe)).id);
    const list = await stripe.checkout.sessions.list({ customer: customer.id });
    expect(list.data.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
  });
});
