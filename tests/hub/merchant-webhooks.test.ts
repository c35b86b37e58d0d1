import request from 'supertest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookWorker, runWebhooksOnce } from '../../app/hub';
import { admin, hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCreate3dsToken, seedCreateTokenOnly } from '../support/hub-seed';
import { readmeVerifier } from '../support/readme-webhook-verifier';
import { startServiceOn, startTestContext, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';

/** Signals to the merchant's webhook_url: signed, retried, re-sendable, never in the API's way. */

const KEY = 'sk_test_hub_merchant_hooks';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The merchant's endpoint: records what arrives; fails the first `failures` calls; `hang` (all, or paths under a prefix) never answers. */
function merchantEndpoint() {
  const received: Received[] = [];
  const state: { failures: number; hang: boolean | string } = { failures: 0, hang: false };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (state.hang === true || (typeof state.hang === 'string' && req.url?.startsWith(state.hang))) return;
      if (state.failures > 0) {
        state.failures--;
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(204).end();
    });
  });
  return { server, received, state };
}

let ctx: TestContext;
let merchant: HubMerchant;
let endpoint: ReturnType<typeof merchantEndpoint>;
let base: string;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY] });
  merchant = await hubMerchant(ctx, { stripeKey: KEY });
  endpoint = merchantEndpoint();
  await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  endpoint.server.closeAllConnections();
  await new Promise((resolve) => endpoint.server.close(resolve));
  await ctx.close();
});
beforeEach(() => {
  endpoint.received.length = 0;
  endpoint.state.failures = 0;
  endpoint.state.hang = false;
});

const api = () => hubApi(ctx, merchant.secretKey);
async function charge(ref: string, as: HubMerchant = merchant, hookPath = `/hook/${ref}`): Promise<void> {
  const token = (await hubApi(ctx, as.secretKey).post('/token', seedCreateTokenOnly(as.vendorId))).body.data.token;
  const res = await hubApi(ctx, as.secretKey).post('/charge', {
    payment_vendor: as.vendorId,
    token,
    transaction_detail: { merchant_ref_code: ref, amount: 60, service_charge: 0, description: 'x', currency: 'USD', webhook_url: `${base}${hookPath}` },
  });
  expect(res.body.data.transaction.Status).toBe('paid');
}
const drain = async () => {
  for (let i = 0; i < 3; i++) await runWebhooksOnce(ctx.hub);
};

test('when a transaction is paid and then refunded, then the merchant gets one GET per change, signed so that the README snippet verifies it', async () => {
  await charge('hook-1');
  await drain();
  const verify = readmeVerifier();
  const paid = endpoint.received.filter((r) => r.url === '/hook/hook-1');
  // One change the merchant sees (pending to paid): one signal.
  expect(paid.map((r) => r.method)).toEqual(['GET']);
  for (const r of paid) {
    expect(r.body).toBe('');
    expect(verify(merchant.webhookSecret, r.headers)).toBe(true);
    expect(verify('whsec_' + Buffer.from('not the secret').toString('base64'), r.headers)).toBe(false);
  }
  const listed = await request(ctx.app).get('/api/v1/webhooks/deliveries').set('Authorization', `Bearer ${merchant.secretKey}`);
  expect(
    listed.body.data
      .filter((d: { merchant_ref_code: string }) => d.merchant_ref_code === 'hook-1')
      .map((d: { event_type: string; state: string }) => [d.event_type, d.state]),
  ).toContainEqual(['transaction.paid', 'delivered']);

  endpoint.received.length = 0;
  await api().post('/hook-1/refunds', { refund_ref_code: 'hook-1-r', amount: 10 });
  await drain();
  expect(endpoint.received.map((r) => r.url)).toEqual(['/hook/hook-1']);
  expect(endpoint.received.every((r) => verify(merchant.webhookSecret, r.headers))).toBe(true);
  await drain();
  const again = endpoint.received.length;
  await drain();
  expect(endpoint.received.length).toBe(again);
});

