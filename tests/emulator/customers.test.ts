import Stripe from 'stripe';
import { TEST_KEY, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: customers', () => {
  const emulator = useEmulator();

  it('when a customer is created, then it is Stripe-shaped and can be retrieved by id', async () => {
    const stripe = stripeClient(emulator());
    const created = await stripe.customers.create({
      email: 'grace@example.com',
      name: 'Grace Hopper',
      metadata: { merchant_ref: 'M-7' },
    });
    expect(created.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(created).toMatchObject({
      object: 'customer',
      email: 'grace@example.com',
      name: 'Grace Hopper',
      livemode: false,
      metadata: { merchant_ref: 'M-7' },
      invoice_settings: { default_payment_method: null },
    });
    expect(Math.abs(created.created - Date.now() / 1000)).toBeLessThan(5);

    const fetched = await stripe.customers.retrieve(created.id);
    expect(fetched).toEqual(created);
  });

  it('when a customer does not exist, then retrieve raises a 404 resource_missing', async () => {
    const err = await rejectionOf(stripeClient(emulator()).customers.retrieve('cus_doesnotexist00'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('resource_missing');
    expect(err.message).toBe("No such customer: 'cus_doesnotexist00'");
  });

  it('when a customer is updated, then metadata merges and an empty value unsets a key', async () => {
    const stripe = stripeClient(emulator());
    const c = await stripe.customers.create({ metadata: { a: '1', b: '2' } });
    const updated = await stripe.customers.update(c.id, { name: 'New Name', metadata: { a: '', c: '3' } });
    expect(updated.name).toBe('New Name');
    expect(updated.metadata).toEqual({ b: '2', c: '3' });
  });

  it('when customers are listed with a limit, then the newest come first and has_more says there are more', async () => {
    const stripe = stripeClient(emulator());
    const tag = `list-${Date.now()}@example.com`;
    const first = await stripe.customers.create({ email: tag });
    const second = await stripe.customers.create({ email: tag });
    const third = await stripe.customers.create({ email: tag });
    const page = await stripe.customers.list({ email: tag, limit: 2 });
    expect(page.data.map((c) => c.id)).toEqual([third.id, second.id]);
    expect(page.has_more).toBe(true);
    const next = await stripe.customers.list({ email: tag, limit: 2, starting_after: second.id });
    expect(next.data.map((c) => c.id)).toEqual([first.id]);
    expect(next.has_more).toBe(false);
  });

  it('when a customer is deleted, then retrieve answers the deleted stub', async () => {
    const stripe = stripeClient(emulator());
    const c = await stripe.customers.create({ email: 'gone@example.com' });
    await stripe.customers.del(c.id);
    const fetched = await stripe.customers.retrieve(c.id);
    expect(fetched).toEqual({ id: c.id, object: 'customer', deleted: true });
  });

  it.each([
    ['en-gb', 'en-GB'],
    ['en-us', 'en-US'],
    ['id', 'id'],
    ['ja', 'ja'],
    ['th', 'th'],
    ['ko', 'ko'],
    ['zh-hk', 'zh-HK'],
    ['zh-cn', 'zh'],
    ['zh-tw', 'zh-TW'],
    ['ms', 'ms'],
  ])('when the hub language %s is sent as preferred locale %s, then the customer keeps it', async (_lang, locale) => {
    const stripe = stripeClient(emulator());
    const customer = await stripe.customers.create({ email: 'ada@example.com', preferred_locales: [locale] });
    expect(customer.preferred_locales).toEqual([locale]);
  });

  it('when preferred_locales are updated, then they replace the old ones; an unknown locale is refused', async () => {
    const stripe = stripeClient(emulator());
    const customer = await stripe.customers.create({ preferred_locales: ['ja', 'en'] });
    expect((await stripe.customers.update(customer.id, { preferred_locales: ['th'] })).preferred_locales).toEqual(['th']);
    const bad = await rejectionOf(stripe.customers.update(customer.id, { preferred_locales: ['en', 'en-gb'] }));
    expect([bad.statusCode, bad.param]).toEqual([400, 'preferred_locales[1]']);
    expect(bad.message).toMatch(/^Invalid preferred_locales\[1\]: must be one of bg, cs, /);
    expect((await rejectionOf(stripe.customers.create({ preferred_locales: ['klingon'] }))).param).toBe('preferred_locales[0]');
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({ preferred_locales: ['th'] });
  });
});

describe('emulator: ephemeral keys and balance', () => {
  const emulator = useEmulator();

  it('when an ephemeral key is created for a customer with an API version, then it has a secret and the customer', async () => {
    const stripe = stripeClient(emulator());
    const customer = await stripe.customers.create({ email: 'mobile@example.com' });
    const key = await stripe.ephemeralKeys.create({ customer: customer.id }, { apiVersion: '2026-10-28.endive' });
    expect(key.id).toMatch(/^ephkey_/);
    expect(key.secret).toMatch(/^ek_test_/);
    expect(key.expires).toBeGreaterThan(key.created);
    expect((key as unknown as { associated_objects: unknown }).associated_objects).toEqual([{ type: 'customer', id: customer.id }]);
  });

  it('when an ephemeral key is requested without a Stripe-Version header, then it is refused', async () => {
    const res = await fetch(`${emulator().url}/v1/ephemeral_keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_KEY}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'customer=cus_whatever',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/Stripe-Version/);
  });

  it('when an ephemeral key names an unknown customer, then it is a 400 resource_missing on customer', async () => {
    const err = await rejectionOf(stripeClient(emulator()).ephemeralKeys.create({ customer: 'cus_nobody' }, { apiVersion: '2026-10-28.endive' }));
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('resource_missing');
    expect(err.param).toBe('customer');
  });

  it('when the balance is read, then it is a zero usd balance in test mode', async () => {
    const balance = await stripeClient(emulator()).balance.retrieve();
    expect(balance).toMatchObject({ object: 'balance', livemode: false });
    expect(balance.available).toEqual([{ amount: 0, currency: 'usd', source_types: { card: 0 } }]);
  });
});
