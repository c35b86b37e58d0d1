import Stripe from 'stripe';
import { EmulatorApiError, startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';
import { control, createCustomer, rejectionOf, startWebhookReceiver, stripeClient, type WebhookReceiver } from './emulator-test-helpers';

/** Each test gets its own emulator and receiver: endpoints and delivery controls are account-wide. */
function useWebhookRig(options: EmulatorOptions = {}): () => { emulator: Emulator; receiver: WebhookReceiver; stripe: Stripe } {
  let rig: { emulator: Emulator; receiver: WebhookReceiver; stripe: Stripe } | undefined;
  beforeEach(async () => {
    const emulator = await startEmulator(options);
    const receiver = await startWebhookReceiver();
    rig = { emulator, receiver, stripe: stripeClient(emulator) };
  });
  afterEach(async () => {
    await rig?.emulator.close();
    await rig?.receiver.close();
  });
  return () => {
    if (!rig) throw new Error('rig not started');
    return rig;
  };
}

async function chargeVisa(stripe: Stripe, customer: string): Promise<Stripe.PaymentIntent> {
  return stripe.paymentIntents.create({
    amount: 1000,
    currency: 'usd',
    customer,
    payment_method: 'pm_card_visa',
    confirm: true,
    allowed_payment_method_types: ['card'],
    off_session: true,
  });
}

describe('emulator: webhook endpoints API', () => {
  const rig = useWebhookRig();

  it('when an endpoint is created, then only the create answer shows its secret; it can be listed, disabled and deleted', async () => {
    const { stripe, receiver } = rig();
    const created = await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['payment_intent.succeeded', 'charge.refunded'],
      description: 'service',
    });
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      url: receiver.url,
      status: 'enabled',
      enabled_events: ['payment_intent.succeeded', 'charge.refunded'],
      description: 'service',
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_/);

    const read = await stripe.webhookEndpoints.retrieve(created.id);
    expect(read.secret).toBeUndefined();
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([created.id]);
    expect((await stripe.webhookEndpoints.update(created.id, { disabled: true })).status).toBe('disabled');
    expect(await stripe.webhookEndpoints.del(created.id)).toMatchObject({ id: created.id, deleted: true });
    expect((await rejectionOf(stripe.webhookEndpoints.retrieve(created.id))).statusCode).toBe(404);
  });

  it('when an endpoint is created without url or with a bad one, then it is refused', async () => {
    const { stripe } = rig();
    expect((await rejectionOf(stripe.webhookEndpoints.create({ url: 'not a url', enabled_events: ['*'] }))).param).toBe('url');
    expect((await rejectionOf(stripe.webhookEndpoints.create({ url: 'https://m.example/h', enabled_events: ['nonsense'] as never }))).param).toBe(
      'enabled_events[0]',
    );
  });
});

