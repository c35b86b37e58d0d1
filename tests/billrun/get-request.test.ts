import request from 'supertest';
import { getRequestFields, newAid, signed } from '../support/billrun-requests';
import { parseConfig } from '../../config';
import { createApp } from '../../app/app';
import { installationId } from '../../app/db';
import { startTestContext, TEST_OAUTH_CLIENT, TEST_STRIPE_KEY, testEnv, type TestContext } from '../support/test-context';
import { handshakeRows } from '../support/handshake-rows';
import { accountWithCard, okPageJson, startIframeSetup, stripeCustomerOf } from '../support/card-setup';
import { pay } from '../support/payment-requests';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
  // These tests count what OkPage and getRequest ask of Stripe: webhook handling (which re-reads
  // objects) is held back here and tested in tests/payments/webhooks.test.ts.
  ctx.emulator.pauseWebhooks();
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(() => ctx.emulator.clearRequests());

const thrown = (message: string) => ({ status: 0, code: 17577, message, display: { code: 999, desc: 'General error.' } });
const getRequest = (data: string) => request(ctx.app).get('/paymentgateways/getRequest').query({ data });
const stripeCalls = () => ctx.emulator.requests().map((r) => `${r.method} ${r.path}`);

describe('getRequest validation, in BillRun order and with its messages', () => {
  test('when the signature is wrong, then "Failed to authenticate" and nothing reaches Stripe', async () => {
    const res = await getRequest(signed(getRequestFields(), 'another-secret'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(thrown('Failed to authenticate'));
    expect(stripeCalls()).toEqual([]);
  });

  test('when a signed field is changed after signing, then "Failed to authenticate"', async () => {
    const data = signed(getRequestFields({ aid: 500 })).replace('"aid":500', '"aid":501');
    expect((await getRequest(data)).body).toEqual(thrown('Failed to authenticate'));
  });

  test('when data is missing, then "Failed to authenticate"', async () => {
    const res = await request(ctx.app).get('/paymentgateways/getRequest');
    expect(res.body).toEqual(thrown('Failed to authenticate'));
  });

  test('when _t_ is older than the freshness window, then "Failed to authenticate"', async () => {
    const stale = new Date(Date.now() - (ctx.config.billrun.signatureMaxAgeS + 60) * 1000);
    const res = await getRequest(signed(getRequestFields({}, stale)));
    expect(res.body).toEqual(thrown('Failed to authenticate'));
    expect(ctx.logs.join('\n')).toContain('stale _t_');
  });

  test('when aid is not numeric, then "need to pass numeric aid"', async () => {
    for (const aid of ['abc', '12a', -4, 1.5, null]) {
      const res = await getRequest(signed(getRequestFields({ aid })));
      expect(res.body).toEqual(thrown('need to pass numeric aid'));
    }
  });

  test('when _t_ is missing, then "Invalid arguments"', async () => {
    const res = await getRequest(signed(getRequestFields({ _t_: undefined })));
    expect(res.body).toEqual(thrown('Invalid arguments'));
  });

  test('when name is missing, then "need to pass payment gateway name"', async () => {
    const res = await getRequest(signed(getRequestFields({ name: undefined })));
    expect(res.body).toEqual(thrown('need to pass payment gateway name'));
  });

  test('when data is not JSON, then the error envelope says so instead of crashing', async () => {
    const res = await getRequest('{"aid":12,');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(thrown('Malformed data parameter: expected a JSON object'));
  });

  test('when the gateway name is not StripeCheckout, then the envelope names the problem', async () => {
    const res = await getRequest(signed(getRequestFields({ name: 'CreditGuard' })));
    expect(res.body).toEqual(thrown('Unsupported payment gateway: only StripeCheckout is served here'));
    expect(stripeCalls()).toEqual([]);
  });

  test('when an iframe request has no fail page, then "Missing ok/fail pages" in the failure shape', async () => {
    const res = await getRequest(signed(getRequestFields({ fail_page: undefined })));
    expect(res.body).toEqual({ status: 0, details: { message: 'Missing ok/fail pages' } });
    expect(stripeCalls()).toEqual([]);
  });

  test('when an ok page is not http(s), then it is refused before Stripe is called', async () => {
    const res = await getRequest(signed(getRequestFields({ ok_page: 'javascript:alert(1)' })));
    expect(res.body).toEqual({ status: 0, details: { message: 'Invalid ok/fail page: it must be an http(s) URL on an allowed origin' } });
    expect(stripeCalls()).toEqual([]);
  });
});

describe('getRequest, more refusals', () => {
  test('when _t_ lies in the future beyond the window, then "Failed to authenticate"', async () => {
    const future = new Date(Date.now() + (ctx.config.billrun.signatureMaxAgeS + 60) * 1000);
    expect((await getRequest(signed(getRequestFields({}, future)))).body).toEqual(thrown('Failed to authenticate'));
  });

  test('when the freshness window is 0, then an old _t_ is accepted (BillRun behaviour)', async () => {
    const config = parseConfig(testEnv({ STRIPE_SECRET_KEY: TEST_STRIPE_KEY, STRIPE_API_BASE: ctx.emulator.url, BILLRUN_SIGNATURE_MAX_AGE_S: '0' }));
    const lenient = createApp({ ...ctx.deps, config });
    const res = await request(lenient.app)
      .get('/paymentgateways/getRequest')
      .query({ data: signed(getRequestFields({}, new Date('2025-11-21T00:00:00Z'))) });
    lenient.session.close();
    expect(res.body.status).toBe(1);
  });

  test('when a POST body is not readable JSON, then the BillRun envelope, not a bare 400', async () => {
    const res = await request(ctx.app).post('/paymentgateways/getRequest').set('Content-Type', 'application/json').send('{"data":');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(thrown('The request body could not be read'));
  });

  test('when the instance name is too long, then it is refused before Stripe is called', async () => {
    const res = await getRequest(signed(getRequestFields({ name: `StripeCheckout#${'x'.repeat(120)}` })));
    expect(res.body).toEqual(thrown('Invalid payment gateway instance name'));
    expect(stripeCalls()).toEqual([]);
  });

  test('when redirect origins are configured, then a page on another origin is refused', async () => {
    const config = parseConfig(
      testEnv({ STRIPE_SECRET_KEY: TEST_STRIPE_KEY, STRIPE_API_BASE: ctx.emulator.url, ALLOWED_REDIRECT_ORIGINS: 'https://portal.example' }),
    );
    const strict = createApp({ ...ctx.deps, config });
    const ok = await request(strict.app)
      .get('/paymentgateways/getRequest')
      .query({ data: signed(getRequestFields()) });
    const evil = await request(strict.app)
      .get('/paymentgateways/getRequest')
      .query({ data: signed(getRequestFields({ ok_page: 'https://evil.example/ok' })) });
    strict.session.close();
    expect(ok.body.status).toBe(1);
    expect(evil.body).toEqual({ status: 0, details: { message: 'Invalid ok/fail page: it must be an http(s) URL on an allowed origin' } });
  });
});

describe('getRequest success', () => {
  test('when a new account asks in iframe mode, then a Checkout URL comes back after 2 Stripe calls, and a known account costs 1', async () => {
    const aid = newAid();
    const res = await getRequest(signed(getRequestFields({ aid })));
    expect(res.body).toEqual({ status: 1, desc: 'success', details: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/c\/pay\/cs_test_/) } });
    expect(stripeCalls()).toEqual(['POST /v1/customers', 'POST /v1/checkout/sessions']);
    // BillRun's server asked: no browser, so no session cookie.
    expect(res.headers['set-cookie']).toBeUndefined();

    const account = await ctx
      .db('customers')
      .where({ external_ref: String(aid) })
      .first();
    const customer = await ctx.stripe.customers.retrieve(account.stripe_customer_id);
    expect((customer as { metadata: Record<string, string> }).metadata).toEqual({ billrun_aid: String(aid) });

    ctx.emulator.clearRequests();
    const again = await getRequest(signed(getRequestFields({ aid })));
    expect(again.body.status).toBe(1);
    expect(stripeCalls()).toEqual(['POST /v1/checkout/sessions']);
  });

  test('when the session is created, then Stripe gets setup mode, card only, txId on both pages and in metadata, and an idempotency key of ours', async () => {
    const aid = newAid();
    const res = await getRequest(signed(getRequestFields({ aid, ok_page: 'https://portal.example/ok?x=1', fail_page: 'https://portal.example/fail' })));
    const sessionId = res.body.details.url.split('/').pop();
    const handshake = await handshakeRows(ctx.db).where({ checkout_session_id: sessionId }).first();
    expect(handshake).toMatchObject({
      owner_id: 'billrun',
      customer_ref: expect.stringMatching(/^[0-9]+$/),
      instance_name: 'StripeCheckout',
      flow: 'iframe',
      state: 'open',
    });
    expect(handshake.tx_id).toMatch(/^[0-9]{19}$/);

    const create = ctx.emulator.requests().find((r) => r.path === '/v1/checkout/sessions');
    expect(create?.params).toMatchObject({
      mode: 'setup',
      allowed_payment_method_types: ['card'],
      success_url: `https://portal.example/ok?x=1&txId=${handshake.tx_id}`,
      cancel_url: `https://portal.example/fail?txId=${handshake.tx_id}`,
      client_reference_id: handshake.tx_id,
      metadata: { txId: handshake.tx_id, billrun_aid: String(aid), card_setup_id: String(handshake.card_setup_id) },
    });
    expect(create?.idempotencyKey).toBe(`${await installationId(ctx.db)}-card-setup-${handshake.card_setup_id}-checkout`);
  });

  test('when request_parameters is set, then details.url carries the session with its SetupIntent expanded and the txId', async () => {
    const res = await getRequest(signed(getRequestFields({ request_parameters: true, amount: 10.5 })));
    const url = res.body.details.url;
    expect(url).toEqual({
      url: expect.stringContaining('/c/pay/cs_test_'),
      session_id: expect.stringMatching(/^cs_test_/),
      session: expect.any(Object),
      txId: expect.stringMatching(/^[0-9]{19}$/),
    });
    expect(url.session.id).toBe(url.session_id);
    expect(url.session.mode).toBe('setup');
    expect(url.session.setup_intent).toMatchObject({ object: 'setup_intent', id: expect.stringMatching(/^seti_/) });
  });

  test('when the custom flow is asked for, then a SetupIntent secret and an ephemeral key come back instead of a session', async () => {
    const res = await getRequest(signed(getRequestFields({ request_parameters: true, custom_flow: true })));
    const url = res.body.details.url;
    expect(url).toEqual({
      setup_intent_client_secret: expect.stringMatching(/^seti_.+_secret_/),
      ephemeral_key: expect.stringMatching(/^ek_test_/),
      customer_id: expect.stringMatching(/^cus_/),
      txId: expect.stringMatching(/^[0-9]{19}$/),
      okPage: `https://portal.example/billing/ok?txId=${url.txId}`,
    });
    expect(stripeCalls()).toEqual(['POST /v1/customers', 'POST /v1/setup_intents', 'POST /v1/ephemeral_keys']);
  });

  test('when iframe is falsy, then the browser is redirected to Checkout, with our OkPage as success URL and a session cookie', async () => {
    const res = await getRequest(
      signed(getRequestFields({ iframe: '0', ok_page: undefined, fail_page: undefined, return_url: 'https://portal.example/account?tab=billing' })),
    );
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/\/c\/pay\/cs_test_/);
    expect(res.headers['set-cookie']?.[0]).toMatch(/^pgw\.sid=.*HttpOnly.*SameSite=Lax/i);
    const create = ctx.emulator.requests().find((r) => r.path === '/v1/checkout/sessions');
    const txId = (create?.params.metadata as { txId: string }).txId;
    expect(create?.params.success_url).toBe(`http://gateway.test/paymentgateways/OkPage?name=StripeCheckout&txId=${txId}`);
    expect(create?.params.cancel_url).toBe(`http://gateway.test/paymentgateways/failPage?name=StripeCheckout&txId=${txId}`);
    const handshake = await handshakeRows(ctx.db).where({ tx_id: txId }).first();
    expect(handshake).toMatchObject({ flow: 'redirect', return_url: 'https://portal.example/account?tab=billing' });
  });

  test('when the action name is written in another case and sent as a POST form, then it works the same', async () => {
    const res = await request(ctx.app)
      .post('/paymentgateways/getrequest')
      .type('form')
      .send({ data: signed(getRequestFields()) });
    expect(res.body.status).toBe(1);
  });

  test('when data arrives as an object inside a JSON body, then its signature is checked from the raw text', async () => {
    const data = signed(getRequestFields({ meta: { b: 1, '10': 2, a: 3 } }));
    const res = await request(ctx.app).post('/paymentgateways/getRequest').set('Content-Type', 'application/json').send(`{"data":${data}}`);
    expect(res.body.status).toBe(1);
  });

  test('when a Bearer token from /oauth2/token is sent instead of _sig_, then the request is accepted', async () => {
    const token = await request(ctx.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', ...TEST_OAUTH_CLIENT });
    expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, access_token: expect.any(String) });
    const res = await request(ctx.app)
      .get('/paymentgateways/getRequest')
      .set('Authorization', `Bearer ${token.body.access_token}`)
      .query({ data: JSON.stringify(getRequestFields()) });
    expect(res.body.status).toBe(1);
  });

  test('when the OAuth client secret is wrong, then 401 invalid_client and no token', async () => {
    const res = await request(ctx.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: TEST_OAUTH_CLIENT.client_id, client_secret: 'nope' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'The client credentials are invalid' });
  });

  test('when a forged Bearer token is sent without _sig_, then "Failed to authenticate"', async () => {
    const res = await request(ctx.app)
      .get('/paymentgateways/getRequest')
      .set('Authorization', 'Bearer pgw1.eyJjaWQiOiJiaWxscnVuLXRlc3QiLCJleHAiOjk5OTk5OTk5OTl9.AAAA')
      .query({ data: JSON.stringify(getRequestFields()) });
    expect(res.body).toEqual(thrown('Failed to authenticate'));
  });
});

