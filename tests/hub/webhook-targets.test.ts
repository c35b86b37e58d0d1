import http from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { runWebhooksOnce, type WebhookTargets } from '../../app/hub';
import { hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCreate3dsToken, seedCreateTokenOnly } from '../support/hub-seed';
import { startTestContext, type TestContext } from '../support/test-context';

/**
 * Outside development a merchant webhook goes only to a public address: a private or loopback
 * host is refused, and so is a name that resolves to one (checked on the addresses the request
 * connects to). Names here are resolved by the test's own table, as a DNS server would answer.
 */

const KEY = 'sk_test_hub_webhook_targets';
const NAMES = new Map<string, string>([
  ['rebinding.merchant.example', '127.0.0.1'],
  ['intranet.merchant.example', '10.1.2.3'],
]);
const lookups: string[] = [];
const tableLookup: LookupFunction = (hostname, options, callback) => {
  lookups.push(hostname);
  const address = NAMES.get(hostname);
  if (!address) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
  if (options.all) return callback(null, [{ address, family: 4 }]);
  callback(null, address, 4);
};

const received: string[] = [];
const endpoint = http.createServer((req, res) => {
  received.push(req.url ?? '');
  res.writeHead(204).end();
});
let port: number;
beforeAll(async () => {
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  port = (endpoint.address() as AddressInfo).port;
});
afterAll(async () => {
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});
beforeEach(() => {
  received.length = 0;
  lookups.length = 0;
});

async function withService(targets: WebhookTargets, run: (ctx: TestContext, merchant: HubMerchant) => Promise<void>): Promise<void> {
  const ctx = await startTestContext({ otherStripeKeys: [KEY], hubWebhookTargets: targets });
  try {
    await run(ctx, await hubMerchant(ctx, { stripeKey: KEY }));
  } finally {
    await ctx.close();
  }
}

async function chargeWithWebhook(ctx: TestContext, merchant: HubMerchant, ref: string, webhookUrl: string) {
  const api = hubApi(ctx, merchant.secretKey);
  const token = (await api.post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token;
  return api.post('/charge', {
    payment_vendor: merchant.vendorId,
    token,
    transaction_detail: { merchant_ref_code: ref, amount: 12, service_charge: 0, description: 'x', currency: 'USD', webhook_url: webhookUrl },
  });
}

const deliveryOf = (ctx: TestContext, ref: string) =>
  ctx.db('hub_webhook_deliveries as d').join('hub_transactions as t', 't.id', 'd.transaction_id').where('t.merchant_ref_code', ref).first('d.*');

test('when private addresses are refused and a webhook_url names a host that resolves to a loopback or private address, then nothing is sent and the delivery fails at once, saying why', async () => {
  await withService({ refusePrivate: true, lookup: tableLookup }, async (ctx, merchant) => {
    for (const [ref, host] of [
      ['rebind-1', 'rebinding.merchant.example'],
      ['intranet-1', 'intranet.merchant.example'],
    ]) {
      const charged = await chargeWithWebhook(ctx, merchant, ref, `http://${host}:${port}/hook/${ref}`);
      // The name itself is not private: the transaction is accepted, and the check is at delivery.
      expect([charged.status, charged.body.data.transaction.Status]).toEqual([200, 'paid']);
    }
    await runWebhooksOnce(ctx.hub);
    await runWebhooksOnce(ctx.hub);
    expect(lookups).toEqual(expect.arrayContaining(['rebinding.merchant.example', 'intranet.merchant.example']));
    expect(received).toEqual([]);
    for (const [ref, host] of [
      ['rebind-1', 'rebinding.merchant.example'],
      ['intranet-1', 'intranet.merchant.example'],
    ]) {
      const row = await deliveryOf(ctx, ref);
      expect([row.state, row.last_error, row.next_check_at]).toEqual(['failed', `refused: ${host} resolves to a private or loopback address`, null]);
    }
    expect(ctx.logs.some((l) => l.includes('merchant webhook refused: not a public address'))).toBe(true);
  });
});

test('when private addresses are refused, then a literal loopback webhook_url is refused when the transaction is made', async () => {
  await withService({ refusePrivate: true, lookup: tableLookup }, async (ctx, merchant) => {
    const res = await chargeWithWebhook(ctx, merchant, 'literal-1', `http://127.0.0.1:${port}/hook/literal-1`);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['transaction_detail.webhook_url']);
    const threeDs = await hubApi(ctx, merchant.secretKey).post('/token/3ds', {
      ...seedCreate3dsToken(merchant.vendorId),
      webhook_url: `http://10.0.0.7:${port}/token-hook`,
    });
    expect([threeDs.status, threeDs.body.errors]).toEqual([400, [{ field: 'webhook_url', message: 'must be a public address (not loopback or private)' }]]);
  });
});

test('when private addresses are allowed (development), then the same name is resolved by the same lookup and delivered to', async () => {
  await withService({ refusePrivate: false, lookup: tableLookup }, async (ctx, merchant) => {
    await chargeWithWebhook(ctx, merchant, 'dev-1', `http://rebinding.merchant.example:${port}/hook/dev-1`);
    await runWebhooksOnce(ctx.hub);
    expect(received).toEqual(['/hook/dev-1']);
    expect(lookups).toContain('rebinding.merchant.example');
    expect((await deliveryOf(ctx, 'dev-1')).state).toBe('delivered');
  });
});

test('when a webhook host name does not resolve, then the attempt fails and is retried later, not given up', async () => {
  await withService({ refusePrivate: true, lookup: tableLookup }, async (ctx, merchant) => {
    await chargeWithWebhook(ctx, merchant, 'nxdomain-1', `http://nowhere.merchant.example:${port}/hook/nxdomain-1`);
    await runWebhooksOnce(ctx.hub);
    const row = await deliveryOf(ctx, 'nxdomain-1');
    expect([row.state, row.last_error]).toEqual(['pending', 'getaddrinfo ENOTFOUND nowhere.merchant.example']);
    expect(received).toEqual([]);
  });
});
