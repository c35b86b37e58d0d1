import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { runWebhooksOnce } from '../../app/hub';
import { reconcileOnce } from '../../app/payments';
import { stripeOperation } from '../../app/stripe';
import { accountWithCard } from '../support/card-setup';
import { hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCreateTokenOnly } from '../support/hub-seed';
import { moved, promtoolProblems, readScrape, scrape, valueOf, type Scrape } from '../support/metrics-scrape';
import { newReference, pay } from '../support/payment-requests';
import { startServiceOn, startTestContext, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';

/** GET /metrics: Prometheus text of this instance's requests, Stripe calls, reconciler, webhooks and pool. */

const VENDOR_KEY = 'sk_test_metrics_vendor';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const MIN = 60;

let ctx: TestContext;
let merchant: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [VENDOR_KEY] });
  merchant = await hubMerchant(ctx, { stripeKey: VENDOR_KEY });
});
afterAll(async () => {
  await ctx.close();
});
/** Through the emulator's control API, as a test harness over HTTP would. */
const clearFaults = async () => expect((await request(ctx.emulator.url).delete('/_emulator/faults')).status).toBe(200);
afterEach(async () => {
  await clearFaults();
  await ctx.emulator.settleWebhooks();
});

const requests = (s: Scrape, method: string, route: string, status: string) => valueOf(s, 'http_requests_total', { method, route, status });
const timed = (s: Scrape, method: string, route: string, status: string) => valueOf(s, 'http_request_duration_seconds_count', { method, route, status });
const stripeCalls = (s: Scrape, operation: string, outcome = '2xx') => valueOf(s, 'stripe_requests_total', { operation, outcome });

/** What the emulator received, by the operation name the metrics use. */
function emulatorCalls(): Map<string, number> {
  const byOperation = new Map<string, number>();
  for (const r of ctx.emulator.requests()) {
    const operation = stripeOperation(r.method, r.path);
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1);
  }
  return byOperation;
}