describe('emulator: signed webhook delivery', () => {
  const rig = useWebhookRig();

  it('when a payment succeeds, then each event reaches the endpoint in order, signed so that stripe.webhooks.constructEvent accepts it', async () => {
    const { emulator, receiver, stripe } = rig();
    const { secret } = emulator.addWebhookEndpoint(receiver.url);
    const customer = await createCustomer(stripe);
    const pi = await chargeVisa(stripe, customer.id);
    await emulator.settleWebhooks();

    expect(receiver.received.map((r) => r.event.type)).toEqual(['customer.created', 'payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded']);
    for (const hook of receiver.received) {
      const event = stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] as string, secret);
      expect(event.id).toBe(hook.event.id);
      expect(hook.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hook.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
      const t = Number(/t=(\d+)/.exec(hook.headers['stripe-signature'] as string)?.[1]);
      expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(5);
    }
    const last = receiver.received[3];
    expect(last.event.data.object.id).toBe(pi.id);
    expect(() => stripe.webhooks.constructEvent(last.body.replace('succeeded', 'canceled'), last.headers['stripe-signature'] as string, secret)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => stripe.webhooks.constructEvent(last.body, last.headers['stripe-signature'] as string, 'whsec_wrong')).toThrow();
    // Delivered and acknowledged: nothing pending any more.
    expect((await stripe.events.retrieve(last.event.id)).pending_webhooks).toBe(0);
  });

  it('when the emulator clock is far ahead, then the signature still carries wall-clock time and verifies', async () => {
    const { emulator, receiver, stripe } = rig();
    const { secret } = emulator.addWebhookEndpoint(receiver.url);
    emulator.advanceClock(3 * 24 * 60 * 60);
    await createCustomer(stripe);
    await emulator.settleWebhooks();
    const [hook] = receiver.received;
    expect(() => stripe.webhooks.constructEvent(hook.body, hook.headers['stripe-signature'] as string, secret)).not.toThrow();
    // constructEvent only refuses old timestamps; a future one would slip through, so check t itself.
    const t = Number(/t=(\d+)/.exec(hook.headers['stripe-signature'] as string)?.[1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(5);
    expect(hook.event).toMatchObject({ created: expect.any(Number) });
    expect((hook.event as unknown as { created: number }).created).toBeGreaterThan(t + 2 * 24 * 60 * 60);
  });

  it('when an endpoint enables only some events, then it receives only those', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url, ['payment_intent.succeeded', 'payment_intent.payment_failed']);
    const customer = await createCustomer(stripe);
    await chargeVisa(stripe, customer.id);
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
    await emulator.settleWebhooks();
    expect(receiver.received.map((r) => r.event.type)).toEqual(['payment_intent.succeeded', 'payment_intent.payment_failed']);
  });

  it('when the receiver is slow, then the API call that caused the event does not wait for the delivery', async () => {
    const { emulator, stripe } = rig();
    const slow = await startWebhookReceiver({ answerAfterMs: 800 });
    try {
      emulator.addWebhookEndpoint(slow.url);
      const started = Date.now();
      await createCustomer(stripe);
      expect(Date.now() - started).toBeLessThan(400);
      await emulator.settleWebhooks();
      expect(slow.received).toHaveLength(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    } finally {
      await slow.close();
    }
  });

  it('when the receiver answers 500 once, then the event is retried and the log shows both attempts', async () => {
    const { emulator, receiver, stripe } = rig();
    const { id: endpointId } = emulator.addWebhookEndpoint(receiver.url);
    receiver.answerNext(500);
    const customer = await createCustomer(stripe);
    await emulator.settleWebhooks();

    const deliveries = emulator.deliveries();
    expect(deliveries.map((d) => [d.type, d.attempt, d.status, d.endpointId])).toEqual([
      ['customer.created', 1, 500, endpointId],
      ['customer.created', 2, 200, endpointId],
    ]);
    expect(deliveries[1].at).toBeGreaterThanOrEqual(deliveries[0].at + 40);
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual([customer.id, customer.id]);
  });

  it('when an event waits for its retry, then later events wait behind it: order is kept per endpoint', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url);
    receiver.answerNext(503);
    await createCustomer(stripe, 'first@example.com');
    await createCustomer(stripe, 'second@example.com');
    await emulator.settleWebhooks();
    expect(receiver.received.map((r) => (r.event.data.object as unknown as { email: string }).email)).toEqual([
      'first@example.com',
      'first@example.com',
      'second@example.com',
    ]);
  });

  it('when nobody listens at the url, then the delivery is attempted three times and given up with the network error', async () => {
    const { emulator, stripe } = rig();
    const gone = await startWebhookReceiver();
    await gone.close();
    emulator.addWebhookEndpoint(gone.url);
    await createCustomer(stripe);
    await emulator.settleWebhooks();
    const attempts = emulator.deliveries();
    expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
      [1, null],
      [2, null],
      [3, null],
    ]);
    expect(attempts[0].error).toMatch(/ECONNREFUSED/);
    expect((await stripe.events.retrieve(attempts[0].eventId)).pending_webhooks).toBe(1);
  });

  it('when deliveries are failed on purpose, then they are not sent and are retried', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url);
    emulator.failWebhookDeliveries(2);
    await createCustomer(stripe);
    await emulator.settleWebhooks();
    expect(emulator.deliveries().map((d) => [d.attempt, d.status])).toEqual([
      [1, null],
      [2, null],
      [3, 200],
    ]);
    expect(receiver.received).toHaveLength(1);
  });

  it('when webhooks are paused and released in reverse with duplicates, then the held events arrive newest first, each twice in a row', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url);
    emulator.pauseWebhooks();
    const a = await createCustomer(stripe, 'a@example.com');
    const b = await createCustomer(stripe, 'b@example.com');
    const c = await createCustomer(stripe, 'c@example.com');
    await emulator.settleWebhooks();
    expect(receiver.received).toHaveLength(0);

    emulator.releaseWebhooks({ order: 'reverse', duplicate: true });
    await emulator.settleWebhooks();
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual([c.id, c.id, b.id, b.id, a.id, a.id]);
    expect(receiver.received[0].event.id).toBe(receiver.received[1].event.id);

    // Released: delivery is normal again.
    const d = await createCustomer(stripe, 'd@example.com');
    await emulator.settleWebhooks();
    expect(receiver.received.slice(6).map((r) => r.event.data.object.id)).toEqual([d.id]);
  });

  it('when duplicates are switched on, then every event is delivered twice until switched off', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url);
    emulator.duplicateWebhooks(true);
    await createCustomer(stripe);
    emulator.duplicateWebhooks(false);
    await createCustomer(stripe);
    await emulator.settleWebhooks();
    const ids = receiver.received.map((r) => r.event.id);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('when an event is lost, then it is not delivered or retried but stays in GET /v1/events, and redelivering it sends it', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url);
    emulator.loseWebhooks(1, { type: 'payment_intent.succeeded' });
    const customer = await createCustomer(stripe);
    const pi = await chargeVisa(stripe, customer.id);
    await emulator.settleWebhooks();

    expect(receiver.received.map((r) => r.event.type)).toEqual(['customer.created', 'payment_intent.created', 'charge.succeeded']);
    const lost = (await stripe.events.list({ type: 'payment_intent.succeeded', limit: 1 })).data[0];
    expect((lost.data.object as Stripe.PaymentIntent).id).toBe(pi.id);
    expect(emulator.deliveries().filter((d) => d.eventId === lost.id)).toEqual([
      expect.objectContaining({ attempt: 1, status: null, error: expect.stringMatching(/lost/) }),
    ]);

    // The loss was used up: the next payment's success arrives.
    await chargeVisa(stripe, customer.id);
    await emulator.settleWebhooks();
    expect(receiver.received.filter((r) => r.event.type === 'payment_intent.succeeded')).toHaveLength(1);

    // A new call replaces what is left of the previous one: 0 stops losing.
    emulator.loseWebhooks(5);
    emulator.loseWebhooks(0);
    await createCustomer(stripe);
    await emulator.settleWebhooks();
    expect(receiver.received[receiver.received.length - 1].event.type).toBe('customer.created');

    emulator.redeliverEvent(lost.id);
    await emulator.settleWebhooks();
    expect(receiver.received[receiver.received.length - 1].event.id).toBe(lost.id);
    expect(() => emulator.redeliverEvent('evt_missing')).toThrow(EmulatorApiError);
  });

  it('when the controls are used over HTTP, then they do what the in-process ones do', async () => {
    const { emulator, receiver, stripe } = rig();
    const endpoint = await control(emulator, '/_emulator/webhooks/endpoints', { url: receiver.url, events: ['customer.created'] });
    expect(endpoint.json.secret).toMatch(/^whsec_/);
    expect((await control(emulator, '/_emulator/webhooks/pause')).status).toBe(200);
    const first = await createCustomer(stripe, '1@example.com');
    const second = await createCustomer(stripe, '2@example.com');
    expect((await control(emulator, '/_emulator/webhooks/release', { order: 'reverse' })).status).toBe(200);
    expect((await control(emulator, '/_emulator/webhooks/settle')).json).toEqual({ settled: true });
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual([second.id, first.id]);

    await control(emulator, '/_emulator/webhooks/lose', { count: 1 });
    await createCustomer(stripe, '3@example.com');
    await control(emulator, '/_emulator/webhooks/fail', { count: 1 });
    const fourth = await createCustomer(stripe, '4@example.com');
    await control(emulator, '/_emulator/webhooks/settle');
    expect(receiver.received.map((r) => r.event.data.object.id).slice(2)).toEqual([fourth.id]);

    await control(emulator, '/_emulator/webhooks/redeliver', { event: receiver.received[0].event.id });
    await control(emulator, '/_emulator/webhooks/duplicate', { on: true });
    await control(emulator, '/_emulator/webhooks/settle');
    expect(receiver.received.map((r) => r.event.data.object.id).slice(3)).toEqual([second.id]);
    const log = (await (await fetch(`${emulator.url}/_emulator/webhooks/deliveries`)).json()) as { data: Array<{ status: number | null }> };
    expect(log.data.map((d) => d.status)).toEqual([200, 200, null, null, 200, 200]);
    expect((await control(emulator, '/_emulator/webhooks/release', { order: 'sideways' })).status).toBe(400);
  });

  it('when the emulator closes with a retry pending, then close returns promptly and nothing more is sent', async () => {
    const emulator = await startEmulator({ webhookRetryDelaysMs: [5000] });
    const receiver = await startWebhookReceiver();
    try {
      emulator.addWebhookEndpoint(receiver.url);
      receiver.answerNext(500);
      await createCustomer(stripeClient(emulator));
      while (emulator.deliveries().length === 0) await new Promise((r) => setTimeout(r, 10));
      const started = Date.now();
      await emulator.close();
      expect(Date.now() - started).toBeLessThan(1000);
      await emulator.settleWebhooks();
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('emulator: webhook retry configuration', () => {
  const rig = useWebhookRig({ webhookRetryDelaysMs: [5, 5, 5, 5] });

  it('when webhookRetryDelaysMs has four delays, then a failing endpoint gets five attempts', async () => {
    const { emulator, receiver, stripe } = rig();
    emulator.addWebhookEndpoint(receiver.url);
    receiver.answerNext(500, 500, 500, 500, 500);
    await createCustomer(stripe);
    await emulator.settleWebhooks();
    expect(emulator.deliveries().map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(receiver.received).toHaveLength(5);
  });
});
