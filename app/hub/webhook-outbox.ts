import { backOff, claimDueRows, park, type DueRows } from '../db';
import { isAppError } from '../shared/app-error';
import { runPeriodically, type PeriodicHandle } from '../shared/periodic';
import type { Hub } from './hub-context';
import { hubRefundStatus, tokenStatusView, transactionView } from './hub-presenters';
import { findToken } from './token-repository';
import { findMerchant } from './merchant-repository';
import { readTransaction } from './transaction-service';
import { RefusedTarget, sendWebhookRequest } from './webhook-http';
import { newWebhookId, signWebhook } from './webhook-signing';

/**
 * Merchant webhooks out. The database records every status change of a merchant's charge or
 * refund (`payment_events`, a trigger in the changing transaction); this worker routes each to a
 * delivery for its transaction's `webhook_url` and delivers it, signed, with backoff for 24 h.
 * Several instances are safe: both queues are claimed with a lease.
 */

const EVENTS: DueRows = {
  table: 'payment_events',
  idColumn: 'id',
  unsettled: { column: 'state', values: ['new'] },
  leaseMs: 60_000,
  backoff: { baseMs: 30_000, maxMs: 3_600_000 },
};
const DELIVERIES: DueRows = {
  table: 'hub_webhook_deliveries',
  idColumn: 'id',
  unsettled: { column: 'state', values: ['pending'] },
  leaseMs: 60_000,
  backoff: { baseMs: 30_000, maxMs: 3_600_000 },
};
/** Retried for this long, then marked failed (it can still be re-sent). */
export const DELIVERY_GIVE_UP_MS = 24 * 60 * 60_000;
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Deliveries one `runWebhooksOnce` attempts (and waits for). */
const BATCH = 20;
/** Payment events routed per claim; a pass claims again while it gets full claims, up to ROUTE_ROUNDS. */
const ROUTE_CLAIM = 200;
const ROUTE_ROUNDS = 5;
const ROUTE_CONCURRENCY = 8;
/** The worker's deliveries in flight at once in this process, and at most this many of one merchant. */
export const MAX_IN_FLIGHT = 100;
export const MAX_IN_FLIGHT_PER_MERCHANT = 10;

interface EventRow {
  id: unknown;
  owner_id: string;
  subject: 'charge' | 'refund' | 'token';
  subject_id: unknown;
  /** The token's id, for token events. */
  subject_ref: string | null;
  status: string;
}

interface NewDelivery {
  transactionId: unknown;
  tokenId: string | null;
  type: string;
  url: string;
  data: unknown;
}

/** A signal to send: its body is fixed now (POST), its signature at each attempt. */
async function insertDelivery(hub: Hub, row: EventRow, d: NewDelivery): Promise<void> {
  const db = hub.deps.db;
  const merchant = await findMerchant(db, row.owner_id);
  const method = merchant?.webhookMethod === 'POST' ? 'POST' : 'GET';
  const now = hub.deps.clock.now();
  await db('hub_webhook_deliveries')
    .insert({
      owner_id: row.owner_id,
      payment_event_id: row.id,
      transaction_id: d.transactionId,
      token_id: d.tokenId,
      event_type: d.type,
      url: d.url,
      method,
      body: method === 'POST' ? JSON.stringify({ type: d.type, data: d.data }) : '',
      webhook_id: newWebhookId(),
      state: 'pending',
      next_check_at: now,
      give_up_at: new Date(now.getTime() + DELIVERY_GIVE_UP_MS),
      created_at: now,
      updated_at: now,
    })
    .onConflict('payment_event_id')
    .ignore();
}

/** A 3-D Secure token made with a webhook_url moved: `token.<status>`, with the token check's answer. */
async function routeTokenEvent(hub: Hub, row: EventRow): Promise<void> {
  const token = row.subject_ref ? await findToken(hub.deps.db, row.owner_id, row.subject_ref) : undefined;
  if (!token?.webhookUrl) return;
  await insertDelivery(hub, row, { transactionId: null, tokenId: token.id, type: `token.${row.status}`, url: token.webhookUrl, data: tokenStatusView(token) });
}

async function routeEvent(hub: Hub, row: EventRow): Promise<void> {
  // A charge or refund just recorded has not changed anything the merchant sees yet.
  if (row.status === 'created') return;
  if (row.subject === 'token') return routeTokenEvent(hub, row);
  const db = hub.deps.db;
  let chargeId = Number(row.subject_id);
  let type: string;
  if (row.subject === 'refund') {
    const refund = await db('refunds').where({ id: chargeId }).first('charge_id', 'status');
    if (!refund) return;
    chargeId = Number(refund.charge_id);
    type = `refund.${hubRefundStatus(refund.status)}`;
  } else {
    type = 'transaction';
  }
  const tx = await db('hub_transactions').where({ owner_id: row.owner_id, charge_id: chargeId }).first('id', 'merchant_ref_code', 'webhook_url');
  if (!tx?.webhook_url) return;
  const result = await readTransaction(hub, { ownerId: row.owner_id, keyKind: 'secret' }, tx.merchant_ref_code);
  const view = transactionView(result.transaction, result.charge, result.token, { refunds: result.refunds });
  if (type === 'transaction') type = `transaction.${view.Status}`;
  await insertDelivery(hub, row, { transactionId: tx.id, tokenId: null, type, url: tx.webhook_url, data: view });
}

