import request from 'supertest';
import { accountWithCard } from '../support/card-setup';
import { getRequestFields, newAid, signed } from '../support/billrun-requests';
import { newReference, pay } from '../support/payment-requests';
import { startTestContext, TEST_OAUTH_CLIENT, TEST_SECRET, type TestContext } from '../support/test-context';

/** One test per finding of the hostile probe (issue "Hardening"); each failed before its fix. */

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(async () => {
  await ctx.emulator.settleWebhooks();
  ctx.emulator.clearRequests();
});

const nowS = (): string => String(Math.floor(ctx.clock.now().getTime() / 1000));

function signedWebhook(payload: string, path = '/webhooks/stripe') {
  const header = ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: ctx.webhookSecret });
  return request(ctx.app).post(path).set('Content-Type', 'application/json').set('Stripe-Signature', header).timeout({ response: 5000 }).send(payload);
}

describe('1. names chosen by the request are never looked up in plain objects', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'when a signed webhook has type %s, then it is recorded as not handled and no configuration reaches the row or the log',
    async (type) => {
      ctx.logs.length = 0;
      const id = `evt_proto_${type.replace(/_/g, '')}_${Date.now()}`;
      const res = await signedWebhook(JSON.stringify({ id, object: 'event', type, data: { object: { id: 'pi_nothing', object: 'payment_intent' } } }));
      // `__proto__` is not a Stripe event type (no dots, but underscores are allowed): refused or ignored, never 5xx.
      expect(res.status).toBeLessThan(500);
      const row = await ctx.db('stripe_events').where({ id }).first();
      if (res.status === 200) expect(row.outcome).toBe('ignored: event type not handled');
      const everything = JSON.stringify(row ?? {}) + ctx.logs.join('\n');
      for (const secret of [TEST_SECRET, ctx.config.session.secret, ctx.webhookSecret, TEST_OAUTH_CLIENT.client_secret, 'sk_test_']) {
        expect(everything).not.toContain(secret);
      }
    },
  );

  test.each(['constructor', 'CONSTRUCTOR', '__proto__', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'])(
    'when /paymentgateways/%s is called with any method, then 404 "Unknown action" answers at once',
    async (action) => {
      for (const method of ['get', 'post', 'put', 'delete'] as const) {
        const res = await request(ctx.app)[method](`/paymentgateways/${action}`).timeout({ response: 3000 });
        expect(res.status).toBe(404);
        expect(res.body).toEqual({ status: 0, code: 17577, message: 'Unknown action', display: { code: 999, desc: 'General error.' } });
      }
    },
  );

  test.each(['constructor', 'toString', '__proto__', 'CONSTRUCTOR', 'valueOf'])(
    'when pay names the currency %s, then it is refused as unsupported',
    async (currency) => {
      const res = await pay(ctx, { aid: newAid(), amount: '10.00', currency });
      expect(res.body).toMatchObject({ status: 0, message: expect.stringMatching(/^Unsupported currency/) });
      expect(await ctx.db('charges').where({ reference: res.body.details?.reference ?? '' })).toHaveLength(0);
    },
  );

  test('when a Stripe parameter name is `constructor` at the emulator, then it is an unknown parameter and Object is untouched', async () => {
    const before = Object.getOwnPropertyNames(Object).sort();
    const res = await fetch(`${ctx.emulator.url}/v1/customers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ctx.config.stripe.secretKey}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'metadata[constructor][polluted]=yes&constructor[polluted]=yes',
    });
    expect(res.status).toBe(400);
    expect(Object.getOwnPropertyNames(Object).sort()).toEqual(before);
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('when the configuration is serialized by mistake, then no secret is in the text', () => {
    const text = JSON.stringify({ config: ctx.config, deps: ctx.deps });
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain(ctx.config.session.secret);
    expect(text).toContain('[Config: not serializable]');
  });
});

describe('2. a client mistake is a 4xx, never a 5xx', () => {
  test.each(['%00', 'abc%00def', '%00'.repeat(40), `${'A'.repeat(31)}%00`])(
    'when the 3-D Secure link token is %s, then 404 on GET, POST and return',
    async (token) => {
      for (const res of [
        await request(ctx.app).get(`/pay/authenticate/${token}`),
        await request(ctx.app).post(`/pay/authenticate/${token}`),
        await request(ctx.app).get(`/pay/authenticate/${token}/return`),
      ]) {
        expect(res.status).toBe(404);
        expect(res.text).toContain('Link not valid');
      }
    },
  );

  test.each([
    ['null', 'null'],
    ['an array', '[]'],
    ['a string', '"evt"'],
    ['an event without data', JSON.stringify({ id: 'evt_nodata', type: 'payment_intent.succeeded' })],
    ['an event whose object is null', JSON.stringify({ id: 'evt_nullobj', type: 'payment_intent.succeeded', data: { object: null } })],
    ['an id with a NUL byte', JSON.stringify({ id: 'evt_\u0000', type: 'invoice.paid', data: { object: { id: 'in_1' } } })],
    [
      'a NUL byte in metadata',
      JSON.stringify({ id: 'evt_nulmeta', type: 'checkout.session.completed', data: { object: { id: 'cs_x', metadata: { txId: '1\u00002' } } } }),
    ],
    ['an object id that is a number', JSON.stringify({ id: 'evt_numid', type: 'invoice.paid', data: { object: { id: 5 } } })],
  ])('when a correctly signed webhook body is %s, then 400 and nothing is recorded', async (_what, payload) => {
    const before = await ctx.db('stripe_events').count({ n: '*' }).first();
    const res = await signedWebhook(payload, '/api/v1/hook/stripe');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String) });
    expect(await ctx.db('stripe_events').count({ n: '*' }).first()).toEqual(before);
  });
});

describe("2b. every casing of a path gets its protocol's own answer", () => {
  test('when the body cannot be read on a mixed-case BillRun or OAuth path, then the same envelope as the lower-case path', async () => {
    for (const path of ['/paymentgateways/getRequest', '/PaymentGateways/getRequest']) {
      const res = await request(ctx.app).post(path).set('Content-Type', 'application/json').send('{');
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 200,
        body: expect.objectContaining({ status: 0, message: 'The request body could not be read' }),
      });
    }
    for (const path of ['/oauth2/token', '/OAuth2/Token']) {
      const res = await request(ctx.app).post(path).set('Content-Type', 'application/json').send('{');
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 400,
        body: { error: 'invalid_request', error_description: 'The request body could not be read' },
      });
    }
  });
});

describe('3. the OAuth token is accepted only as issued', () => {
  const getRequestWith = (token: string) =>
    request(ctx.app)
      .get('/paymentgateways/getRequest')
      .set('Authorization', `Bearer ${token}`)
      .query({ data: JSON.stringify(getRequestFields({}, ctx.clock.now())) });

  test('when the token is altered in any way that decodes to the same bytes, then "Failed to authenticate"', async () => {
    const issued = await request(ctx.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', ...TEST_OAUTH_CLIENT });
    const token = issued.body.access_token as string;
    expect((await getRequestWith(token)).body.status).toBe(1);

    const [prefix, payload, mac] = token.split('.');
    const macBytes = Buffer.from(mac, 'base64url');
    // 32 bytes -> 43 characters, the last one carries 4 bits that decoding drops.
    const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(mac.at(-1) as string);
    const unusedBits = `${mac.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex ^ 1]}`;
    expect(Buffer.from(unusedBits, 'base64url')).toEqual(macBytes);
    const standard = macBytes.toString('base64');
    const variants = [
      `${token}==`,
      `${token}!!`,
      `${prefix}.${payload}.${mac.slice(0, 10)}*${mac.slice(10)}`,
      `${prefix}.${payload}.${unusedBits}`,
      `${prefix}.${payload}.${standard}`,
      `${prefix}.${payload}=.${mac}`,
    ];
    for (const variant of variants) {
      const res = await getRequestWith(variant);
      expect({ variant, body: res.body }).toEqual({ variant, body: expect.objectContaining({ status: 0, message: 'Failed to authenticate' }) });
    }
  });
});

describe('4. a signature never stands without a time', () => {
  test.each([
    ['null', null],
    ['absent', undefined],
  ])('when signed list data has _t_ %s, then it is refused', async (_what, t) => {
    const fields: Record<string, unknown> = { name: 'StripeCheckout', _t_: t };
    if (t === undefined) delete fields._t_;
    const res = await request(ctx.app)
      .get('/paymentgateways/list')
      .query({ data: signed(fields) });
    expect(res.body).toEqual({ status: 0, code: 17577, message: 'Invalid arguments', display: { code: 999, desc: 'General error.' } });
  });

  test('when signed list data has a fresh _t_, then the gateway is described', async () => {
    const res = await request(ctx.app)
      .get('/paymentgateways/list')
      .query({ data: signed({ name: 'StripeCheckout', _t_: nowS() }) });
    expect(res.body).toMatchObject({ status: 1, details: [{ name: 'StripeCheckout' }] });
  });

  test('when signed list data has a stale _t_, then "Failed to authenticate"', async () => {
    const stale = String(Math.floor(ctx.clock.now().getTime() / 1000) - ctx.config.billrun.signatureMaxAgeS - 60);
    const res = await request(ctx.app)
      .get('/paymentgateways/list')
      .query({ data: signed({ name: 'StripeCheckout', _t_: stale }) });
    expect(res.body).toMatchObject({ status: 0, message: 'Failed to authenticate' });
  });
});

describe('5. client pages with control characters are refused', () => {
  test.each([
    ['CR/LF', 'https://portal.example/ok\r\nSet-Cookie: x=1'],
    ['a tab', 'https://portal.example/o\tk'],
    ['a NUL byte', 'https://portal.example/ok\u0000'],
    ['a DEL', 'https://portal.example/ok\u007f'],
  ])('when ok_page holds %s, then getRequest refuses it and Stripe hears nothing', async (_what, okPage) => {
    const res = await request(ctx.app)
      .post('/paymentgateways/getRequest')
      .type('form')
      .send({ data: signed(getRequestFields({ ok_page: okPage }, ctx.clock.now())) });
    expect(res.body).toEqual({ status: 0, details: { message: 'Invalid ok/fail page: it must be an http(s) URL on an allowed origin' } });
    expect(ctx.emulator.requests().filter((r) => r.path === '/v1/checkout/sessions')).toHaveLength(0);
  });

  test('when fail_page holds a CR/LF, then it is refused too', async () => {
    const res = await request(ctx.app)
      .post('/paymentgateways/getRequest')
      .type('form')
      .send({ data: signed(getRequestFields({ fail_page: 'https://portal.example/fail\n' }, ctx.clock.now())) });
    expect(res.body.status).toBe(0);
    expect(ctx.emulator.requests().filter((r) => r.path === '/v1/checkout/sessions')).toHaveLength(0);
  });

  test('when Stripe (the emulator) is sent a success_url with a CR/LF, then it refuses it as Stripe does', async () => {
    const customer = await ctx.stripe.customers.create({});
    await expect(
      ctx.stripe.checkout.sessions.create({
        mode: 'setup',
        customer: customer.id,
        currency: 'usd',
        success_url: 'https://a.example/ok\r\nx',
        cancel_url: 'https://a.example/no',
      }),
    ).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code: 'url_invalid', param: 'success_url' });
  });
});

describe('6. guessing client secrets is limited', () => {
  const tokenRequest = (secret: string, clientId = TEST_OAUTH_CLIENT.client_id) =>
    request(ctx.app).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });

  test('when a client id gets 10 wrong secrets in a minute, then the next attempt is 429 with Retry-After, even with the right secret, and a minute later the right secret works', async () => {
    for (let i = 0; i < 10; i++) expect((await tokenRequest(`wrong-${i}`)).status).toBe(401);
    const limited = await tokenRequest('wrong-again');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.body).toEqual({ error: 'too_many_attempts', error_description: expect.stringContaining('Too many failed attempts') });
    // The right secret is not told apart while the limit holds: that would make guessing free.
    expect((await tokenRequest(TEST_OAUTH_CLIENT.client_secret)).status).toBe(429);

    ctx.clock.advance(61);
    const ok = await tokenRequest(TEST_OAUTH_CLIENT.client_secret);
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toEqual(expect.any(String));
  });

  test('when one address tries many client ids, then it is limited by address too', async () => {
    for (let i = 0; i < 10; i++) expect((await tokenRequest('x', `guess-${i}-${Date.now()}`)).status).toBe(401);
    expect((await tokenRequest('x', `guess-new-${Date.now()}`)).status).toBe(429);
    ctx.clock.advance(61);
  });

  test('when the client id is `constructor` or `__proto__`, then it is an ordinary unknown client', async () => {
    for (const clientId of ['constructor', '__proto__', 'toString']) {
      const res = await tokenRequest('x', clientId);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
    ctx.clock.advance(61);
  });
});

describe('9. the off-session charge is one real Stripe would accept', () => {
  test('when pay charges a saved card, then the PaymentIntent is restricted to cards, so no return_url is needed', async () => {
    const { aid } = await accountWithCard(ctx);
    ctx.emulator.clearRequests();
    const res = await pay(ctx, { aid, amount: '12.34', reference: newReference() });
    expect(res.body.details).toMatchObject({ status: 'Completed' });
    const [create] = ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');
    expect(create.params).toMatchObject({ allowed_payment_method_types: ['card'], off_session: 'true', confirm: 'true' });
    expect(create.params).not.toHaveProperty('return_url');
  });

  test('when a PaymentIntent accepting the Dashboard methods is confirmed off-session without return_url, then the emulator refuses it as Stripe does', async () => {
    const customer = await ctx.stripe.customers.create({});
    const pm = await ctx.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await expect(
      ctx.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: customer.id, payment_method: pm.id, off_session: true, confirm: true }),
    ).rejects.toMatchObject({ type: 'StripeInvalidRequestError', message: expect.stringMatching(/^A `return_url` must be specified/) });
    const later = await ctx.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: customer.id, payment_method: pm.id });
    await expect(ctx.stripe.paymentIntents.confirm(later.id, { off_session: true })).rejects.toMatchObject({ type: 'StripeInvalidRequestError' });
    const noRedirects = await ctx.stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm.id,
      off_session: true,
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    expect(noRedirects.status).toBe('succeeded');
  });
});
