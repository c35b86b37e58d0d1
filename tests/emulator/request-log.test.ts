import { startEmulator, type Emulator } from '../../emulator';
import { TEST_KEY, createCustomer, createSetupSession, stripeClient } from './emulator-test-helpers';

describe('emulator: request log', () => {
  let emulator: Emulator;
  const logLines: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ log: (msg, fields) => logLines.push(JSON.stringify({ msg, fields })) });
  });
  afterAll(() => emulator.close());

  it('when stripe-node calls the API, then each /v1 call is logged with parsed params, key and version', async () => {
    emulator.clearRequests();
    const stripe = stripeClient(emulator);
    const customer = await stripe.customers.create({ email: 'log@example.com', metadata: { ref: 'R1' } }, { idempotencyKey: 'log-key-1' });
    await stripe.checkout.sessions.retrieve('cs_test_missing', { expand: ['setup_intent.payment_method'] }).catch(() => undefined);

    const [create, retrieve] = emulator.requests();
    expect(create).toMatchObject({
      method: 'POST',
      path: '/v1/customers',
      params: { email: 'log@example.com', metadata: { ref: 'R1' } },
      idempotencyKey: 'log-key-1',
      stripeVersion: '2026-10-28.endive',
      status: 200,
      replayed: false,
    });
    expect(typeof create.at).toBe('number');
    expect(retrieve).toMatchObject({
      method: 'GET',
      path: '/v1/checkout/sessions/cs_test_missing',
      params: { expand: ['setup_intent.payment_method'] },
      status: 404,
    });
    expect(retrieve.idempotencyKey).toBeUndefined();
    expect(customer.id).toMatch(/^cus_/);
  });

  it('when the log is read and cleared over HTTP, then it matches the in-process log', async () => {
    emulator.clearRequests();
    await fetch(`${emulator.url}/v1/balance`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
    const res = await fetch(`${emulator.url}/_emulator/requests`);
    const body = (await res.json()) as { data: Array<{ path: string; status: number }> };
    expect(body.data).toEqual(emulator.requests());
    expect(body.data.map((r) => [r.path, r.status])).toEqual([['/v1/balance', 200]]);
    await fetch(`${emulator.url}/_emulator/requests`, { method: 'DELETE' });
    expect(emulator.requests()).toEqual([]);
  });

  it('when card numbers and CVCs pass through the API, the hosted page and the control API, then no log holds them', async () => {
    emulator.clearRequests();
    const stripe = stripeClient(emulator);
    await stripe.customers.create({ description: 'card 4000 0025 0000 3155 cvc', metadata: { cvc: '987' } });
    const customer = await createCustomer(stripe);
    const viaPage = await createSetupSession(stripe, customer.id);
    await fetch(viaPage.url as string, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ number: '5555555555554444', exp: '12/39', cvc: '456' }).toString(),
      redirect: 'manual',
    });
    const viaControl = await createSetupSession(stripe, customer.id);
    await fetch(`${emulator.url}/_emulator/checkout/sessions/${viaControl.id}/complete`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ card: '4000000000009995', cvc: '456' }),
    });

    const logged = JSON.stringify(emulator.requests()) + logLines.join('\n');
    expect(logged).toContain('****3155');
    for (const secret of ['4000002500003155', '4000 0025 0000 3155', '"987"', '5555555555554444', '4000000000009995', '"456"']) {
      expect(logged).not.toContain(secret);
    }
    // Cards entered on the page or through the control API are not kept in any object either.
    const events = JSON.stringify(await (await fetch(`${emulator.url}/_emulator/events`)).json());
    for (const secret of ['5555555555554444', '4000000000009995', '"456"']) expect(events).not.toContain(secret);
    // The emulator did act on those cards: last4 is all it kept.
    const methods = await stripe.customers.listPaymentMethods(customer.id);
    expect(methods.data.map((p) => p.card?.last4).sort()).toEqual(['4444', '9995']);
  });
});
