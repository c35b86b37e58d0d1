import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import Stripe from 'stripe';
import { parseConfig, type Config } from '../../config';
import { startEmulator, type Emulator } from '../../emulator';
import { createHub, type Hub, type WebhookTargets } from '../../app/hub';
import { createApp, type AppHandle } from '../../app/app';
import { installationId, type Db } from '../../app/db';
import type { Clock } from '../../app/shared/clock';
import type { Deps } from '../../app/shared/deps';
import { createMetrics } from '../../app/metrics';
import { createLogger } from '../../app/shared/logger';
import { createStripeAccounts, createStripeClient, keyedAccount } from '../../app/stripe';
import { stripeAccountStore } from '../../app/payments';
import { createTestDb, type TestDb } from './test-db';

export const TEST_SECRET = 'test-shared-secret-0123456789';
export const TEST_STRIPE_KEY = 'sk_test_gateway_tests';
export const TEST_OAUTH_CLIENT = { client_id: 'billrun-test', client_secret: 'billrun-test-client-secret' };

/** A clock tests move by hand; `advance` moves the emulator's clock too, as real time would. */
export interface TestClock extends Clock {
  advance(seconds: number): void;
  /** Moves only the service's clock, as if Stripe's lagged behind ours. */
  advanceServiceOnly(seconds: number): void;
}

export interface TestContext {
  app: Express;
  handle: AppHandle;
  db: Db;
  dbKind: TestDb['kind'];
  emulator: Emulator;
  /** A raw Stripe client on the emulator, for arranging and asserting what Stripe holds. */
  stripe: Stripe;
  config: Config;
  clock: TestClock;
  deps: Deps;
  /** Every log line the service wrote, as text. */
  logs: string[];
  /** Where the app listens for real (the emulator delivers webhooks there). */
  baseUrl: string;
  /** The secret of the emulator's webhook endpoint for this app, to sign hand-made events. */
  webhookSecret: string;
  close(): Promise<void>;
  /** The Payment Hub on this service (merchants, vendors, tokens). */
  hub: Hub;
}

const logLevelOf = (env: Record<string, string> | undefined): string => env?.LOG_LEVEL ?? 'debug';

/** Test-only values (never a real secret): the Hub's key for secrets at rest and its admin token. */
export const TEST_HUB_ENCRYPTION_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
export const TEST_HUB_ADMIN_TOKEN = 'test-hub-admin-token-0123456789';

export const testEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'debug',
  PUBLIC_BASE_URL: 'http://gateway.test',
  SESSION_SECRET: 'test-session-secret-0123456789abcdef',
  BILLRUN_SHARED_SECRETS: TEST_SECRET,
  BILLRUN_OAUTH_CLIENTS: JSON.stringify([TEST_OAUTH_CLIENT]),
  BILLRUN_RETURN_URL: 'https://billrun.example/return',
  HUB_ENCRYPTION_KEY: TEST_HUB_ENCRYPTION_KEY,
  HUB_ADMIN_TOKEN: TEST_HUB_ADMIN_TOKEN,
  ...overrides,
});

export interface TestContextOptions {
  env?: Record<string, string>;
  stripeTimeoutMs?: number;
  /** The key the service uses by default (default TEST_STRIPE_KEY). */
  stripeKey?: string;
  /** More keys the emulator accepts, each its own Stripe account (for multi-account tests). */
  otherStripeKeys?: string[];
  /** Where merchant webhooks may go (default: as in development, names resolved by the system). */
  hubWebhookTargets?: WebhookTargets;
}

/**
 * The whole service for one test file: its own database, the emulator over real HTTP driven by
 * the real stripe client, and the app ready for supertest.
 */