interface DeliveryRow {
  id: unknown;
  owner_id: string;
  url: string;
  method: 'GET' | 'POST';
  body: string;
  webhook_id: string;
  attempts: number;
  give_up_at: Date | string;
}

async function deliver(hub: Hub, row: DeliveryRow): Promise<void> {
  const db = hub.deps.db;
  const merchant = await findMerchant(db, row.owner_id);
  if (!merchant) return;
  const url = new URL(row.url);
  const log = hub.deps.logger.child({ merchantId: row.owner_id, deliveryId: Number(row.id), webhookId: row.webhook_id });
  const now = hub.deps.clock.now();
  const attempt = row.attempts + 1;
  const headers: Record<string, string> = {
    ...signWebhook(hub.box.open(merchant.webhookSecretSealed), row.webhook_id, Math.floor(now.getTime() / 1000), row.body),
    'User-Agent': 'payment-hub-webhooks/1',
    ...(row.method === 'POST' ? { 'Content-Type': 'application/json' } : {}),
  };
  const started = Date.now();
  let status: number | undefined;
  let error: string | undefined;
  try {
    ({ status } = await sendWebhookRequest(hub.webhookTargets, url, {
      method: row.method,
      headers,
      ...(row.method === 'POST' ? { body: row.body } : {}),
      timeoutMs: ATTEMPT_TIMEOUT_MS,
    }));
  } catch (err) {
    if (err instanceof RefusedTarget) {
      await db('hub_webhook_deliveries')
        .where({ id: row.id })
        .update({ state: 'failed', attempts: attempt, last_error: err.message, updated_at: now, next_check_at: null });
      log.warn({ host: url.hostname, err: err.message }, 'merchant webhook refused: not a public address');
      hub.deps.metrics.merchantWebhook('refused');
      return;
    }
    error = err instanceof Error ? err.message : String(err);
  }
  const latency = Date.now() - started;
  const ok = status !== undefined && status >= 200 && status < 300;
  log.info({ attempt, status, latencyMs: latency, err: error }, ok ? 'merchant webhook delivered' : 'merchant webhook attempt failed');
  const base = {
    attempts: attempt,
    last_status: status ?? null,
    last_error: ok ? null : (error ?? `HTTP ${status}`),
    last_latency_ms: latency,
    updated_at: now,
  };
  const givenUp = !ok && now.getTime() >= new Date(row.give_up_at).getTime();
  hub.deps.metrics.merchantWebhook(ok ? 'delivered' : givenUp ? 'given_up' : 'failed_attempt', latency / 1000);
  if (ok) {
    await db('hub_webhook_deliveries')
      .where({ id: row.id })
      .update({ ...base, state: 'delivered', delivered_at: now, next_check_at: null });
    return;
  }
  if (givenUp) {
    await db('hub_webhook_deliveries')
      .where({ id: row.id })
      .update({ ...base, state: 'failed', next_check_at: null });
    log.warn('merchant webhook given up after 24 h; it can be re-sent');
    return;
  }
  await db('hub_webhook_deliveries').where({ id: row.id }).update(base);
  await backOff(db, DELIVERIES, String(row.id), now);
}

export interface WebhookPass {
  routed: number;
  attempted: number;
}

/** Routes due payment events to deliveries, a few at a time, until none is due (or ROUTE_ROUNDS claims). */
async function routeDueEvents(hub: Hub): Promise<number> {
  const db = hub.deps.db;
  let routed = 0;
  for (let round = 0; round < ROUTE_ROUNDS; round++) {
    const now = hub.deps.clock.now();
    const eventIds = await claimDueRows(db, EVENTS, now, ROUTE_CLAIM);
    for (let i = 0; i < eventIds.length; i += ROUTE_CONCURRENCY) {
      await Promise.all(eventIds.slice(i, i + ROUTE_CONCURRENCY).map((id) => routeOne(hub, id, now)));
    }
    routed += eventIds.length;
    if (eventIds.length < ROUTE_CLAIM) break;
  }
  return routed;
}

async function routeOne(hub: Hub, id: string, now: Date): Promise<void> {
  const db = hub.deps.db;
  try {
    const row = await db<EventRow>('payment_events').where({ id }).first();
    if (row) await routeEvent(hub, row);
    await db('payment_events').where({ id }).update({ state: 'routed', next_check_at: null });
  } catch (err) {
    hub.deps.logger.warn({ eventId: id, err: err instanceof Error ? err.message : String(err) }, 'merchant webhook routing failed; retried');
    if (isAppError(err) && err.code === 'stripe_account_unknown') await park(db, EVENTS, id, now, 3_600_000);
    else await backOff(db, EVENTS, id, now);
  }
}

