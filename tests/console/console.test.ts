import request from 'supertest';
import { hashPassword } from '../../app/console/operators';
import { accountWithCard } from '../support/card-setup';
import { credit, newReference, pay } from '../support/payment-requests';
import { hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { addOperator, csrfOf, loggedIn, OPERATOR } from '../support/console-login';
import { startTestContext, type TestContext } from '../support/test-context';

/** The operator console over HTTP: login, its guards (redirects, CSRF, rate limit), its pages and actions. */

const HUB_KEY = 'sk_test_console_hub_vendor';
const CONFIGURED = { name: 'ops-from-env', password: 'a password from the environment' };
const FULL_CARD = '4242424242424242';

let ctx: TestContext;
let merchant: HubMerchant;
let billrun: { aid: number; txId: string; reference: string; paymentIntentId: string };
let hubRef: string;
beforeAll(async () => {
  ctx = await startTestContext({
    otherStripeKeys: [HUB_KEY],
    env: { CONSOLE_USERS: `${CONFIGURED.name}:${await hashPassword(CONFIGURED.password)}` },
  });
  await addOperator(ctx);
  // A BillRun charge on 4242 with a partial refund, and a Hub charge on 4242 with a webhook.
  const { aid, txId } = await accountWithCard(ctx, FULL_CARD);
  const reference = newReference();
  const paid = await pay(ctx, { aid, amount: '25.00', currency: 'USD', reference });
  expect(paid.body.details.status).toBe('Completed');
  expect((await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: '5.00' })).body.status).toBe(1);
  billrun = { aid, txId, reference, paymentIntentId: paid.body.details.transaction_id };
  merchant = await hubMerchant(ctx, { stripeKey: HUB_KEY });
  const api = hubApi(ctx, merchant.secretKey);
  const token = await api.post('/token', {
    payment_vendor: merchant.vendorId,
    credit_card: { account_name: 'Jane Roe', account_number: FULL_CARD, exp_month: '12', exp_year: 2040, cvn: '123' },
  });
  expect(token.status).toBe(200);
  hubRef = `console-${Date.now()}`;
  const charged = await api.post('/charge', {
    payment_vendor: merchant.vendorId,
    token: token.body.data.token,
    transaction_detail: { merchant_ref_code: hubRef, amount: 70, service_charge: 0, description: 'x', currency: 'USD', webhook_url: 'http://127.0.0.1:9/hook' },
  });
  expect(charged.body.data.transaction.Status).toBe('paid');
  // The set-up walks two real payment flows; on a busy machine it needs more than the default minute.
}, 180_000);
afterAll(async () => {
  await ctx.close();
});

const chargeRow = (reference: string) => ctx.db('charges').where({ reference }).first();

const PAGES = [
  '/console',
  '/console/search?q=x',
  '/console/charges',
  '/console/charges/1',
  '/console/card-setups',
  '/console/stripe-events',
  '/console/deliveries',
  '/console/actions',
];

