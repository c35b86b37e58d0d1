import http, { type Server } from 'node:http';
import path from 'node:path';
import { ConfigError, DEV_BILLRUN_SECRET, parseConfig, type Config } from '../config';
import { startEmulator, type Emulator } from '../emulator';
import { createApp } from './app';
import { ensureDemoOperator } from './console';
import { signData } from './billrun';
import { countQueries, createDb, dbKind, installationId, migrateLatest, startTableStatistics, type Db } from './db';
import { createHub, loadEncryptionKey, SecretDoesNotOpen, startHubWebhookWorker } from './hub';
import { demoCurl, ensureDemoMerchant } from './hub/hub-demo';
import { createMetrics } from './metrics';
import { startReconciler, stripeAccountStore } from './payments';
import { systemClock, unixSeconds } from './shared/clock';
import { createLogger, prettyDestination, type Logger } from './shared/logger';
import { createStripeAccounts, keyedAccount } from './stripe';

const SANDBOX_KEY = 'sk_test_sandbox_emulator';
const SHUTDOWN_GRACE_MS = 10000;
/** How often merchant webhooks are routed and sent: a signal leaves within a few seconds of its change. */
const HUB_WEBHOOK_INTERVAL_MS = 2000;
/** Stale planner statistics looked for (a catalog query); see app/db/table-statistics.ts. */
const TABLE_STATISTICS_INTERVAL_MS = 15000;

/** A start-up failure whose message says all an operator needs (no stack trace). */
class StartupError extends Error {}

/** A listen failure, explained with the port and the variable that sets it; other errors pass through. */
function listenFailure(err: unknown, variable: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE')
    return new StartupError(`port ${port} is already in use (${variable}=${port}): stop the process listening there or set ${variable} to a free port`);
  if (code === 'EACCES') return new StartupError(`port ${port} needs privileges this process does not have (${variable}=${port}): choose a port above 1023`);
  return err;
}

/**
 * BENCH_QUERY_COUNTER=1, for `npm run bench`: the database round trips so far, answered to the
 * process that started this one over its IPC channel (nothing is served on the network).
 */
function answerRoundTrips(db: Db, logger: Logger): void {
  const send = process.send?.bind(process);
  if (!send) {
    logger.warn('BENCH_QUERY_COUNTER=1 but this process has no IPC channel: the round-trip count is not answered');
    return;
  }
  const counter = countQueries(db);
  process.on('message', (message) => {
    if (message === 'round-trips') send({ roundTrips: counter.roundTrips() });
  });
}

/** The sandbox banner: said on every start, so nobody mistakes the emulator for Stripe. */
function announceSandbox(logger: Logger, emulator: Emulator): void {
  logger.warn(
    { emulator: emulator.url },
    'SANDBOX MODE: no STRIPE_SECRET_KEY set, so Stripe is the built-in emulator. No real card is charged and nothing reaches Stripe. Set STRIPE_SECRET_KEY=sk_test_... to use Stripe test mode.',
  );
}

