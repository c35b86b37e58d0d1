import Stripe from 'stripe';
import { rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

describe('emulator: API keys', () => {
  const emulator = useEmulator();

  it('when no API key is sent, then it answers 401 with the Stripe error envelope', async () => {
    const res = await fetch(`${emulator().url}/v1/customers`);
    expect(res.status).toBe(401);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^You did not provide an API key/);
  });

  it('when the key is not an sk_test_ key, then stripe-node raises StripeAuthenticationError without echoing the key', async () => {
    const stripe = stripeClient(emulator(), { key: 'pk_test_51abcdefghijklmnopWXYZ' });
    const err = await rejectionOf(stripe.customers.create({ email: 'a@example.com' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).toBe('Invalid API Key provided: pk_test_****WXYZ');
    expect(err.message).not.toContain('abcdefghijklmnop');
  });

  it('when a live key is used, then it is refused even though it looks valid', async () => {
    // Assembled at run time: a made-up key, but secret scanners should not see a live-key literal.
    const stripe = stripeClient(emulator(), { key: ['sk', 'live', '51secretsecret9876'].join('_') });
    const err = await rejectionOf(stripe.balance.retrieve());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.message).toContain('sk_live_****9876');
    expect(err.message).not.toContain('secretsecret');
  });

  it('when the key is sent with HTTP Basic auth as the user name, then it is accepted', async () => {
    const basic = Buffer.from('sk_test_basic_auth_key:').toString('base64');
    const res = await fetch(`${emulator().url}/v1/balance`, { headers: { Authorization: `Basic ${basic}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('balance');
  });
});

describe('emulator: a configured apiKey', () => {
  const emulator = useEmulator({ apiKey: 'sk_test_only_this_one' });

  it('when another sk_test_ key is used, then it is refused', async () => {
    const err = await rejectionOf(stripeClient(emulator(), { key: 'sk_test_some_other_key' }).balance.retrieve());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('when the configured key is used, then it is accepted', async () => {
    const balance = await stripeClient(emulator(), { key: 'sk_test_only_this_one' }).balance.retrieve();
    expect(balance.object).toBe('balance');
    expect(balance.available[0]).toMatchObject({ amount: 0, currency: 'usd' });
  });
});

describe('emulator: parameters', () => {
  const emulator = useEmulator();

  it('when an unknown parameter is sent, then it answers parameter_unknown naming it', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(stripe.customers.create({ email: 'a@example.com', foo: 'bar' } as Stripe.CustomerCreateParams));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('parameter_unknown');
    expect(err.param).toBe('foo');
    expect(err.message).toBe('Received unknown parameter: foo');
  });

  it('when an unknown nested parameter is sent, then the param is named in bracket notation', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(
      stripe.checkout.sessions.create({
        mode: 'setup',
        currency: 'usd',
        setup_intent_data: { description: 'x', colour: 'red' } as Stripe.Checkout.SessionCreateParams.SetupIntentData,
      }),
    );
    expect(err.code).toBe('parameter_unknown');
    expect(err.param).toBe('setup_intent_data[colour]');
  });

  it('when payment_method_types is sent (removed in stripe-node 23), then it is an unknown parameter', async () => {
    const res = await fetch(`${emulator().url}/v1/checkout/sessions`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk_test_x', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'mode=setup&currency=usd&payment_method_types[0]=card',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string } };
    expect(body.error).toMatchObject({ code: 'parameter_unknown', param: 'payment_method_types' });
  });

  it('when a required parameter is missing, then it answers parameter_missing', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(stripe.checkout.sessions.create({ currency: 'usd' }));
    expect(err.code).toBe('parameter_missing');
    expect(err.param).toBe('mode');
    expect(err.message).toBe('Missing required param: mode.');
  });

  it('when an enum value is not allowed, then the message lists the allowed values', async () => {
    const stripe = stripeClient(emulator());
    const err = await rejectionOf(stripe.setupIntents.create({ usage: 'sometimes' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.param).toBe('usage');
    expect(err.message).toBe('Invalid usage: must be one of on_session or off_session');
  });

  it('when an integer parameter is not a number, then it answers parameter_invalid_integer', async () => {
    const res = await fetch(`${emulator().url}/v1/customers?limit=ten`, { headers: { Authorization: 'Bearer sk_test_x' } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string } };
    expect(body.error).toMatchObject({ code: 'parameter_invalid_integer', param: 'limit' });
  });

  it('when the URL is not an endpoint, then it answers 404 Unrecognized request URL', async () => {
    const res = await fetch(`${emulator().url}/v1/widgets`, { headers: { Authorization: 'Bearer sk_test_x' } });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/widgets\)/);
  });

  it('when expand names a field that cannot be expanded, then it is refused before anything is created', async () => {
    const stripe = stripeClient(emulator());
    const before = await stripe.customers.list({ limit: 100 });
    const err = await rejectionOf(stripe.customers.create({ email: 'x@example.com', expand: ['secrets'] }));
    expect(err.message).toBe('This property cannot be expanded (secrets).');
    const after = await stripe.customers.list({ limit: 100 });
    expect(after.data.length).toBe(before.data.length);
  });
});