/**
 * Claims up to `limit` due deliveries, at most `perMerchant` of any one merchant and none of the
 * merchants in `skipOwners`, oldest first, with a lease (several instances never take one row).
 */
async function claimDueDeliveries(
  hub: Hub,
  now: Date,
  limit: number,
  perMerchant: number,
  skipOwners: string[],
): Promise<Array<{ id: string; owner: string }>> {
  const leaseUntil = new Date(now.getTime() + DELIVERIES.leaseMs);
  const skip = skipOwners.length > 0 ? `AND owner_id NOT IN (${skipOwners.map(() => '?').join(', ')})` : '';
  const result = await hub.deps.db.raw(
    `UPDATE hub_webhook_deliveries SET next_check_at = ? WHERE id IN (
       SELECT id FROM hub_webhook_deliveries WHERE id IN (
         SELECT id FROM (
           SELECT id, next_check_at, row_number() OVER (PARTITION BY owner_id ORDER BY next_check_at, id) AS nth
           FROM hub_webhook_deliveries WHERE next_check_at <= ? AND state = 'pending' ${skip}
         ) due WHERE nth <= ? ORDER BY next_check_at LIMIT ?)
       FOR UPDATE SKIP LOCKED)
     RETURNING id, owner_id`,
    [leaseUntil, now, ...skipOwners, perMerchant, limit],
  );
  return (result.rows as Array<{ id: unknown; owner_id: string }>).map((r) => ({ id: String(r.id), owner: r.owner_id }));
}

/** One attempt of a claimed delivery; never rejects (what breaks is logged and backed off, or left to the lease). */
async function attempt(hub: Hub, id: string, claimedAt: Date): Promise<void> {
  const db = hub.deps.db;
  try {
    const row = await db<DeliveryRow>('hub_webhook_deliveries').where({ id }).first();
    if (row) await deliver(hub, row);
  } catch (err) {
    hub.deps.logger.error({ deliveryId: id, err: err instanceof Error ? err.message : String(err) }, 'merchant webhook delivery broke; retried');
    await backOff(db, DELIVERIES, id, claimedAt).catch(() => undefined);
  }
}

/** One pass: routes new events to deliveries, then attempts up to BATCH due deliveries in parallel and waits for them. */
export async function runWebhooksOnce(hub: Hub): Promise<WebhookPass> {
  const routed = await routeDueEvents(hub);
  // Read the clock again: deliveries routed just now leave in this same pass.
  const deliverAt = hub.deps.clock.now();
  const claimed = await claimDueDeliveries(hub, deliverAt, BATCH, BATCH, []);
  await Promise.all(claimed.map(({ id }) => attempt(hub, id, deliverAt)));
  return { routed, attempted: claimed.length };
}

export interface WebhookWorker {
  /** Routes what is due and starts the due deliveries there is room for; does not wait for them. */
  tick(): Promise<{ routed: number; started: number }>;
  /** Deliveries started and not finished. */
  inFlight(): number;
  /** Waits for every delivery in flight. */
  drain(): Promise<void>;
}

/**
 * The worker of `npm start`: a delivery runs on its own, so a slow or dead endpoint holds one slot
 * for at most ATTEMPT_TIMEOUT_MS and never the pass: other merchants' deliveries start at the
 * next tick. One merchant holds at most MAX_IN_FLIGHT_PER_MERCHANT slots.
 */
export function createWebhookWorker(hub: Hub, limits = { maxInFlight: MAX_IN_FLIGHT, perMerchant: MAX_IN_FLIGHT_PER_MERCHANT }): WebhookWorker {
  const running = new Set<Promise<void>>();
  const perOwner = new Map<string, number>();
  const track = (owner: string, delta: number) => {
    const n = (perOwner.get(owner) ?? 0) + delta;
    if (n > 0) perOwner.set(owner, n);
    else perOwner.delete(owner);
  };
  return {
    async tick() {
      const routed = await routeDueEvents(hub);
      const room = limits.maxInFlight - running.size;
      if (room <= 0) return { routed, started: 0 };
      const full = [...perOwner].filter(([, n]) => n >= limits.perMerchant).map(([owner]) => owner);
      const claimedAt = hub.deps.clock.now();
      const claimed = await claimDueDeliveries(hub, claimedAt, room, limits.perMerchant, full);
      for (const { id, owner } of claimed) {
        track(owner, 1);
        const job: Promise<void> = attempt(hub, id, claimedAt).finally(() => {
          running.delete(job);
          track(owner, -1);
        });
        running.add(job);
      }
      return { routed, started: claimed.length };
    },
    inFlight: () => running.size,
    drain: async () => {
      await Promise.all([...running]);
    },
  };
}

/** Runs the worker every `intervalMs` (never two ticks at once in this process); stop waits for deliveries in flight. */
export function startHubWebhookWorker(hub: Hub, intervalMs: number): PeriodicHandle {
  const worker = createWebhookWorker(hub);
  const periodic = runPeriodically(() => worker.tick(), intervalMs, hub.deps.logger, 'merchant webhook pass failed');
  return {
    stop: async () => {
      await periodic.stop();
      await worker.drain();
    },
  };
}