/** A ready-to-paste request for a newcomer, signed with the development secret. */
function exampleRequest(config: Config): string {
  if (!config.billrun.sharedSecrets.some((s) => s.key === DEV_BILLRUN_SECRET)) {
    return `Sign a request with: npm run sign -- '{"aid":1,"name":"StripeCheckout","iframe":true,"ok_page":"${config.publicBaseUrl}/paymentgateways/success","fail_page":"${config.publicBaseUrl}/paymentgateways/cancelled"}'`;
  }
  const data = signData(
    JSON.stringify({
      iframe: true,
      aid: 1001,
      name: 'StripeCheckout',
      type: 'account',
      _t_: String(unixSeconds(new Date())),
      ok_page: `${config.publicBaseUrl}/paymentgateways/success`,
      fail_page: `${config.publicBaseUrl}/paymentgateways/cancelled`,
    }),
    DEV_BILLRUN_SECRET,
  );
  return `Try it (valid for ${config.billrun.signatureMaxAgeS || 'unlimited'} s; make a fresh one with npm run sign):\n  curl -s '${config.publicBaseUrl}/paymentgateways/getRequest' --data-urlencode 'data=${data}'`;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, config.logFormat === 'pretty' ? prettyDestination() : undefined);

  let emulator: Emulator | undefined;
  let secretKey = config.stripe.secretKey;
  let apiBase = config.stripe.apiBase;
  let webhookSecrets = config.stripe.webhookSecrets;
  if (config.stripe.mode === 'sandbox') {
    // The emulator's data lives beside the embedded database's files, so both survive a restart together.
    const pgliteOnDisk = !config.database.url && !config.database.dataDir.startsWith('memory://');
    try {
      emulator = await startEmulator({
        port: config.emulator.port,
        apiKey: SANDBOX_KEY,
        // Each sandbox vendor of the Payment Hub has a key of its own: its own emulator account.
        acceptOtherTestKeys: true,
        ...(pgliteOnDisk ? { stateFile: path.join(config.database.dataDir, 'stripe-emulator.json') } : {}),
        log: (msg, fields) => {
          const entry = { component: 'emulator', ...fields };
          // The state file's messages (loaded, set aside, save failed) carry a severity; the rest is debug.
          if (fields?.severity === 'warn') logger.warn(entry, msg);
          else if (fields?.severity === 'info') logger.info(entry, msg);
          else logger.debug(entry, msg);
        },
      });
    } catch (err) {
      throw listenFailure(err, 'EMULATOR_PORT', config.emulator.port);
    }
    if (config.database.url) {
      logger.warn(
        'SANDBOX MODE with DATABASE_URL: the Stripe emulator keeps its data in memory, so sandbox Stripe data (customers, saved cards, payments) does not survive a restart while the database does',
      );
    }
    secretKey = SANDBOX_KEY;
    apiBase = new URL(emulator.url);
    // The emulator delivers signed webhooks here, as a Stripe endpoint would.
    webhookSecrets = [emulator.addWebhookEndpoint(`http://127.0.0.1:${config.port}/webhooks/stripe`).secret];
  } else if (secretKey?.includes('_live_')) {
    logger.warn('LIVE MODE: real cards are charged');
  }

  const db = createDb({ url: config.database.url, pgliteDataDir: config.database.dataDir, poolMax: config.database.poolMax, logger });
  const applied = await migrateLatest(db);
  if (config.benchQueryCounter) answerRoundTrips(db, logger);
  logger.info({ database: dbKind(db) === 'postgres' ? 'postgres (DATABASE_URL)' : `embedded PGlite in ${config.database.dataDir}`, applied }, 'database ready');
  const metrics = createMetrics({ db });

  const stripeAccounts = createStripeAccounts({
    defaultAccount: keyedAccount({
      label: config.stripe.mode === 'sandbox' ? 'sandbox emulator' : 'default (STRIPE_SECRET_KEY)',
      secretKey: secretKey as string,
      apiBase,
      timeoutMs: config.stripe.timeoutMs,
      maxNetworkRetries: config.stripe.maxNetworkRetries,
      observe: metrics.stripeCall,
      webhookSecrets,
      idempotencyPrefix: await installationId(db),
    }),
    store: stripeAccountStore(db),
    logger,
  });
  // Learnt now so a swapped key shows in the log at start; a Stripe outage only delays it.
  await stripeAccounts
    .defaultAccount()
    .catch((err: unknown) =>
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'the Stripe account could not be read yet; retried on first use'),
    );
  const deps = { db, stripeAccounts, clock: systemClock, logger, config, metrics };
  const hubKey = loadEncryptionKey(config.hub.encryptionKey, config.database.dataDir);
  if (hubKey.source !== 'HUB_ENCRYPTION_KEY')
    logger.warn({ file: hubKey.source }, 'HUB_ENCRYPTION_KEY is not set: vendor secrets are sealed with the development key in this file');
  const sandboxEmulator = emulator;
  const hub = await createHub(deps, {
    encryptionKeySource: hubKey.source,
    encryptionKey: hubKey.key,
    apiBase,
    idempotencyPrefix: await installationId(db),
    // Each sandbox vendor is its own emulator account; the emulator sends its events to the vendor's own webhook path.
    ...(sandboxEmulator
      ? {
          sandboxWebhookSecrets: (key: string, vendorId: string) => [
            sandboxEmulator.addWebhookEndpoint(`http://127.0.0.1:${config.port}/api/v1/hook/stripe/${vendorId}`, undefined, { apiKey: key }).secret,
          ],
        }
      : {}),
  }).catch((err: unknown) => {
    throw err instanceof SecretDoesNotOpen ? new StartupError(err.message) : err;
  });
  const demo = emulator ? await ensureDemoMerchant(hub, config.database.dataDir) : undefined;
  const demoOperator = emulator ? await ensureDemoOperator(db, config.database.dataDir, systemClock.now()) : undefined;
  const demoHome = config.database.dataDir.startsWith('memory://')
    ? 'made anew at each start of an in-memory database'
    : `kept in ${path.join(config.database.dataDir, 'hub-demo.json')}`;
  const { app, lifecycle, session } = createApp(deps, { sessionCleanupIntervalMs: 60000, hub });
  const reconciler = config.reconcileIntervalS > 0 ? startReconciler(deps, config.reconcileIntervalS * 1000) : undefined;
  const hubWebhooks = startHubWebhookWorker(hub, HUB_WEBHOOK_INTERVAL_MS);
  const tableStatistics = startTableStatistics(db, {
    intervalMs: TABLE_STATISTICS_INTERVAL_MS,
    // PGlite runs no autovacuum: every 40 passes (10 minutes) dead rows are vacuumed.
    vacuumEvery: dbKind(db) === 'pglite' ? 40 : 0,
    logger,
  });
  if (!reconciler) logger.warn('RECONCILE_INTERVAL_S=0: the background reconciler is off');
  if (config.session.secretIsEphemeral) logger.warn('SESSION_SECRET is not set: a random one is used, so sessions and OAuth tokens end on restart');
  if (config.billrun.sharedSecrets.some((s) => s.key === DEV_BILLRUN_SECRET)) {
    logger.warn(`BILLRUN_SHARED_SECRETS is not set: the development secret "${DEV_BILLRUN_SECRET}" is accepted (never in production)`);
  }

  // Express 5's app.listen hands a listen error to its callback; listening by hand makes a busy
  // port a start-up failure instead of a process that runs without listening.
  const server: Server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw listenFailure(err, 'PORT', config.port);
  }
  logger.info({ url: config.publicBaseUrl, port: config.port, stripe: config.stripe.mode }, 'payment gateway listening');
  if (emulator) announceSandbox(logger, emulator);
  process.stdout.write(
    `\nPayment gateway on ${config.publicBaseUrl}${emulator ? ' (SANDBOX: Stripe emulator, no real money)' : ''}\n${exampleRequest(config)}\n\n`,
  );
  if (demoOperator) {
    process.stdout.write(
      [
        `Operator console (sandbox; ${demoHome.replace('hub-demo.json', 'console-demo.json')}):`,
        `  ${config.publicBaseUrl}/console   operator ${demoOperator.name}   password ${demoOperator.password}`,
        '',
        '',
      ].join('\n'),
    );
  }
  if (demo) {
    process.stdout.write(
      [
        `Payment Hub demo merchant (sandbox; ${demoHome}):`,
        `  merchant id     ${demo.merchant_id}`,
        `  public key      ${demo.public_key}`,
        `  secret key      ${demo.secret_key}`,
        `  webhook secret  ${demo.webhook_secret}`,
        `  vendor id       ${demo.vendor_id}`,
        'Create a token (the seed\'s "Create Token Only"):',
        demoCurl(config.publicBaseUrl, demo),
        '',
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    lifecycle.shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing requests in flight');
    const force = setTimeout(() => {
      logger.warn('shutdown grace period over: closing remaining connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(async () => {
      session.close();
      await reconciler?.stop();
      await hubWebhooks.stop();
      await tableStatistics.stop();
      await db.destroy().catch((err: unknown) => logger.error({ err }, 'database close failed'));
      await emulator?.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const text = err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`Start-up failed: ${text}\n`);
  process.exit(1);
});
