import Stripe from 'stripe';
import { createCustomer, createSetupSession, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: events', () => {
  const emulator = useEmulator();

  it('when a card is saved through Checkout and charged, then GET /v1/events lists every step newest first with snapshots', async () => {
    const stripe = stripeClient(emulator());
    const startedAt = emulator().now();
    const customer = await createCustomer(stripe, 'events@example.com');
    const session = await createSetupSession(stripe, customer.id);
    emulator().completeCheckoutSession(session.id, '4242424242424242');
    const si = await stripe.setupIntents.retrieve((await stripe.checkout.sessions.retrieve(session.id)).setup_intent as string);
    const pi = await stripe.paymentIntents.create(
      {
        amount: 1999,
        currency: 'usd',
        customer: customer.id,
        payment_method: si.payment_method as string,
        off_session: true,
        confirm: true,
        allowed_payment_method_types: ['card'],
      },
      { idempotencyKey: 'tx-events-1' },
    );

    const events = (await stripe.events.list({ created: { gte: startedAt }, limit: 100 })).data.filter((e) => relatesTo(e, customer.id));
    expect(events.map((e) => e.type)).toEqual([
      'payment_intent.succeeded',
      'charge.succeeded',
      'payment_intent.created',
      'checkout.session.completed',
      'setup_intent.succeeded',
      'payment_method.attached',
      'setup_intent.created',
      'customer.created',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ object: 'event', api_version: '2026-10-28.endive', livemode: false, pending_webhooks: 0 });
      expect(e.id).toMatch(/^evt_/);
    }
    // Each event holds the object as it was then, not as it is now.
    const created = events.find((e) => e.type === 'payment_intent.created') as Stripe.Event;
    expect((created.data.object as Stripe.PaymentIntent).status).toBe('requires_confirmation');
    expect((events[0].data.object as Stripe.PaymentIntent).status).toBe('succeeded');
    // Events caused by an API call name the request; the customer's card entry has none.
    expect(events[0].request).toEqual({ id: pi.lastResponse.requestId, idempotency_key: 'tx-events-1' });
    expect(events.find((e) => e.type === 'checkout.session.completed')?.request).toEqual({ id: null, idempotency_key: null });
  });

  it('when events are filtered by type, types[], starting_after, and read by id, then the filters apply', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      allowed_payment_method_types: ['card'],
    });
    await rejectionOf(
      stripe.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
        allowed_payment_method_types: ['card'],
      }),
    );

    const failed = await stripe.events.list({ type: 'payment_intent.payment_failed', limit: 1 });
    expect(failed.data[0].type).toBe('payment_intent.payment_failed');
    const charges = await stripe.events.list({ types: ['charge.succeeded', 'charge.failed'], limit: 2 });
    expect(charges.data.map((e) => e.type)).toEqual(['charge.failed', 'charge.succeeded']);
    const wildcard = await stripe.events.list({ type: 'charge.*', limit: 2 });
    expect(wildcard.data.map((e) => e.id)).toEqual(charges.data.map((e) => e.id));
    const next = await stripe.events.list({ types: ['charge.succeeded', 'charge.failed'], limit: 1, starting_after: charges.data[0].id });
    expect(next.data.map((e) => e.id)).toEqual([charges.data[1].id]);

    const one = await stripe.events.retrieve(charges.data[0].id);
    expect(one).toEqual(expect.objectContaining({ id: charges.data[0].id, type: 'charge.failed' }));
    expect((await rejectionOf(stripe.events.retrieve('evt_missing'))).statusCode).toBe(404);
  });

  it('when a checkout session is expired by call or by time, then checkout.session.expired is recorded once for each', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const byCall = await createSetupSession(stripe, customer.id);
    await stripe.checkout.sessions.expire(byCall.id);
    const byTime = await createSetupSession(stripe, customer.id);
    emulator().advanceClock(25 * 60 * 60);
    await stripe.checkout.sessions.retrieve(byTime.id);
    await stripe.checkout.sessions.retrieve(byTime.id);

    const expired = (await stripe.events.list({ type: 'checkout.session.expired', limit: 100 })).data.map((e) => (e.data.object as Stripe.Checkout.Session).id);
    expect(expired.filter((id) => id === byCall.id)).toHaveLength(1);
    expect(expired.filter((id) => id === byTime.id)).toHaveLength(1);
  });

  it('when a session is created with setup_intent_data[metadata], then its SetupIntent carries it and setup_intent.created shows it', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id, { setup_intent_data: { metadata: { txId: 'tx-9', aid: '7' } }, expand: ['setup_intent'] });
    expect((session.setup_intent as Stripe.SetupIntent).metadata).toEqual({ txId: 'tx-9', aid: '7' });
    const created = (await stripe.events.list({ type: 'setup_intent.created', limit: 1 })).data[0];
    expect(created.data.object).toMatchObject({ id: (session.setup_intent as Stripe.SetupIntent).id, metadata: { txId: 'tx-9', aid: '7' } });
  });

  it('when SetupIntents need 3DS or decline, then setup_intent.requires_action and setup_intent.setup_failed are recorded', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const challenged = await stripe.setupIntents.create({
      customer: customer.id,
      payment_method: 'pm_card_authenticationRequired',
      confirm: true,
      return_url: 'https://m.example/r',
    });
    await rejectionOf(stripe.setupIntents.create({ customer: customer.id, payment_method: 'pm_card_visa_chargeDeclined', confirm: true }));
    const types = (await stripe.events.list({ types: ['setup_intent.requires_action', 'setup_intent.setup_failed'], limit: 2 })).data;
    expect(types.map((e) => e.type)).toEqual(['setup_intent.setup_failed', 'setup_intent.requires_action']);
    expect((types[1].data.object as Stripe.SetupIntent).id).toBe(challenged.id);
  });

  it('when a customer is updated, then customer.updated carries previous_attributes', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe, 'before@example.com');
    await stripe.customers.update(customer.id, { email: 'after@example.com' });
    const updated = (await stripe.events.list({ type: 'customer.updated', limit: 1 })).data[0];
    expect(updated.data.previous_attributes).toEqual({ email: 'before@example.com' });
    expect((updated.data.object as Stripe.Customer).email).toBe('after@example.com');
  });
});

/** Whether an event is about this test's customer (the emulator is shared by the tests of this file). */
function relatesTo(event: Stripe.Event, customerId: string): boolean {
  const object = event.data.object as unknown as { id: string; customer?: unknown };
  return object.id === customerId || object.customer === customerId;
}