describe('getRequest when the Stripe customer is gone', () => {
  test("when the account's Stripe customer was deleted in the Dashboard, then getRequest makes a new one, the old card stops being active and the new card is charged", async () => {
    const { aid } = await accountWithCard(ctx);
    const gone = await stripeCustomerOf(ctx, aid);
    await ctx.stripe.customers.del(gone);
    ctx.emulator.clearRequests();

    const setup = await startIframeSetup(ctx, { aid });
    const fresh = await stripeCustomerOf(ctx, aid);
    expect(fresh).not.toBe(gone);
    // The refused session, the account check, the customer check, the new customer, the session again.
    expect(stripeCalls()).toEqual([
      'POST /v1/checkout/sessions',
      'GET /v1/account',
      `GET /v1/customers/${gone}`,
      'POST /v1/customers',
      'POST /v1/checkout/sessions',
    ]);
    expect(await ctx.stripe.customers.retrieve(fresh)).toMatchObject({ metadata: { billrun_aid: String(aid) } });
    // The refused attempt is on record as failed, with its own handshake; the new one is open.
    expect(
      await ctx
        .db('card_setups as s')
        .join('handshakes as h', 'h.card_setup_id', 's.id')
        .where({ 's.customer_ref': String(aid) })
        .orderBy('s.id')
        .select('s.state', 's.customer_id', 's.failure_reason', 's.checkout_session_id'),
    ).toEqual([
      { state: 'completed', customer_id: gone, failure_reason: null, checkout_session_id: expect.stringMatching(/^cs_/) },
      { state: 'failed', customer_id: gone, failure_reason: 'Stripe has no such object (checkout session creation)', checkout_session_id: null },
      { state: 'open', customer_id: fresh, failure_reason: null, checkout_session_id: setup.sessionId },
    ]);
    expect(await ctx.db('cards').where({ customer_ref: String(aid), active: true })).toEqual([]);
    expect((await pay(ctx, { aid, amount: '5.00' })).body).toMatchObject({ status: 0, details: { message: 'The account has no saved card' } });

    ctx.emulator.completeCheckoutSession(setup.sessionId, '5555555555554444');
    expect((await okPageJson(ctx, setup.txId)).body).toMatchObject({ status: 1, details: { credit_card: '4444' } });
    expect((await pay(ctx, { aid, amount: '5.00' })).body.details.status).toBe('Completed');
    expect(
      await ctx
        .db('cards')
        .where({ customer_ref: String(aid) })
        .orderBy('id')
        .select('customer_id', 'active'),
    ).toEqual([
      { customer_id: gone, active: false },
      { customer_id: fresh, active: true },
    ]);
  });
});

