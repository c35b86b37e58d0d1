import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db';
import type { StripeCallObserver } from '../stripe';

/** Where a reconciler queue stands at the start of a pass. */
export interface QueueDepth {
  /** Unsettled rows whose next look is due now. */
  due: number;
  /** Unsettled rows whose last look failed (retried with backoff). */
  failing: number;
  /** Rows that failed so often they are logged as needing an operator. */
  needOperator: number;
}

export type StripeWebhookResult = 'processed' | 'duplicate' | 'failed';
export type MerchantWebhookOutcome = 'delivered' | 'failed_attempt' | 'given_up' | 'refused';

/**
 * The service's metrics, one set per app instance (tests run many in one process, so nothing
 * lands in prom-client's global registry). Callers report what happened in their own words;
 * only this module knows metric names and labels.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Given to every Stripe client (`observe`): each HTTP attempt to Stripe. */
  readonly stripeCall: StripeCallObserver;
  httpRequest(request: { method: string; route: string; status: string; seconds: number }): void;
  readonly reconciler: {
    queue(queue: string, depth: QueueDepth): void;
    claimed(queue: string, rows: number): void;
    checkFailed(queue: string): void;
    parked(queue: string): void;
    passFinished(at: Date): void;
  };
  /** A verified Stripe event: what became of it and, when it was taken in, how old it was. */
  stripeWebhook(result: StripeWebhookResult, lagSeconds?: number): void;
  /** One attempt to deliver a merchant webhook (Payment Hub). */
  merchantWebhook(outcome: MerchantWebhookOutcome, seconds?: number): void;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Event age at intake: seconds for a healthy endpoint, hours when Stripe redelivers after an outage. */
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600];

/** The knex pool's counters (tarn); absent once the database is destroyed. */
interface PoolCounts {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  max: number;
}

const poolOf = (db: Db): PoolCounts | undefined => (db.client as { pool?: PoolCounts }).pool ?? undefined;

export function createMetrics(options: { db: Db }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers });

  const HTTP = ['method', 'route', 'status'] as const;
  const httpRequests = counter('http_requests_total', 'HTTP requests answered, by method, matched route pattern and status', HTTP);
  const httpDuration = histogram('http_request_duration_seconds', 'Time from a request arriving to its answer being sent', LATENCY_BUCKETS, HTTP);
  const STRIPE = ['operation', 'outcome'] as const;
  const stripeRequests = counter(
    'stripe_requests_total',
    'HTTP attempts to Stripe (each retry counts), by operation and outcome (status class, timeout, connection_error)',
    STRIPE,
  );
  const stripeDuration = histogram(
    'stripe_request_duration_seconds',
    'Time of one HTTP attempt to Stripe until its answer arrived or it failed',
    LATENCY_BUCKETS,
    STRIPE,
  );
  const QUEUE = ['queue'] as const;
  const rowsDue = gauge('reconciler_rows_due', 'Unsettled rows due for a look at Stripe, at the start of the last reconciler pass', QUEUE);
  const rowsFailing = gauge('reconciler_rows_failing', 'Unsettled rows whose last look at Stripe failed, at the start of the last reconciler pass', QUEUE);
  const rowsNeedOperator = gauge('reconciler_rows_need_operator', 'Unsettled rows whose looks failed so often they are logged as needing an operator', QUEUE);
  const rowsClaimed = counter('reconciler_rows_claimed_total', 'Rows the reconciler claimed and looked at', QUEUE);
  const checkFailures = counter('reconciler_check_failures_total', 'Looks at Stripe that failed (the row backs off)', QUEUE);
  const rowsParked = counter('reconciler_rows_parked_total', 'Rows put off for a day: their Stripe account has no key here', QUEUE);
  const passes = counter('reconciler_passes_total', 'Reconciler passes finished');
  const lastPass = gauge('reconciler_last_pass_timestamp_seconds', 'When the last reconciler pass finished (Unix time; 0: none yet)');
  const webhookEvents = counter('stripe_webhook_events_total', 'Verified Stripe events received, by result (processed, duplicate of a processed one, failed)', [
    'result',
  ] as const);
  const webhookLag = histogram(
    'stripe_webhook_intake_lag_seconds',
    'Age of a Stripe event (now - event.created) when it was taken in (duplicates of processed events excluded)',
    LAG_BUCKETS,
  );
  const merchantDeliveries = counter(
    'hub_webhook_deliveries_total',
    'Merchant webhook delivery attempts, by outcome (delivered, failed_attempt, given_up, refused)',
    ['outcome'] as const,
  );
  const merchantDuration = histogram(
    'hub_webhook_delivery_duration_seconds',
    "Time of one merchant webhook attempt until the merchant's answer or a failure",
    LATENCY_BUCKETS,
  );

  // Read at scrape time: the pool's state now, not when something last happened.
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database connections of the pool by state (used, free); the embedded database has exactly one',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const pool = poolOf(options.db);
      this.reset();
      if (!pool) return;
      this.set({ state: 'used' }, pool.numUsed());
      this.set({ state: 'free' }, pool.numFree());
    },
  });
  const poolGauge = (name: string, help: string, read: (pool: PoolCounts) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const pool = poolOf(options.db);
        this.set(pool ? read(pool) : 0);
      },
    });
  poolGauge('db_pool_pending_acquires', 'Queries waiting for a database connection', (pool) => pool.numPendingAcquires());
  poolGauge('db_pool_pending_creates', 'Database connections being opened', (pool) => pool.numPendingCreates());
  poolGauge('db_pool_max_connections', 'Most connections the pool opens', (pool) => pool.max);

  const metrics: Metrics = {
    registry,
    stripeCall: ({ operation, outcome, seconds }) => {
      stripeRequests.inc({ operation, outcome });
      stripeDuration.observe({ operation, outcome }, seconds);
    },
    httpRequest: ({ method, route, status, seconds }) => {
      httpRequests.inc({ method, route, status });
      httpDuration.observe({ method, route, status }, seconds);
    },
    reconciler: {
      queue: (queue, depth) => {
        rowsDue.set({ queue }, depth.due);
        rowsFailing.set({ queue }, depth.failing);
        rowsNeedOperator.set({ queue }, depth.needOperator);
      },
      claimed: (queue, rows) => rowsClaimed.inc({ queue }, rows),
      checkFailed: (queue) => checkFailures.inc({ queue }),
      parked: (queue) => rowsParked.inc({ queue }),
      passFinished: (at) => {
        passes.inc();
        lastPass.set(at.getTime() / 1000);
      },
    },
    stripeWebhook: (result, lagSeconds) => {
      webhookEvents.inc({ result });
      // A clock a little behind Stripe's makes a fresh event look from the future: it is fresh.
      if (lagSeconds !== undefined) webhookLag.observe(Math.max(0, lagSeconds));
    },
    merchantWebhook: (outcome, seconds) => {
      merchantDeliveries.inc({ outcome });
      if (seconds !== undefined) merchantDuration.observe(seconds);
    },
  };
  // Deps are sometimes logged or serialised by mistake: the registry's cycles must not throw there.
  for (const key of ['toJSON', Symbol.for('nodejs.util.inspect.custom')]) {
    Object.defineProperty(metrics, key, { value: () => '[Metrics]', enumerable: false });
  }
  return metrics;
}
