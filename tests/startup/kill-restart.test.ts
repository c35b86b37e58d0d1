import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator } from '../../emulator';
import { seedCreateTokenOnly } from '../support/hub-seed';
import { readmeVerifier } from '../support/readme-webhook-verifier';
import { freePort, killHard, startMain, type MainProcess } from '../support/main-process';
import { createTestDb, type TestDb } from '../support/test-db';

/**
 * A real crash: the service runs as its own process (app/main.ts, as `npm start` runs it), takes
 * Hub charges whose merchant endpoint is down, and is killed with SIGKILL while their signals are
 * pending. Started again on the same database, it delivers every one of them. Stripe is a
 * standalone emulator in this test's process, so it outlives the service as Stripe would.
 */

const ADMIN_TOKEN = 'kill-restart-admin-token-0123456789';
const VENDOR_KEY = 'sk_test_kill_restart_vendor';
const CHARGES = 3;

jest.setTimeout(180_000);

async function call(service: MainProcess, method: string, urlPath: string, bearer: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${service.url}${urlPath}`, {
    method,
    headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
}

let emulator: Emulator;
let testDb: TestDb | undefined;
let dataDir: string | undefined;
const services: MainProcess[] = [];
let endpoint: http.Server | undefined;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  for (const s of services) if (s.child.exitCode === null) await killHard(s);
  endpoint?.closeAllConnections();
  if (endpoint) await new Promise((resolve) => endpoint?.close(resolve));
  await emulator.close();
  await testDb?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('when the service is killed with SIGKILL while merchant signals are pending, then after a restart every signal is delivered, signed', async () => {
  // The database outlives the process: a PostgreSQL database of this test, or PGlite in a directory.
  let dbEnv: Record<string, string>;
  if (process.env.DATABASE_URL) {
    testDb = await createTestDb();
    dbEnv = { DATABASE_URL: String(testDb.url), DATA_DIR: 'memory://' };
    await testDb.db.destroy();
  } else {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pgw-kill-'));
    dbEnv = { DATA_DIR: dataDir };
  }
  const env = {
    ...dbEnv,
    STRIPE_SECRET_KEY: 'sk_test_kill_restart_default',
    STRIPE_API_BASE: emulator.url,
    HUB_ADMIN_TOKEN: ADMIN_TOKEN,
    HUB_ENCRYPTION_KEY: 'ab'.repeat(32),
  };
  const hookPort = await freePort(); // nobody listens there yet: the merchant's endpoint is down

  const first = await startMain(env);
  services.push(first);
  const merchant = (await call(first, 'POST', '/api/v1/admin/merchants', ADMIN_TOKEN, { name: 'Crash test merchant' })).json.data;
  const vendor = (
    await call(first, 'POST', `/api/v1/admin/merchants/${merchant.id}/vendors`, ADMIN_TOKEN, {
      name: 'Stripe',
      stripe_secret_key: VENDOR_KEY,
      allow_raw_card_data: true,
    })
  ).json.data;
  const refs = Array.from({ length: CHARGES }, (_, i) => `crash-${i + 1}`);
  for (const ref of refs) {
    const token = (await call(first, 'POST', '/api/v1/transactions/token', merchant.secret_key, seedCreateTokenOnly(vendor.id))).json.data.token;
    const charged = await call(first, 'POST', '/api/v1/transactions/charge', merchant.secret_key, {
      payment_vendor: vendor.id,
      token,
      transaction_detail: {
        merchant_ref_code: ref,
        amount: 25,
        service_charge: 0,
        description: 'crash test',
        currency: 'USD',
        webhook_url: `http://127.0.0.1:${hookPort}/hook/${ref}`,
      },
    });
    expect([charged.status, charged.json.data?.transaction?.Status]).toEqual([200, 'paid']);
  }
  await killHard(first);
  expect(first.output()).not.toContain('merchant webhook delivered');

  const received: Received[] = [];
  endpoint = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => endpoint?.listen(hookPort, '127.0.0.1', resolve));

  const second = await startMain(env);
  services.push(second);
  // A delivery claimed when the process died is taken again when its lease ends (60 s), one that
  // failed after its backoff (30 s): poll for the outcome, do not time it.
  const signalled = () => new Set(received.map((r) => r.url));
  for (let i = 0; i < 1500 && signalled().size < CHARGES; i++) await new Promise((r) => setTimeout(r, 100));
  expect([...signalled()].sort()).toEqual(refs.map((ref) => `/hook/${ref}`));

  const verify = readmeVerifier();
  for (const r of received) expect(verify(merchant.webhook_secret, r.headers as Record<string, unknown>, '')).toBe(true);
  const deliveries = (await call(second, 'GET', '/api/v1/webhooks/deliveries', merchant.secret_key)).json.data as Array<{
    merchant_ref_code: string;
    state: string;
    webhook_id: string;
  }>;
  expect(deliveries.map((d) => [d.merchant_ref_code, d.state]).sort()).toEqual(refs.map((ref) => [ref, 'delivered']));
  const ids = new Set(deliveries.map((d) => d.webhook_id));
  for (const r of received) expect(ids.has(String(r.headers['webhook-id']))).toBe(true);
  expect(second.output()).toContain('merchant webhook delivered');
  await killHard(second);
});
