import Stripe from 'stripe';
import { createCustomer, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: SetupIntents and PaymentMethods through the API', () => {
  const emulator = useEmulator();

  it('when a SetupIntent is confirmed with pm_card_visa, then it succeeds and the card is attached to the customer', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const si = await stripe.setupIntents.create({
      customer: customer.id,
      allowed_payment_method_types: ['card'],
      metadata: { purpose: 'save' },
    });
    expect(si).toMatchObject({ status: 'requires_payment_method', usage: 'off_session', metadata: { purpose: 'save' } });

    const confirmed = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa', expand: ['payment_method'] });
    expect(confirmed.status).toBe('succeeded');
    const pm = confirmed.payment_method as Stripe.PaymentMethod;
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.customer).toBe(customer.id);
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: 'card' })).data.map((p) => p.id)).toEqual([pm.id]);
  });

  it('when a SetupIntent is created with confirm and a 3DS-on-setup card, then it requires a redirect to the challenge', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const si = await stripe.setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_authenticationRequiredOnSetup',
      confirm: true,
      return_url: 'https://merchant.example/return',
    });
    expect(si.status).toBe('requires_action');
    expect(si.next_action?.type).toBe('redirect_to_url');
    const challenge = si.next_action?.redirect_to_url?.url as string;
    expect(challenge).toBe(`${emulator().url}/c/3ds/${si.id}`);

    const pass = await fetch(challenge, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'result=pass',
      redirect: 'manual',
    });
    expect(pass.status).toBe(303);
    const back = new URL(pass.headers.get('location') as string);
    expect(back.origin + back.pathname).toBe('https://merchant.example/return');
    expect(back.searchParams.get('setup_intent')).toBe(si.id);
    expect(back.searchParams.get('redirect_status')).toBe('succeeded');
    expect((await stripe.setupIntents.retrieve(si.id)).status).toBe('succeeded');
  });

  it('when a SetupIntent is confirmed with a declining card, then stripe-node raises StripeCardError carrying the SetupIntent', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const si = await stripe.setupIntents.create({ customer: customer.id });
    const err = await rejectionOf(stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa_chargeDeclinedLostCard' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.statusCode).toBe(402);
    expect(err.code).toBe('card_declined');
    expect(err.decline_code).toBe('lost_card');
    expect((err.raw as { setup_intent: Stripe.SetupIntent }).setup_intent.status).toBe('requires_payment_method');
    const after = await stripe.setupIntents.retrieve(si.id);
    expect(after.last_setup_error?.decline_code).toBe('lost_card');
  });

  it('when a succeeded SetupIntent is confirmed again, then it is refused with setup_intent_unexpected_state', async () => {
    const stripe = stripeClient(emulator());
    const si = await stripe.setupIntents.create({ payment_method: 'pm_card_visa', confirm: true });
    expect(si.status).toBe('succeeded');
    const err = await rejectionOf(stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' }));
    expect(err.code).toBe('setup_intent_unexpected_state');
  });

  it('when a SetupIntent is canceled, then it is canceled with the reason, and cannot be canceled twice', async () => {
    const stripe = stripeClient(emulator());
    const si = await stripe.setupIntents.create({});
    const canceled = await stripe.setupIntents.cancel(si.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    expect((await rejectionOf(stripe.setupIntents.cancel(si.id))).code).toBe('setup_intent_unexpected_state');
  });

  it('when a magic PaymentMethod id is retrieved twice, then each use is a fresh PaymentMethod of that card', async () => {
    const stripe = stripeClient(emulator());
    const a = await stripe.paymentMethods.retrieve('pm_card_threeDSecure2Required');
    const b = await stripe.paymentMethods.retrieve('pm_card_threeDSecure2Required');
    expect(a.id).not.toBe(b.id);
    expect(a.card).toMatchObject({ brand: 'visa', last4: '3220' });
    expect(a.card?.fingerprint).toBe(b.card?.fingerprint);
    expect(a).not.toHaveProperty('testCard');
  });

  it('when an unknown PaymentMethod is retrieved, then it is a 404', async () => {
    const err = await rejectionOf(stripeClient(emulator()).paymentMethods.retrieve('pm_card_nonsense'));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('resource_missing');
  });

  it('when a card is attached and detached, then the customer list follows', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    expect(pm.customer).toBe(customer.id);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(1);
    const detached = await stripe.paymentMethods.detach(pm.id);
    expect(detached.customer).toBeNull();
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(0);
    expect((await rejectionOf(stripe.paymentMethods.detach(pm.id))).statusCode).toBe(400);
  });

  it('when a card that declines on setup is attached, then attach raises a StripeCardError', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const err = await rejectionOf(stripe.paymentMethods.attach('pm_card_visa_chargeDeclined', { customer: customer.id }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.decline_code).toBe('generic_decline');
  });

  it('when the default payment method is set to an attached card, then the customer shows it, and an unattached one is refused', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const updated = await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    expect(updated.invoice_settings.default_payment_method).toBe(pm.id);
    const stray = await stripe.paymentMethods.retrieve('pm_card_visa');
    const err = await rejectionOf(stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: stray.id } }));
    expect(err.param).toBe('invoice_settings[default_payment_method]');
  });
});
