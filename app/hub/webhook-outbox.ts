import { backOff, claimDueRows, park, type DueRows } from '../db';
import { isAppError } from '../shared/app-error';
import { runPeriodically, type PeriodicHandle } from '../shared/periodic';
import type { Hub } from './hub-context';
import { hubRefundStatus, transactionView } from './hub-presenters';
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
const BATCH = 20;

interface EventRow {
  id: unknown;
  owner_id: string;
  subject: 'charge' | 'refund';
  subject_id: unknown;
  status: string;
}

async function routeEvent(hub: Hub, row: EventRow): Promise<void> {
  // A charge or refund just recorded has not changed anything the merchant sees yet.
  if (row.status === 'created') return;
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
  const merchant = await findMerchant(db, row.owner_id);
  const method = merchant?.webhookMethod === 'POST' ? 'POST' : 'GET';
  const now = hub.deps.clock.now();
  await db('hub_webhook_deliveries')
    .insert({
      owner_id: row.owner_id,
      payment_event_id: row.id,
      transaction_id: tx.id,
      event_type: type,
      url: tx.webhook_url,
      method,
      body: method === 'POST' ? JSON.stringify({ type, data: view }) : '',
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

/** One pass: routes new events to deliveries, then attempts every due delivery (in parallel: a dead endpoint waits alone). */
export async function runWebhooksOnce(hub: Hub): Promise<WebhookPass> {
  const db = hub.deps.db;
  const now = hub.deps.clock.now();
  const eventIds = await claimDueRows(db, EVENTS, now, BATCH * 5);
  for (const id of eventIds) {
    const row = await db<EventRow>('payment_events').where({ id }).first();
    try {
      if (row) await routeEvent(hub, row);
      await db('payment_events').where({ id }).update({ state: 'routed', next_check_at: null });
    } catch (err) {
      hub.deps.logger.warn({ eventId: id, err: err instanceof Error ? err.message : String(err) }, 'merchant webhook routing failed; retried');
      if (isAppError(err) && err.code === 'stripe_account_unknown') await park(db, EVENTS, id, now, 3_600_000);
      else await backOff(db, EVENTS, id, now);
    }
  }
  // Read the clock again: deliveries routed just now leave in this same pass.
  const deliverAt = hub.deps.clock.now();
  const deliveryIds = await claimDueRows(db, DELIVERIES, deliverAt, BATCH);
  await Promise.all(
    deliveryIds.map(async (id) => {
      const row = await db<DeliveryRow>('hub_webhook_deliveries').where({ id }).first();
      if (!row) return;
      try {
        await deliver(hub, row);
      } catch (err) {
        hub.deps.logger.error({ deliveryId: id, err: err instanceof Error ? err.message : String(err) }, 'merchant webhook delivery broke; retried');
        await backOff(db, DELIVERIES, id, deliverAt);
      }
    }),
  );
  return { routed: eventIds.length, attempted: deliveryIds.length };
}

/** Runs runWebhooksOnce every `intervalMs`, never two passes at once in this process. */
export function startHubWebhookWorker(hub: Hub, intervalMs: number): PeriodicHandle {
  return runPeriodically(() => runWebhooksOnce(hub), intervalMs, hub.deps.logger, 'merchant webhook pass failed');
}
