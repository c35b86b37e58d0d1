/**
 * `npm run bench`: card-setup latency and Stripe calls per flow, measured end to end over HTTP
 * (service + emulator in this process, PGlite unless DATABASE_URL is set). Prints figures; it
 * asserts nothing, tests never time anything.
 */
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../config';
import { startEmulator } from '../emulator';
import { createApp } from '../app/app';
import { signData } from '../app/billrun';
import { createDb, installationId, migrateLatest } from '../app/db';
import { createMetrics } from '../app/metrics';
import { systemClock, unixSeconds } from '../app/shared/clock';
import { createLogger } from '../app/shared/logger';
import { createStripeAccounts, keyedAccount } from '../app/stripe';
import { stripeAccountStore } from '../app/payments';

const SETUPS = Number(process.env.BENCH_SETUPS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SECRET = 'bench-secret';
const KEY = 'sk_test_bench';

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  const emulator = await startEmulator({ apiKey: KEY });
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    STRIPE_SECRET_KEY: KEY,
    STRIPE_API_BASE: emulator.url,
    BILLRUN_SHARED_SECRETS: SECRET,
    DATABASE_URL: process.env.DATABASE_URL ?? '',
  });
  const db = createDb({ url: config.database.url, pgliteDataDir: 'memory://' });
  await migrateLatest(db);
  const logger = createLogger('silent');
  // Measured as deployed: with the metrics on every request and Stripe call.
  const metrics = createMetrics({ db });
  const stripeAccounts = createStripeAccounts({
    defaultAccount: keyedAccount({
      label: 'bench',
      secretKey: KEY,
      apiBase: config.stripe.apiBase as URL,
      timeoutMs: 10000,
      maxNetworkRetries: 2,
      observe: metrics.stripeCall,
      webhookSecrets: [],
      idempotencyPrefix: await installationId(db),
    }),
    store: stripeAccountStore(db),
    logger,
  });
  const { app, session } = createApp({ db, stripeAccounts, clock: systemClock, logger, config, metrics });
  const server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const getRequestMs: number[] = [];
  const okPageMs: number[] = [];
  let aid = 1;
  const oneSetup = async (): Promise<void> => {
    const data = signData(
      JSON.stringify({
        iframe: true,
        aid: aid++,
        name: 'StripeCheckout',
        _t_: String(unixSeconds(new Date())),
        ok_page: 'https://portal.example/ok',
        fail_page: 'https://portal.example/fail',
      }),
      SECRET,
    );
    let t = performance.now();
    const started = (await (await fetch(`${base}/paymentgateways/getRequest?data=${encodeURIComponent(data)}`)).json()) as { details: { url: string } };
    getRequestMs.push(performance.now() - t);
    const done = emulator.completeCheckoutSession(started.details.url.split('/').pop() as string, '4242424242424242');
    const txId = new URL(done.redirectUrl).searchParams.get('txId') as string;
    t = performance.now();
    const ok = (await (await fetch(`${base}/paymentgateways/OkPage?name=StripeCheckout&txId=${txId}&redirect=0`)).json()) as { status: number };
    okPageMs.push(performance.now() - t);
    if (ok.status !== 1) throw new Error(`OkPage failed: ${JSON.stringify(ok)}`);
  };

  for (let i = 0; i < 10; i++) await oneSetup(); // warm-up
  getRequestMs.length = 0;
  okPageMs.length = 0;
  emulator.clearRequests();

  const began = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < SETUPS) await oneSetup();
    }),
  );
  const wall = (performance.now() - began) / 1000;
  const calls = emulator.requests().length;

  const report = (name: string, xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    process.stdout.write(
      `${name.padEnd(12)} n=${s.length}  p50 ${fmt(percentile(s, 50))}  p95 ${fmt(percentile(s, 95))}  p99 ${fmt(percentile(s, 99))}  max ${fmt(s[s.length - 1])}\n`,
    );
  };
  process.stdout.write(
    `\ncard setups: ${SETUPS} new accounts, concurrency ${CONCURRENCY}, database ${config.database.url ? 'PostgreSQL' : 'PGlite'}, Stripe = in-process emulator\n`,
  );
  report('getRequest', getRequestMs);
  report('OkPage', okPageMs);
  process.stdout.write(`throughput   ${(SETUPS / wall).toFixed(1)} complete setups/s\n`);
  process.stdout.write(`Stripe calls ${(calls / SETUPS).toFixed(2)} per setup (BillRun: customer search + session + 3 on OkPage = 5)\n\n`);

  server.close();
  session.close();
  await db.destroy();
  await emulator.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
