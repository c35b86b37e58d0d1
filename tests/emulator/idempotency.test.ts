import Stripe from 'stripe';
import { TEST_KEY, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: idempotency', () => {
  const emulator = useEmulator();

  it('when a POST is repeated with the same key, then the first answer is replayed and only one object exists', async () => {
    const stripe = stripeClient(emulator());
    const email = `idem-${Date.now()}@example.com`;
    const first = await stripe.customers.create({ email }, { idempotencyKey: 'cust-create-1' });
    const second = await stripe.customers.create({ email }, { idempotencyKey: 'cust-create-1' });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    const list = await stripe.customers.list({ email });
    expect(list.data).toHaveLength(1);
    const logged = emulator()
      .requests()
      .filter((r) => r.idempotencyKey === 'cust-create-1');
    expect(logged.map((r) => r.replayed)).toEqual([false, true]);
  });

  it('when the same key is reused with different parameters, then it raises StripeIdempotencyError', async () => {
    const stripe = stripeClient(emulator());
    await stripe.customers.create({ email: 'one@example.com' }, { idempotencyKey: 'cust-create-2' });
    const err = await rejectionOf(stripe.customers.create({ email: 'two@example.com' }, { idempotencyKey: 'cust-create-2' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/^Keys for idempotent requests can only be used with the same parameters they were first used with/);
  });

  it('when the same key is used by a different API key, then it is a separate request', async () => {
    const a = stripeClient(emulator());
    const b = stripeClient(emulator(), { key: 'sk_test_another_account' });
    const first = await a.customers.create({ email: 'x@example.com' }, { idempotencyKey: 'shared-key' });
    const second = await b.customers.create({ email: 'x@example.com' }, { idempotencyKey: 'shared-key' });
    expect(second.id).not.toBe(first.id);
  });

  it('when a 4xx answer is replayed, then the same error comes back', async () => {
    const stripe = stripeClient(emulator());
    const params = { mode: 'setup' as const, customer: 'cus_missing', currency: 'usd' };
    const first = await rejectionOf(stripe.checkout.sessions.create(params, { idempotencyKey: 'bad-customer' }));
    const again = await rejectionOf(stripe.checkout.sessions.create(params, { idempotencyKey: 'bad-customer' }));
    expect(first.code).toBe('resource_missing');
    expect(again.code).toBe('resource_missing');
    expect(again.headers?.['idempotent-replayed']).toBe('true');
  });

  it('when a duplicate arrives while the first request is in flight, then it gets a 409 idempotency_error', async () => {
    // drop_after_acting with a delay holds the first request in flight; stripe-node then
    // retries the dropped connection once on its own and gets the stored answer.
    emulator().injectFault({ type: 'drop_after_acting', path: '/v1/customers', delayMs: 400 });
    const body = 'email=inflight%40example.com';
    const post = () =>
      fetch(`${emulator().url}/v1/customers`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${TEST_KEY}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Idempotency-Key': 'in-flight-1',
        },
        body,
      });
    const first = post().then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 100));
    const duplicate = await post();
    expect(duplicate.status).toBe(409);
    const err = (await duplicate.json()) as { error: { type: string; code: string } };
    expect(err.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_in_use' });
    expect(await first).toBe('dropped');

    const replay = await post();
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const customers = await stripeClient(emulator()).customers.list({ email: 'inflight@example.com' });
    expect(customers.data).toHaveLength(1);
    expect(((await replay.json()) as { id: string }).id).toBe(customers.data[0].id);
  });

  it('when the key is older than 24 hours of emulator time, then the request runs again', async () => {
    const stripe = stripeClient(emulator());
    const first = await stripe.customers.create({ email: 'old@example.com' }, { idempotencyKey: 'old-key' });
    emulator().advanceClock(24 * 60 * 60 + 1);
    const second = await stripe.customers.create({ email: 'old@example.com' }, { idempotencyKey: 'old-key' });
    expect(second.id).not.toBe(first.id);
  });
});