describe('GET /metrics', () => {
  test('when a BillRun card setup, a pay and a Hub token call run, then promtool and a parser accept the text, and the counters of those routes and Stripe operations moved by what Stripe received', async () => {
    const before = await scrape(ctx.app);
    ctx.emulator.clearRequests();

    const { aid } = await accountWithCard(ctx);
    expect((await pay(ctx, { aid, amount: '12.00', reference: newReference() })).body.details.status).toBe('Completed');
    const token = await hubApi(ctx, merchant.publicKey).post('/token', seedCreateTokenOnly(merchant.vendorId));
    expect(token.status).toBe(200);
    const received = emulatorCalls();
    const after = await scrape(ctx.app);

    const lint = promtoolProblems(after.text);
    if ('skipped' in lint) process.stdout.write(`promtool check skipped: ${lint.skipped}\n`);
    else expect(lint.problems).toEqual([]);
    const typeOf = (name: string) => after.families.find((f) => f.name === name)?.type;
    expect([
      typeOf('http_requests_total'),
      typeOf('http_request_duration_seconds'),
      typeOf('stripe_requests_total'),
      typeOf('stripe_request_duration_seconds'),
    ]).toEqual(['COUNTER', 'HISTOGRAM', 'COUNTER', 'HISTOGRAM']);
    expect(valueOf(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    for (const [method, route] of [
      ['GET', '/paymentgateways/getrequest'],
      ['GET', '/paymentgateways/okpage'],
      ['POST', '/paymentgateways/pay'],
      ['POST', '/api/v1/transactions/token'],
    ]) {
      expect([route, moved(before, after, 'http_requests_total', { method, route, status: '200' })]).toEqual([route, 1]);
      expect([route, timed(after, method, route, '200') - timed(before, method, route, '200')]).toEqual([route, 1]);
    }
    // Every attempt Stripe received is counted once, under its operation; nothing else is.
    expect(received.get('POST /v1/checkout/sessions')).toBe(1);
    expect(received.get('POST /v1/payment_intents')).toBe(1);
    expect(received.get('POST /v1/payment_methods')).toBeGreaterThanOrEqual(1);
    const counted = new Map<string, number>();
    for (const s of after.samples.filter((x) => x.name === 'stripe_requests_total')) {
      const delta = s.value - valueOf(before, 'stripe_requests_total', s.labels);
      if (delta > 0) counted.set(s.labels.operation, (counted.get(s.labels.operation) ?? 0) + delta);
    }
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(received));
    expect(moved(before, after, 'stripe_request_duration_seconds_count', { operation: 'POST /v1/payment_intents', outcome: '2xx' })).toBe(1);
    // Labels carry patterns: no Stripe id, no txId, no aid.
    for (const s of after.samples.filter((x) => x.name === 'stripe_requests_total')) expect(s.labels.operation).toMatch(/^[A-Z]+ \/v1(\/([a-z_]+|:id))*$/);
    expect(after.text).not.toMatch(new RegExp(`cs_test_|pi_[A-Za-z0-9]{6}|aid=${aid}\\b`));
  });

  test('when a route has an id in its path or no route matches, then it is counted under its pattern or "unmatched", never the URL; scrapes do not count themselves', async () => {
    const before = await scrape(ctx.app);
    const api = hubApi(ctx, merchant.secretKey);
    expect((await api.get('/no-such-order-7731')).status).toBe(404);
    expect((await request(ctx.app).get('/definitely/not/here/5d41402abc4b2a76')).status).toBe(404);
    expect((await request(ctx.app).post('/webhooks/stripe/acct_1NotKnownHere')).status).toBe(404);
    const after = await scrape(ctx.app);

    expect(moved(before, after, 'http_requests_total', { method: 'GET', route: '/api/v1/transactions/:merchantRefCode', status: '404' })).toBe(1);
    expect(moved(before, after, 'http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(moved(before, after, 'http_requests_total', { method: 'POST', route: '/webhooks/stripe/:account', status: '404' })).toBe(1);
    expect(after.text).not.toMatch(/no-such-order|5d41402abc4b2a76|acct_1NotKnownHere/);
    expect(after.samples.filter((s) => s.name === 'http_requests_total' && s.labels.route === '/metrics')).toEqual([]);
  });

  test('when Stripe answers 500 and then drops the connection, then each attempt is counted with its outcome, retries included', async () => {
    const { aid } = await accountWithCard(ctx);
    const before = await scrape(ctx.app);
    // stripe-node tries three times (STRIPE_MAX_NETWORK_RETRIES=2): two 500s, then a dropped answer.
    ctx.emulator.injectFault({ type: 'error_500', count: 2, method: 'POST', path: '/v1/payment_intents' });
    ctx.emulator.injectFault({ type: 'drop_after_acting', count: 1, method: 'POST', path: '/v1/payment_intents' });
    expect((await pay(ctx, { aid, amount: '13.00', reference: newReference() })).body.details.status).toBe('Pending');
    const after = await scrape(ctx.app);

    expect(moved(before, after, 'stripe_requests_total', { operation: 'POST /v1/payment_intents', outcome: '5xx' })).toBe(2);
    expect(moved(before, after, 'stripe_requests_total', { operation: 'POST /v1/payment_intents', outcome: 'connection_error' })).toBe(1);
    expect(stripeCalls(after, 'POST /v1/payment_intents') - stripeCalls(before, 'POST /v1/payment_intents')).toBe(0);
  });

  test('when reconcile passes run, then rows due, claimed and failing are reported per queue', async () => {
    const { aid } = await accountWithCard(ctx);
    // A charge whose answer was lost: the reconciler's to finish.
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'POST', path: '/v1/payment_intents' });
    const reference = newReference();
    expect((await pay(ctx, { aid, amount: '14.00', reference })).body.details.status).toBe('Pending');
    ctx.clock.advance(3 * MIN);
    // Its first look fails: Stripe is down for the reconciler's read too.
    ctx.emulator.injectFault({ type: 'error_500', count: 100, method: 'GET', path: '/v1/payment_intents' });
    ctx.emulator.injectFault({ type: 'error_500', count: 100, method: 'POST', path: '/v1/payment_intents' });
    const before = await scrape(ctx.app);
    await reconcileOnce(ctx.deps);
    const failedPass = await scrape(ctx.app);
    await clearFaults();
    ctx.clock.advance(10 * MIN);
    await reconcileOnce(ctx.deps);
    const after = await scrape(ctx.app);

    expect(valueOf(failedPass, 'reconciler_rows_due', { queue: 'charges' })).toBeGreaterThanOrEqual(1);
    expect(moved(before, failedPass, 'reconciler_rows_claimed_total', { queue: 'charges' })).toBeGreaterThanOrEqual(1);
    expect(moved(before, failedPass, 'reconciler_check_failures_total', { queue: 'charges' })).toBeGreaterThanOrEqual(1);
    // The second pass starts with the failed row in its backlog, then settles it.
    expect(valueOf(after, 'reconciler_rows_failing', { queue: 'charges' })).toBeGreaterThanOrEqual(1);
    expect(moved(before, after, 'reconciler_passes_total')).toBe(2);
    expect(valueOf(after, 'reconciler_last_pass_timestamp_seconds')).toBeCloseTo(ctx.clock.now().getTime() / 1000, -1);
    for (const queue of ['card_setups', 'charges', 'refunds']) {
      expect(after.samples.some((s) => s.name === 'reconciler_rows_due' && s.labels.queue === queue)).toBe(true);
      expect(after.samples.some((s) => s.name === 'reconciler_rows_need_operator' && s.labels.queue === queue)).toBe(true);
    }
    expect((await ctx.db('charges').where({ reference }).first()).status).toBe('succeeded');
  });

  test('when Stripe events arrive, then they are counted by result and an old one shows in the intake lag', async () => {
    await ctx.emulator.settleWebhooks();
    const before = await scrape(ctx.app);
    const created = Math.floor(ctx.clock.now().getTime() / 1000) - 2 * 3600;
    const payload = JSON.stringify({
      id: `evt_metrics_${created}`,
      object: 'event',
      type: 'invoice.paid',
      created,
      data: { object: { id: 'in_1', object: 'invoice' } },
    });
    const send = () =>
      request(ctx.app)
        .post('/webhooks/stripe')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: ctx.webhookSecret }))
        .send(payload);
    expect((await send()).status).toBe(200);
    expect((await send()).body).toMatchObject({ duplicate: true });
    const after = await scrape(ctx.app);

    expect(moved(before, after, 'stripe_webhook_events_total', { result: 'processed' })).toBe(1);
    expect(moved(before, after, 'stripe_webhook_events_total', { result: 'duplicate' })).toBe(1);
    expect(moved(before, after, 'stripe_webhook_intake_lag_seconds_count')).toBe(1);
    expect(moved(before, after, 'stripe_webhook_intake_lag_seconds_bucket', { le: '3600' })).toBe(0);
    expect(moved(before, after, 'stripe_webhook_intake_lag_seconds_bucket', { le: '21600' })).toBe(1);
    expect(moved(before, after, 'stripe_webhook_intake_lag_seconds_sum')).toBeGreaterThanOrEqual(2 * 3600);
  });

  test('when a merchant webhook is delivered, then the delivery counter moves', async () => {
    const endpoint = http.createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const api = hubApi(ctx, merchant.secretKey);
      const token = (await api.post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
      const ref = `order-metrics-${Date.now()}`;
      const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/hook`;
      const charged = await api.post('/charge', {
        payment_vendor: merchant.vendorId,
        token,
        transaction_detail: { merchant_ref_code: ref, amount: 60, service_charge: 0, description: 'x', currency: 'USD', webhook_url: url },
      });
      expect(charged.body.data.transaction.Status).toBe('paid');
      const before = await scrape(ctx.app);
      expect((await runWebhooksOnce(ctx.hub)).attempted).toBeGreaterThanOrEqual(1);
      const after = await scrape(ctx.app);
      expect(moved(before, after, 'hub_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
      expect(moved(before, after, 'hub_webhook_deliveries_total', { outcome: 'failed_attempt' })).toBe(0);
      expect(moved(before, after, 'hub_webhook_delivery_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    } finally {
      endpoint.closeAllConnections();
      await new Promise((resolve) => endpoint.close(resolve));
    }
  });

  test('when the pool is read, then it shows the embedded database as one connection and PostgreSQL with its pool size', async () => {
    const s = await scrape(ctx.app);
    const max = valueOf(s, 'db_pool_max_connections');
    expect(max).toBe(ctx.dbKind === 'pglite' ? 1 : 10);
    const used = valueOf(s, 'db_pool_connections', { state: 'used' });
    const free = valueOf(s, 'db_pool_connections', { state: 'free' });
    expect(used + free).toBeLessThanOrEqual(max);
    expect(s.samples.some((x) => x.name === 'db_pool_connections' && x.labels.state === 'free')).toBe(true);
    expect(s.samples.some((x) => x.name === 'db_pool_pending_acquires')).toBe(true);
  });

  test('when METRICS_TOKEN is set, then /metrics without it or with a wrong one is 401 and with it 200, with no session cookie; each app counts only its own requests', async () => {
    const guarded = await startServiceOn({ db: ctx.db, dbKind: ctx.dbKind, emulator: ctx.emulator, stripeKey: TEST_STRIPE_KEY, env: { METRICS_TOKEN } });
    try {
      const none = await request(guarded.app).get('/metrics');
      const wrong = await request(guarded.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`);
      const right = await request(guarded.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
      expect([none.status, wrong.status, right.status]).toEqual([401, 401, 200]);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(none.text).not.toMatch(/http_requests_total/);
      expect(right.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(right.headers['set-cookie']).toBeUndefined();
      // The first app is open (no token configured there).
      expect((await request(ctx.app).get('/metrics')).status).toBe(200);

      // Its own registry: the other app's BillRun traffic is not in it.
      const own = readScrape(right.text);
      expect(valueOf(own, 'http_requests_total', { route: '/paymentgateways/getrequest' })).toBe(0);
      expect(valueOf(await scrape(ctx.app), 'http_requests_total', { route: '/paymentgateways/getrequest' })).toBeGreaterThan(0);
      await request(guarded.app).get('/health/live');
      const later = await scrape(guarded.app, METRICS_TOKEN);
      expect(requests(later, 'GET', '/health/live', '200')).toBe(1);
    } finally {
      await guarded.close();
    }
  });
});