test('when a 3-D Secure token made with a webhook_url is verified and then charged, then the merchant gets token.verified and token.used there, signed, before any transaction exists', async () => {
  const made = await api().post('/token/3ds', { ...seedCreate3dsToken(merchant.vendorId), webhook_url: `${base}/token-hook/one` });
  expect(made.body.data.status).toBe('review');
  const { token, auth_url: authUrl } = made.body.data;
  await drain();
  // Made in review: the answer said so; nothing has changed yet.
  expect(endpoint.received).toEqual([]);
  const challenge = new URL(authUrl);
  await request(challenge.origin).post(challenge.pathname).type('form').send({ result: 'pass' });
  // The customer's browser comes back to the service, which reads the PaymentIntent (no Stripe webhook is set up here).
  expect((await request(ctx.app).get(`/api/v1/transactions/token/3ds/return/${token}`)).status).toBe(302);
  await drain();
  const verify = readmeVerifier();
  expect(endpoint.received.map((r) => [r.method, r.url, r.body])).toEqual([['GET', '/token-hook/one', '']]);
  expect(verify(merchant.webhookSecret, endpoint.received[0].headers)).toBe(true);

  const charged = await api().post('/charge', {
    payment_vendor: merchant.vendorId,
    token,
    transaction_detail: { merchant_ref_code: 'hook-3ds-1', amount: 10000, service_charge: 0, description: 'x', currency: 'IDR' },
  });
  expect(charged.body.data.transaction.Status).toBe('paid');
  await drain();
  expect(endpoint.received.map((r) => r.url)).toEqual(['/token-hook/one', '/token-hook/one']);
  const listed = await request(ctx.app).get('/api/v1/webhooks/deliveries').set('Authorization', `Bearer ${merchant.secretKey}`);
  expect(
    listed.body.data
      .filter((d: { token: string | null }) => d.token === token)
      .map((d: { event_type: string; state: string; merchant_ref_code: string }) => [d.event_type, d.state, d.merchant_ref_code])
      .reverse(),
  ).toEqual([
    ['token.verified', 'delivered', ''],
    ['token.used', 'delivered', ''],
  ]);
  // A token made without a webhook_url signals nothing.
  const quiet = (await api().post('/token/3ds', seedCreate3dsToken(merchant.vendorId))).body.data;
  const quietChallenge = new URL(quiet.auth_url);
  await request(quietChallenge.origin).post(quietChallenge.pathname).type('form').send({ result: 'pass' });
  await request(ctx.app).get(`/api/v1/transactions/token/3ds/return/${quiet.token}`);
  await drain();
  expect(endpoint.received).toHaveLength(2);
  expect(await ctx.db('payment_events').where({ subject: 'token', subject_ref: quiet.token })).toEqual([]);
});

test('when the endpoint fails 3 times and then recovers, then the signal arrives, with the same webhook-id every time; a resend sends it again with that id', async () => {
  endpoint.state.failures = 3;
  await charge('hook-2');
  for (let i = 0; i < 8; i++) {
    await runWebhooksOnce(ctx.hub);
    ctx.clock.advanceServiceOnly(3600);
  }
  const calls = endpoint.received.filter((r) => r.url === '/hook/hook-2');
  const byId = new Map<string, number>();
  for (const c of calls) byId.set(String(c.headers['webhook-id']), (byId.get(String(c.headers['webhook-id'])) ?? 0) + 1);
  expect(Math.max(...byId.values())).toBeGreaterThanOrEqual(2);
  const rows = await ctx
    .db('hub_webhook_deliveries as d')
    .join('hub_transactions as t', 't.id', 'd.transaction_id')
    .where('t.merchant_ref_code', 'hook-2')
    .orderBy('d.id')
    .select('d.*');
  expect(rows.every((r) => r.state === 'delivered')).toBe(true);
  expect(rows.reduce((n, r) => n + Number(r.attempts), 0)).toBe(calls.length);

  const one = rows[rows.length - 1];
  endpoint.received.length = 0;
  const resent = await request(ctx.app).post(`/api/v1/webhooks/deliveries/${one.id}/resend`).set('Authorization', `Bearer ${merchant.secretKey}`);
  expect(resent.status).toBe(202);
  await runWebhooksOnce(ctx.hub);
  expect(endpoint.received.map((r) => r.headers['webhook-id'])).toEqual([one.webhook_id]);
  // Another merchant cannot resend it.
  const other = await hubMerchant(ctx, { stripeKey: KEY });
  expect((await request(ctx.app).post(`/api/v1/webhooks/deliveries/${one.id}/resend`).set('Authorization', `Bearer ${other.secretKey}`)).status).toBe(404);
});