describe('getRequest when Stripe fails', () => {
  test('when Stripe answers 500 to every attempt, then the failure shape after the client retries, and the handshake is marked failed', async () => {
    const aid = newAid();
    await getRequest(signed(getRequestFields({ aid }))); // account now known: one Stripe call per getRequest
    ctx.emulator.clearRequests();
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'POST', path: '/v1/checkout/sessions' });
    const res = await getRequest(signed(getRequestFields({ aid })));
    expect(res.body).toEqual({ status: 0, details: { message: 'Stripe checkout session creation failed' } });
    expect(stripeCalls()).toEqual(Array(3).fill('POST /v1/checkout/sessions'));
    const rows = await handshakeRows(ctx.db)
      .where({ customer_ref: String(aid) })
      .orderBy('created_at');
    expect(rows.map((r) => r.state)).toEqual(['open', 'failed']);
  });

  test('when Stripe fails in the redirect flow, then the browser goes to the return URL with a danger message', async () => {
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'POST', path: '/v1/customers' });
    const res = await getRequest(
      signed(getRequestFields({ iframe: false, ok_page: undefined, fail_page: undefined, return_url: 'https://portal.example/account' })),
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(location.origin + location.pathname).toBe('https://portal.example/account');
    expect(JSON.parse(location.searchParams.get('message') as string)).toEqual({ content: 'Stripe customer creation failed', type: 'danger' });
  });
});
