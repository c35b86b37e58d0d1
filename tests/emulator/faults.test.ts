import Stripe from 'stripe';
import { startEmulator } from '../../emulator';
import { TEST_KEY, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: injected faults', () => {
  const emulator = useEmulator();

  beforeEach(() => emulator().clearRequests());

  it('when every attempt gets a 500, then stripe-node retries twice with the same key and raises StripeAPIError', async () => {
    emulator().injectFault({ type: 'error_500', count: 3, path: '/v1/customers' });
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const err = await rejectionOf(stripe.customers.create({ email: 'five-hundred@example.com' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err.statusCode).toBe(500);

    const attempts = emulator().requests();
    expect(attempts).toHaveLength(3);
    expect(attempts.map((r) => [r.status, r.fault])).toEqual([
      [500, 'error_500'],
      [500, 'error_500'],
      [500, 'error_500'],
    ]);
    expect(new Set(attempts.map((r) => r.idempotencyKey)).size).toBe(1);
    expect((await stripe.customers.list({ email: 'five-hundred@example.com' })).data).toHaveLength(0);
  });

  it('when only the first attempt gets a 500, then the retry succeeds', async () => {
    emulator().injectFault({ type: 'error_500' });
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const customer = await stripe.customers.create({ email: 'retry@example.com' });
    expect(customer.id).toMatch(/^cus_/);
    expect(
      emulator()
        .requests()
        .map((r) => r.status),
    ).toEqual([500, 200]);
  });

  it('when a 429 is injected, then stripe-node raises StripeRateLimitError without retrying', async () => {
    emulator().injectFault({ type: 'rate_limit_429', method: 'GET', path: '/v1/balance' });
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const err = await rejectionOf(stripe.balance.retrieve());
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err.code).toBe('rate_limit');
    expect(emulator().requests()).toHaveLength(1);
  });

  it('when a fault names another path, then it waits for a matching request', async () => {
    emulator().injectFault({ type: 'rate_limit_429', path: '/v1/checkout/sessions' });
    const stripe = stripeClient(emulator());
    await expect(stripe.balance.retrieve()).resolves.toMatchObject({ object: 'balance' });
    const err = await rejectionOf(stripe.checkout.sessions.create({ mode: 'setup', currency: 'usd' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
  });

  it('when a request hangs past the client timeout, then stripe-node raises StripeConnectionError', async () => {
    emulator().injectFault({ type: 'timeout', delayMs: 5000 });
    const stripe = stripeClient(emulator(), { timeout: 500 });
    const started = Date.now();
    const err = await rejectionOf(stripe.balance.retrieve());
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(emulator().requests()[0]).toMatchObject({ path: '/v1/balance', fault: 'timeout', status: 0 });
    await expect(stripe.balance.retrieve()).resolves.toMatchObject({ object: 'balance' });
  });

  it('when the answer is dropped after acting, then the retry with the same key gets the same object and only one exists', async () => {
    emulator().injectFault({ type: 'drop_after_acting', path: '/v1/customers' });
    const stripe = stripeClient(emulator(), { maxNetworkRetries: 2 });
    const email = `dropped-${Date.now()}@example.com`;
    const customer = await stripe.customers.create({ email }, { idempotencyKey: 'txn-123-customer' });

    const attempts = emulator().requests();
    expect(attempts.map((r) => ({ key: r.idempotencyKey, fault: r.fault, replayed: r.replayed, status: r.status }))).toEqual([
      { key: 'txn-123-customer', fault: 'drop_after_acting', replayed: false, status: 200 },
      { key: 'txn-123-customer', fault: undefined, replayed: true, status: 200 },
    ]);
    const list = await stripe.customers.list({ email });
    expect(list.data.map((c) => c.id)).toEqual([customer.id]);
  });

  it('when faults are injected through the control API, then they apply; a bad fault is refused', async () => {
    const post = (body: unknown) =>
      fetch(`${emulator().url}/_emulator/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ type: 'meteor_strike' })).status).toBe(400);
    expect((await post({ type: 'rate_limit_429', method: 'get', path: '/v1/balance' })).status).toBe(200);
    const res = await fetch(`${emulator().url}/v1/balance`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
    expect(res.status).toBe(429);
    const again = await fetch(`${emulator().url}/v1/balance`, { headers: { Authorization: `Bearer ${TEST_KEY}` } });
    expect(again.status).toBe(200);
  });
});

describe('emulator: faults for one account', () => {
  const emulator = useEmulator({ apiKey: [TEST_KEY, 'sk_test_other_account'] });

  it("when a fault names an account, then only that account's requests meet it", async () => {
    const other = stripeClient(emulator(), { key: 'sk_test_other_account' });
    const mine = stripeClient(emulator());
    emulator().injectFault({ type: 'rate_limit_429', path: '/v1/customers', account: emulator().accountId('sk_test_other_account') });
    expect((await mine.customers.list()).data).toEqual([]);
    expect(await rejectionOf(other.customers.list())).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((await other.customers.list()).data).toEqual([]);
    expect(
      emulator()
        .requests()
        .map((r) => [r.account, r.status]),
    ).toEqual([
      [emulator().accountId(TEST_KEY), 200],
      [emulator().accountId('sk_test_other_account'), 429],
      [emulator().accountId('sk_test_other_account'), 200],
    ]);
    const bad = await fetch(`${emulator().url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'error_500', account: 'cus_123' }),
    });
    expect(bad.status).toBe(400);
  });
});

describe('emulator: close', () => {
  it('when a request is hanging on a timeout fault, then close() still returns promptly', async () => {
    const emulator = await startEmulator();
    emulator.injectFault({ type: 'timeout' });
    const hanging = fetch(`${emulator.url}/v1/balance`, { headers: { Authorization: `Bearer ${TEST_KEY}` } }).then(
      () => 'answered',
      () => 'destroyed',
    );
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await emulator.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hanging).toBe('destroyed');
  });
});