test('when the endpoint never answers, then the API keeps answering while the delivery waits', async () => {
  endpoint.state.hang = true;
  await charge('hook-3');
  let passDone = false;
  const pass = runWebhooksOnce(ctx.hub).then(() => (passDone = true));
  for (let i = 0; i < 250 && !endpoint.received.some((r) => r.url === '/hook/hook-3'); i++) await new Promise((r) => setTimeout(r, 20));
  expect(endpoint.received.map((r) => r.url)).toContain('/hook/hook-3');
  const answers = await Promise.all(Array.from({ length: 5 }, () => admin(ctx).get('/merchants')));
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
  expect((await api().get('/hook-3')).status).toBe(200);
  expect(passDone).toBe(false);
  endpoint.server.closeAllConnections();
  await pass;
  const row = await ctx
    .db('hub_webhook_deliveries as d')
    .join('hub_transactions as t', 't.id', 'd.transaction_id')
    .where('t.merchant_ref_code', 'hook-3')
    .first('d.*');
  expect(row.state).toBe('pending');
  expect(Number(row.check_failures)).toBeGreaterThanOrEqual(1);
});

test("when one merchant's endpoint never answers, then the worker does not wait for it and another merchant's signal goes out at once; the dead one holds only its merchant's slots", async () => {
  const other = await hubMerchant(ctx, { stripeKey: KEY });
  endpoint.state.hang = '/dead/';
  const dead = ['dead-1', 'dead-2', 'dead-3', 'dead-4', 'dead-5'];
  for (const ref of dead) await charge(ref, merchant, `/dead/${ref}`);
  await charge('alive-1', other, '/alive/alive-1');
  const worker = createWebhookWorker(ctx.hub, { maxInFlight: 4, perMerchant: 2 });
  const first = await worker.tick();
  expect(first).toEqual({ routed: expect.any(Number), started: 3 });
  const arrived = (prefix: string) => endpoint.received.filter((r) => r.url.startsWith(prefix)).length;
  for (let i = 0; i < 500 && (arrived('/alive/') < 1 || arrived('/dead/') < 2); i++) await new Promise((r) => setTimeout(r, 20));
  const aliveRow = () =>
    ctx.db('hub_webhook_deliveries as d').join('hub_transactions as t', 't.id', 'd.transaction_id').where('t.merchant_ref_code', 'alive-1').first('d.state');
  for (let i = 0; i < 500 && (await aliveRow()).state !== 'delivered'; i++) await new Promise((r) => setTimeout(r, 20));
  // The other merchant's signal is delivered while two of the dead endpoint's requests still hang.
  expect([(await aliveRow()).state, worker.inFlight(), arrived('/dead/')]).toEqual(['delivered', 2, 2]);
  // The dead merchant is at its share: a further tick takes none of its three other due deliveries.
  expect((await worker.tick()).started).toBe(0);
  expect(arrived('/dead/')).toBe(2);
  endpoint.server.closeAllConnections();
  await worker.drain();
  expect(worker.inFlight()).toBe(0);
  const deadRows = await ctx
    .db('hub_webhook_deliveries as d')
    .join('hub_transactions as t', 't.id', 'd.transaction_id')
    .whereIn('t.merchant_ref_code', dead)
    .pluck('d.attempts');
  expect(deadRows.map(Number).sort()).toEqual([0, 0, 0, 1, 1]);
});

test('when the service stops while signals are pending and starts again, then every signal is still delivered', async () => {
  endpoint.state.failures = 1000;
  await charge('hook-4');
  await runWebhooksOnce(ctx.hub);
  const pending = await ctx
    .db('hub_webhook_deliveries as d')
    .join('hub_transactions as t', 't.id', 'd.transaction_id')
    .where('t.merchant_ref_code', 'hook-4')
    .select('d.*');
  expect(pending.map((d) => d.state)).toEqual(['pending']);
  // Another process on the same database and emulator: what the first one left is in the rows.
  const restarted = await startServiceOn({ db: ctx.db, dbKind: ctx.dbKind, emulator: ctx.emulator, stripeKey: TEST_STRIPE_KEY, logs: ctx.logs });
  try {
    endpoint.state.failures = 0;
    restarted.clock.advanceServiceOnly(ctx.clock.now().getTime() / 1000 - Date.now() / 1000 + 3600);
    await runWebhooksOnce(restarted.hub);
    const after = await ctx.db('hub_webhook_deliveries').where({ id: pending[0].id }).first();
    expect(after.state).toBe('delivered');
    expect(endpoint.received.filter((r) => r.url === '/hook/hook-4').map((r) => r.headers['webhook-id'])).toContain(pending[0].webhook_id);
  } finally {
    await restarted.close();
  }
});