export async function startTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const stripeKey = options.stripeKey ?? TEST_STRIPE_KEY;
  const logs: string[] = [];
  const logger = createLogger(logLevelOf(options.env), { write: (line: string) => void logs.push(line) });
  const testDb = await createTestDb(logger);
  // The emulator writes into the same capture, as it does into the service log in sandbox mode.
  const emulator = await startEmulator({
    apiKey: [stripeKey, ...(options.otherStripeKeys ?? [])],
    log: (msg, fields) => void logs.push(JSON.stringify({ component: 'emulator', msg, ...fields })),
  });
  const ctx = await startServiceOn({
    db: testDb.db,
    dbKind: testDb.kind,
    emulator,
    stripeKey,
    env: options.env,
    stripeTimeoutMs: options.stripeTimeoutMs,
    logs,
    hubWebhookTargets: options.hubWebhookTargets,
  });
  emulator.clearRequests();
  return {
    ...ctx,
    close: async () => {
      await ctx.close();
      await emulator.close();
      await testDb.close();
    },
  };
}

export interface ServiceOnOptions {
  db: Db;
  dbKind: TestDb['kind'];
  emulator: Emulator;
  /** The key the service uses, one the emulator accepts. */
  stripeKey: string;
  env?: Record<string, string>;
  stripeTimeoutMs?: number;
  /** Where log lines go (shared with the emulator's, when the caller captures those too). */
  logs?: string[];
  hubWebhookTargets?: WebhookTargets;
}

/**
 * The service wired as main.ts wires it, on a given database and emulator. Its `close` ends only
 * what it started (the server, the session store): the database and the emulator stay the caller's.
 */
export async function startServiceOn(options: ServiceOnOptions): Promise<TestContext> {
  const { db, emulator, stripeKey } = options;
  const logs = options.logs ?? [];
  const logger = createLogger(logLevelOf(options.env), { write: (line: string) => void logs.push(line) });
  // Configured like a deployment pointed at a Stripe-compatible host (STRIPE_API_BASE).
  const config = parseConfig(testEnv({ STRIPE_SECRET_KEY: stripeKey, STRIPE_API_BASE: emulator.url, ...options.env }));
  let offsetMs = 0;
  const clock: TestClock = {
    now: () => new Date(Date.now() + offsetMs),
    advance: (seconds) => {
      offsetMs += seconds * 1000;
      emulator.advanceClock(seconds);
    },
    advanceServiceOnly: (seconds) => {
      offsetMs += seconds * 1000;
    },
  };
  const apiBase = config.stripe.apiBase as URL;
  // The app listens on a real port so the emulator can deliver signed webhooks to it, exactly as
  // Stripe would; requests from tests still go through supertest.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const endpoint = emulator.addWebhookEndpoint(`${baseUrl}/webhooks/stripe`, undefined, { apiKey: stripeKey });
  const metrics = createMetrics({ db });
  const stripeAccounts = createStripeAccounts({
    defaultAccount: keyedAccount({
      label: 'test default',
      secretKey: stripeKey,
      apiBase,
      timeoutMs: options.stripeTimeoutMs ?? config.stripe.timeoutMs,
      maxNetworkRetries: config.stripe.maxNetworkRetries,
      observe: metrics.stripeCall,
      // STRIPE_WEBHOOK_SECRET (when a test sets one) is accepted next to the emulator's endpoint secret.
      webhookSecrets: [...config.stripe.webhookSecrets, endpoint.secret],
      idempotencyPrefix: await installationId(db),
    }),
    store: stripeAccountStore(db),
    logger,
  });
  // As main.ts does at start: which account the key acts on is known before the first request.
  await stripeAccounts.defaultAccount();
  const deps: Deps = { db, stripeAccounts, clock, logger, config, metrics };
  const hub = await createHub(deps, {
    encryptionKey: config.hub.encryptionKey as Buffer,
    apiBase,
    idempotencyPrefix: await installationId(db),
    ...(options.hubWebhookTargets ? { webhookTargets: options.hubWebhookTargets } : {}),
  });
  const handle = createApp(deps, { hub });
  server.on('request', handle.app);
  const stripe = createStripeClient({ secretKey: stripeKey, apiBase, timeoutMs: 10000, maxNetworkRetries: 0 });
  return {
    app: handle.app,
    handle,
    db,
    dbKind: options.dbKind,
    emulator,
    stripe,
    config,
    clock,
    deps,
    hub,
    logs,
    baseUrl,
    webhookSecret: endpoint.secret,
    close: async () => {
      // Let webhook deliveries in flight finish their work before the parts they use go away.
      await emulator.settleWebhooks();
      handle.session.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