describe('console: without a login', () => {
  test.each(PAGES)('when %s is opened without a session, then it redirects to the login, naming the page to come back to', async (path) => {
    const res = await request(ctx.app).get(path);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/console/login?next=${encodeURIComponent(path)}`);
    expect(res.text).not.toContain('<table');
  });

  test('when an action is posted without a session, then it redirects to the login and nothing reaches Stripe', async () => {
    const charge = await chargeRow(billrun.reference);
    ctx.emulator.clearRequests();
    const res = await request(ctx.app).post(`/console/charges/${charge.id}/recheck`).type('form').send({ _csrf: 'x' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/login?next=%2Fconsole');
    expect(ctx.emulator.requests()).toEqual([]);
    expect(await ctx.db('console_actions').where({ action: 'recheck' })).toEqual([]);
  });
});

describe('console: logging in and out', () => {
  test('when the stored operator logs in, then a new httpOnly, SameSite=Lax session cookie scoped to /console, the overview, and the login is recorded', async () => {
    const agent = request.agent(ctx.app);
    const form = await agent.get('/console/login').set('X-Forwarded-For', '203.0.113.1');
    expect(form.status).toBe(200);
    expect(form.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const res = await agent
      .post('/console/login')
      .set('X-Forwarded-For', '203.0.113.1')
      .type('form')
      .send({ _csrf: csrfOf(form.text), username: OPERATOR.name, password: OPERATOR.password, next: '/console/stripe-events' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/stripe-events');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('pgw.console='));
    expect(cookie).toMatch(/; Path=\/console/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    // http://gateway.test in a test: not Secure (production or an https PUBLIC_BASE_URL make it so).
    expect(cookie).not.toMatch(/; Secure/);
    const page = await agent.get('/console/stripe-events');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Stripe events received');
    expect(await ctx.db('console_actions').where({ operator: OPERATOR.name, action: 'login' }).first()).toBeDefined();
    expect(ctx.logs.some((l) => l.includes('"console"') && l.includes(`${OPERATOR.name} login`))).toBe(true);

    const logout = await agent
      .post('/console/logout')
      .type('form')
      .send({ _csrf: csrfOf(page.text) });
    expect(logout.status).toBe(303);
    expect(logout.headers.location).toBe('/console/login');
    expect((await agent.get('/console')).status).toBe(303);
  });

  test('when an operator from CONSOLE_USERS logs in, then the console opens', async () => {
    const { agent } = await loggedIn(ctx.app, CONFIGURED, '203.0.113.2');
    expect((await agent.get('/console')).text).toContain(CONFIGURED.name);
  });

  test('when the password is wrong, then 401 on the login page and no session; a next outside the console is ignored', async () => {
    const agent = request.agent(ctx.app);
    const form = await agent.get('/console/login?next=https://evil.example/').set('X-Forwarded-For', '203.0.113.3');
    expect(form.text).toContain('name="next" value="/console"');
    for (const next of ['//evil.example/console', '/console/..//evil.example', '/console\\@evil.example'])
      expect((await agent.get(`/console/login?next=${encodeURIComponent(next)}`)).text).toContain('name="next" value="/console"');
    const res = await agent
      .post('/console/login')
      .set('X-Forwarded-For', '203.0.113.3')
      .type('form')
      .send({ _csrf: csrfOf(form.text), username: OPERATOR.name, password: 'wrong password!!' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Wrong operator name or password');
    expect(res.text).not.toContain('wrong password!!');
    expect((await agent.get('/console')).status).toBe(303);
  });
});

describe('console: forged forms', () => {
  test('when a logged-in operator is made to post an action without the CSRF token (or with another), then 403 and nothing is done', async () => {
    const { agent, csrf } = await loggedIn(ctx.app, OPERATOR, '203.0.113.4');
    const charge = await chargeRow(billrun.reference);
    ctx.emulator.clearRequests();
    const none = await agent.post(`/console/charges/${charge.id}/recheck`).type('form').send({});
    expect(none.status).toBe(403);
    const wrong = await agent
      .post(`/console/charges/${charge.id}/recheck`)
      .type('form')
      .send({ _csrf: `${csrf.slice(0, -2)}xx` });
    expect(wrong.status).toBe(403);
    const logout = await agent.post('/console/logout').type('form').send({});
    expect(logout.status).toBe(403);
    expect(ctx.emulator.requests()).toEqual([]);
    expect(await ctx.db('console_actions').where({ action: 'recheck', subject_id: String(charge.id) })).toEqual([]);
    expect((await agent.get('/console')).status).toBe(200);
  });

  test('when the login form is posted without its token, then 403 even with the right password', async () => {
    const res = await request(ctx.app)
      .post('/console/login')
      .set('X-Forwarded-For', '203.0.113.5')
      .type('form')
      .send({ username: OPERATOR.name, password: OPERATOR.password });
    expect(res.status).toBe(403);
    expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('pgw.console=');
  });
});

describe('console: pages', () => {
  test('when every page is read, including the charges found by reference, PaymentIntent, aid and merchant_ref_code, then no full card number appears, only brand and last 4', async () => {
    const { agent } = await loggedIn(ctx.app, OPERATOR, '203.0.113.6');
    const billrunCharge = await chargeRow(billrun.reference);
    const hubCharge = await ctx.db('charges as c').join('hub_transactions as t', 't.charge_id', 'c.id').where('t.merchant_ref_code', hubRef).first('c.id');
    const pages = [
      ...PAGES,
      `/console/search?q=${billrun.reference}`,
      `/console/search?q=${billrun.paymentIntentId}`,
      `/console/search?q=${billrun.aid}`,
      `/console/search?q=${hubRef}`,
      `/console/search?q=${FULL_CARD}`,
      `/console/charges/${billrunCharge.id}`,
      `/console/charges/${hubCharge.id}`,
    ];
    for (const path of pages) {
      const res = await agent.get(path);
      expect([200, 404]).toContain(res.status);
      expect(res.text).not.toContain(FULL_CARD);
      expect(res.text).not.toMatch(/4242[\s•-]*4242[\s•-]*4242/);
    }
    for (const q of [billrun.reference, billrun.paymentIntentId, String(billrun.aid)]) {
      const found = await agent.get(`/console/search?q=${encodeURIComponent(q)}`);
      expect(found.text).toContain(`href="/console/charges/${billrunCharge.id}"`);
    }
    const byMerchantRef = await agent.get(`/console/search?q=${hubRef}`);
    expect(byMerchantRef.text).toContain(`href="/console/charges/${hubCharge.id}"`);
    const detail = await agent.get(`/console/charges/${billrunCharge.id}`);
    expect(detail.text).toContain('visa •••• 4242');
    expect(detail.text).toContain('5.00 USD');
    expect(detail.text).toContain('charge succeeded');
  });

  test('when a value holds markup (a reference), then the page shows it escaped', async () => {
    const { agent } = await loggedIn(ctx.app, OPERATOR, '203.0.113.7');
    const res = await agent.get(`/console/search?q=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  test('when the overview is read, then it counts rows by status', async () => {
    const { agent } = await loggedIn(ctx.app, OPERATOR, '203.0.113.8');
    const res = await agent.get('/console');
    expect(res.text).toMatch(/href="\/console\/charges\?status=succeeded">succeeded<\/a><\/td>\s*<td>\d+<\/td>/);
    expect(res.text).toContain('Needing an operator');
    expect(res.text).toContain('id="lag-reconciler"');
  });
});

describe('console: actions', () => {
  test('when a charge whose answer was lost (the row says processing, Stripe says succeeded) is re-checked, then Stripe is read and the row applied: succeeded, recorded with the operator', async () => {
    const { agent, csrf } = await loggedIn(ctx.app, OPERATOR, '203.0.113.9');
    const charge = await chargeRow(billrun.reference);
    await ctx.db('charges').where({ id: charge.id }).update({ status: 'processing', succeeded_at: null, check_failures: 7 });
    ctx.emulator.clearRequests();
    const res = await agent.post(`/console/charges/${charge.id}/recheck`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/console/charges/${charge.id}`);
    expect(ctx.emulator.requests().map((r) => `${r.method} ${r.path}`)).toContain(`GET /v1/payment_intents/${billrun.paymentIntentId}`);
    expect(await chargeRow(billrun.reference)).toMatchObject({ status: 'succeeded', check_failures: 0 });
    expect(
      await ctx
        .db('console_actions')
        .where({ action: 'recheck', subject: 'charge', subject_id: String(charge.id) })
        .first(),
    ).toMatchObject({
      operator: OPERATOR.name,
      detail: 'processing -> succeeded',
    });
    const page = await agent.get(res.headers.location);
    expect(page.text).toContain(`Re-checked charge ${charge.id} with Stripe: processing -&gt; succeeded.`);
  });

  test('when a refund is re-checked, then its Stripe refund is read', async () => {
    const { agent, csrf } = await loggedIn(ctx.app, OPERATOR, '203.0.113.11');
    const charge = await chargeRow(billrun.reference);
    const refund = await ctx.db('refunds').where({ charge_id: charge.id }).first();
    ctx.emulator.clearRequests();
    const res = await agent.post(`/console/refunds/${refund.id}/recheck`).type('form').send({ _csrf: csrf });
    expect(res.headers.location).toBe(`/console/charges/${charge.id}`);
    expect(ctx.emulator.requests().map((r) => `${r.method} ${r.path}`)).toContain(`GET /v1/refunds/${refund.stripe_refund_id}`);
  });

  test('when a merchant webhook delivery is resent, then it is pending again, due now, with the same webhook-id', async () => {
    const { runWebhooksOnce } = await import('../../app/hub');
    await runWebhooksOnce(ctx.hub);
    await runWebhooksOnce(ctx.hub);
    const delivery = await ctx.db('hub_webhook_deliveries').where({ owner_id: merchant.id }).orderBy('id').first();
    expect(delivery).toBeDefined();
    await ctx.db('hub_webhook_deliveries').where({ id: delivery.id }).update({ state: 'failed', next_check_at: null });
    const { agent, csrf } = await loggedIn(ctx.app, OPERATOR, '203.0.113.12');
    const res = await agent.post(`/console/deliveries/${delivery.id}/resend`).type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    const after = await ctx.db('hub_webhook_deliveries').where({ id: delivery.id }).first();
    expect(after).toMatchObject({ state: 'pending', webhook_id: delivery.webhook_id });
    expect(new Date(after.next_check_at).getTime()).toBeLessThanOrEqual(ctx.clock.now().getTime());
    expect(
      await ctx
        .db('console_actions')
        .where({ action: 'resend', subject_id: String(delivery.id) })
        .first(),
    ).toMatchObject({ operator: OPERATOR.name });
  });

  test('when a card setup is found by its BillRun txId and re-checked, then its Checkout session is read from Stripe and the card shows as brand and last 4', async () => {
    const { agent, csrf } = await loggedIn(ctx.app, OPERATOR, '203.0.113.14');
    const setup = await ctx
      .db('handshakes as h')
      .join('card_setups as s', 's.id', 'h.card_setup_id')
      .where('h.tx_id', billrun.txId)
      .first('s.id', 's.checkout_session_id');
    const found = await agent.get(`/console/search?q=${billrun.txId}`);
    expect(found.text).toContain(`action="/console/card-setups/${setup.id}/recheck"`);
    expect(found.text).toContain('visa •••• 4242');
    ctx.emulator.clearRequests();
    const res = await agent.post(`/console/card-setups/${setup.id}/recheck`).type('form').send({ _csrf: csrf });
    expect(res.headers.location).toBe('/console/card-setups');
    expect(ctx.emulator.requests().map((r) => `${r.method} ${r.path}`)).toContain(`GET /v1/checkout/sessions/${setup.checkout_session_id}`);
    expect((await agent.get('/console/card-setups')).text).toContain(`Re-checked card setup ${setup.id} with Stripe: still completed.`);
  });

  test('when an unknown row is re-checked, then 404', async () => {
    const { agent, csrf } = await loggedIn(ctx.app, OPERATOR, '203.0.113.13');
    expect((await agent.post('/console/charges/999999999/recheck').type('form').send({ _csrf: csrf })).status).toBe(404);
    expect((await agent.post('/console/widgets/1/recheck').type('form').send({ _csrf: csrf })).status).toBe(404);
  });
});

describe('console: login rate limit', () => {
  const attempt = async (username: string, password: string, address: string) => {
    const agent = request.agent(ctx.app);
    const form = await agent.get('/console/login').set('X-Forwarded-For', address);
    return agent
      .post('/console/login')
      .set('X-Forwarded-For', address)
      .type('form')
      .send({ _csrf: csrfOf(form.text), username, password });
  };

  test('when one address fails 10 times in a minute, then the 11th attempt is 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 10; i++) expect((await attempt(`nobody-${i}`, 'wrong password 123', '198.51.100.1')).status).toBe(401);
    const limited = await attempt(OPERATOR.name, OPERATOR.password, '198.51.100.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await attempt(OPERATOR.name, OPERATOR.password, '198.51.100.2')).status).toBe(303);
  });

  test('when one operator name fails 10 times from many addresses, then that name is 429; a minute later it may log in again', async () => {
    for (let i = 0; i < 10; i++) expect((await attempt(CONFIGURED.name, 'wrong password 123', `198.51.100.${10 + i}`)).status).toBe(401);
    expect((await attempt(CONFIGURED.name, CONFIGURED.password, '198.51.100.40')).status).toBe(429);
    ctx.clock.advanceServiceOnly(61);
    expect((await attempt(CONFIGURED.name, CONFIGURED.password, '198.51.100.41')).status).toBe(303);
  });
});
