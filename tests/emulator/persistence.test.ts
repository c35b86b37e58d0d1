import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';
import { control, createCustomer, createSetupSession, rejectionOf, startWebhookReceiver, stripeClient } from './emulator-test-helpers';

const FUTURE_EXP = `12/${String((new Date().getUTCFullYear() + 4) % 100).padStart(2, '0')}`;

interface LogLine {
  msg: string;
  fields?: Record<string, unknown>;
}

describe('emulator: state file', () => {
  let dir: string;
  let stateFile: string;
  const running: Emulator[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-state-'));
    stateFile = path.join(dir, 'stripe-emulator.json');
  });
  afterEach(async () => {
    for (const e of running.splice(0)) await e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(opts: EmulatorOptions = {}): Promise<{ emulator: Emulator; stripe: Stripe; logs: LogLine[] }> {
    const logs: LogLine[] = [];
    const emulator = await startEmulator({ stateFile, log: (msg, fields) => logs.push({ msg, fields }), ...opts });
    running.push(emulator);
    return { emulator, stripe: stripeClient(emulator), logs };
  }

  async function stop(emulator: Emulator): Promise<void> {
    running.splice(running.indexOf(emulator), 1);
    await emulator.close();
  }

  function filesInDir(): string[] {
    return fs.readdirSync(dir).sort();
  }

  it('when the emulator is closed and started again with the same file, then customers, completed sessions with their card, idempotent replays, events, the clock and webhook secrets are all still there', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const first = await start();
      const endpoint = first.emulator.addWebhookEndpoint(receiver.url);
      const customer = await first.stripe.customers.create({ email: 'ada@example.com', name: 'Ada' }, { idempotencyKey: 'customer-1' });
      const session = await createSetupSession(first.stripe, customer.id);
      first.emulator.completeCheckoutSession(session.id, '4242424242424242');
      first.emulator.advanceClock(3600);
      await first.emulator.settleWebhooks();
      const eventsBefore = (await first.stripe.events.list({ limit: 100 })).data.map((e) => e.id);
      expect(eventsBefore.length).toBeGreaterThan(0);
      await stop(first.emulator);
      expect(filesInDir()).toEqual(['stripe-emulator.json']);

      const second = await start();
      const { stripe, emulator } = second;
      expect(second.logs.map((l) => l.msg)).toContain('state file loaded');
      expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ id: customer.id, email: 'ada@example.com' });

      const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent.payment_method'] });
      expect(done.status).toBe('complete');
      const pm = (done.setup_intent as Stripe.SetupIntent).payment_method as Stripe.PaymentMethod;
      expect(pm).toMatchObject({ customer: customer.id, card: { last4: '4242', brand: 'visa' } });

      const replay = await stripe.customers.create({ email: 'ada@example.com', name: 'Ada' }, { idempotencyKey: 'customer-1' });
      expect(replay.id).toBe(customer.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
      const mismatch = await rejectionOf(stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: 'customer-1' }));
      expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

      expect((await stripe.events.list({ limit: 100 })).data.map((e) => e.id)).toEqual(eventsBefore);
      expect(emulator.now()).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 3600);

      // The service re-registers its endpoint on start: it gets the saved one, with the secret it had.
      expect(emulator.addWebhookEndpoint(receiver.url)).toEqual(endpoint);
      expect((await stripe.webhookEndpoints.list()).data).toHaveLength(1);

      // The saved card still behaves as its test card, and events are signed with the old secret.
      const pi = await stripe.paymentIntents.create({
        amount: 1999,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm.id,
        off_session: true,
        confirm: true,
        allowed_payment_method_types: ['card'],
      });
      expect(pi.status).toBe('succeeded');
      await emulator.settleWebhooks();
      const succeeded = receiver.received.find((r) => r.event.type === 'payment_intent.succeeded');
      expect(succeeded).toBeDefined();
      const verified = stripe.webhooks.constructEvent(succeeded!.body, succeeded!.headers['stripe-signature'] as string, endpoint.secret);
      expect(verified.data.object).toMatchObject({ id: pi.id });
    } finally {
      await receiver.close();
    }
  });

  it('when an object changes after the restart, then its update event still carries previous_attributes', async () => {
    const first = await start();
    const customer = await createCustomer(first.stripe);
    await stop(first.emulator);

    const { stripe } = await start();
    await stripe.customers.update(customer.id, { name: 'Ada King' });
    const [updated] = (await stripe.events.list({ type: 'customer.updated' })).data;
    expect(updated.data.previous_attributes).toMatchObject({ name: 'Ada Lovelace' });
  });

  it('when state changes, then the file is saved shortly afterwards without waiting for close, and never left half-written', async () => {
    const { stripe } = await start();
    const customer = await createCustomer(stripe);
    const deadline = Date.now() + 5000;
    let saved: { version?: number; accounts?: Array<{ customers: Array<{ id: string }> }> } | undefined;
    while (Date.now() < deadline) {
      if (fs.existsSync(stateFile)) {
        saved = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
        if (saved?.accounts?.[0]?.customers.some((c) => c.id === customer.id)) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(saved?.version).toBe(2);
    expect(saved?.accounts?.map((a) => a.customers.map((c) => c.id))).toEqual([[customer.id]]);
    expect(filesInDir()).toEqual(['stripe-emulator.json']);
  });

  it('when the state file is corrupt, then the emulator starts empty, logs it and keeps the corrupt copy', async () => {
    fs.writeFileSync(stateFile, '{"version":1,"customers":[{"id":"cus_');
    const { stripe, emulator, logs } = await start();

    expect((await stripe.customers.list()).data).toEqual([]);
    const warning = logs.find((l) => l.msg === 'state file unusable: starting empty');
    expect(warning?.fields).toMatchObject({ file: stateFile, severity: 'warn' });
    const kept = filesInDir().filter((f) => f.startsWith('stripe-emulator.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(warning?.fields?.keptAs).toBe(path.join(dir, kept[0]));
    expect(fs.readFileSync(path.join(dir, kept[0]), 'utf8')).toBe('{"version":1,"customers":[{"id":"cus_');

    // It goes on saving to the usual name.
    const customer = await createCustomer(stripe);
    await stop(emulator);
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8'))).toMatchObject({ version: 2, accounts: [{ customers: [{ id: customer.id }] }] });
  });

  it('when the state file has another version, then it is refused: the emulator starts empty and keeps the file aside', async () => {
    fs.writeFileSync(stateFile, JSON.stringify({ version: 3, accounts: [{ customers: [{ id: 'cus_fromthefuture' }] }] }));
    const { stripe, logs } = await start();

    expect((await stripe.customers.list()).data).toEqual([]);
    expect(logs.find((l) => l.msg === 'state file unusable: starting empty')?.fields?.reason).toMatch(/unsupported version 3/);
    expect(filesInDir().filter((f) => f.startsWith('stripe-emulator.json.corrupt-'))).toHaveLength(1);
  });

  it('when a file is valid JSON but not a state, then it is refused like a corrupt one', async () => {
    fs.writeFileSync(stateFile, JSON.stringify({ version: 1, customers: 'nope' }));
    const { stripe, logs } = await start();
    expect((await stripe.customers.list()).data).toEqual([]);
    expect(logs.find((l) => l.msg === 'state file unusable: starting empty')?.fields?.reason).toMatch(/^invalid: /);
  });

  it('when cards are entered on the hosted page and through the control API, then the file never holds a card number or a CVC', async () => {
    const { stripe, emulator } = await start();
    const customer = await createCustomer(stripe);

    const hosted = await createSetupSession(stripe, customer.id);
    const res = await fetch(hosted.url as string, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ number: '4242 4242 4242 4242', exp: FUTURE_EXP, cvc: '9731', name: 'Ada L' }).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);

    const viaControl = await createSetupSession(stripe, customer.id);
    const completed = await control(emulator, `/_emulator/checkout/sessions/${viaControl.id}/complete`, { card: '5555555555554444', cvc: '8642' });
    expect(completed.status).toBe(200);

    // A card number sent where an id belongs comes back in the error message, which the idempotency layer keeps.
    const echo = await rejectionOf(
      stripe.paymentIntents.create(
        { amount: 1000, currency: 'usd', customer: customer.id, payment_method: '4000056655665556', confirm: true, allowed_payment_method_types: ['card'] },
        { idempotencyKey: 'echo-1' },
      ),
    );
    expect(echo.message).toContain('4000056655665556');
    await stop(emulator);

    const text = fs.readFileSync(stateFile, 'utf8');
    expect(text).toContain('"last4":"4242"');
    expect(text).toContain('"last4":"4444"');
    for (const number of ['4242424242424242', '4242 4242 4242 4242', '5555555555554444', '4000056655665556']) expect(text).not.toContain(number);
    // CVCs only as standalone tokens: random ids may hold the same digits inside them.
    expect(text).not.toMatch(/(?<![A-Za-z0-9])(9731|8642)(?![A-Za-z0-9])/);
    expect(text).not.toMatch(/"(cvc|cvv|number)"\s*:/);
    expect(text).not.toContain('sk_test_');
  });

  it('when the stored error answer is replayed after a restart, then the card number stays masked and the replay is still a replay', async () => {
    const first = await start();
    const customer = await createCustomer(first.stripe);
    const params = {
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: '4000056655665556',
      confirm: true,
      allowed_payment_method_types: ['card'],
    };
    await rejectionOf(first.stripe.paymentIntents.create(params, { idempotencyKey: 'echo-2' }));
    await stop(first.emulator);

    const { stripe } = await start();
    const again = await rejectionOf(stripe.paymentIntents.create(params, { idempotencyKey: 'echo-2' }));
    expect(again.statusCode).toBe(400);
    expect(again.message).toContain('****5556');
    expect(again.headers?.['idempotent-replayed']).toBe('true');
  });

  it('when addWebhookEndpoint is called twice with one url, then there is one endpoint with one secret', async () => {
    const { stripe, emulator } = await start({ stateFile: undefined });
    const url = 'http://127.0.0.1:1/webhooks/stripe';
    const a = emulator.addWebhookEndpoint(url);
    const b = emulator.addWebhookEndpoint(url);
    expect(b).toEqual(a);
    const endpoints = (await stripe.webhookEndpoints.list()).data;
    expect(endpoints.map((e) => e.id)).toEqual([a.id]);

    // A disabled endpoint is not reused; the same url through the control API gets the enabled one.
    await stripe.webhookEndpoints.update(a.id, { disabled: true });
    const c = emulator.addWebhookEndpoint(url, ['payment_intent.succeeded']);
    expect(c.id).not.toBe(a.id);
    const viaControl = await control(emulator, '/_emulator/webhooks/endpoints', { url });
    expect(viaControl.json).toEqual(c);
    expect((await stripe.webhookEndpoints.retrieve(c.id)).enabled_events).toEqual(['*']);
  });
  it('when an authorization and a raw card outlive a restart, then the file holds no number, the capture still works and the lapse still comes', async () => {
    const first = await start();
    const customer = await createCustomer(first.stripe);
    const pm = await first.stripe.paymentMethods.create({ type: 'card', card: { number: '4000000000001091', exp_month: 12, exp_year: 2040, cvc: '321' } });
    const create = (amount: number) =>
      first.stripe.paymentIntents.create({
        amount,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm.id,
        capture_method: 'manual',
        confirm: true,
        off_session: true,
        allowed_payment_method_types: ['card'],
      });
    const kept = await create(2000);
    const lapsing = await create(3000);
    await stop(first.emulator);
    const text = fs.readFileSync(stateFile, 'utf8');
    expect(text).not.toContain('4000000000001091');
    expect(text).not.toContain('"cvc":"321"');

    const second = await start();
    expect((await second.stripe.paymentIntents.capture(kept.id, { amount_to_capture: 1500 })).amount_received).toBe(1500);
    second.emulator.advanceClock(7 * 24 * 60 * 60);
    expect(await second.stripe.paymentIntents.retrieve(lapsing.id)).toMatchObject({ status: 'canceled', cancellation_reason: 'automatic' });
  });
});
