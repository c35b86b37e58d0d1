import type { Knex } from 'knex';
import type { Deps } from '../shared/deps';
import { findCharge } from './charge-repository';
import { findHandshake } from './handshake-repository';
import { findRefund } from './refund-repository';
import { syncCharge, syncHandshake, syncRefundRow } from './stripe-sync';

/**
 * How long a claimed row is left to one reconciler before another instance may take it. A batch
 * is at most BATCH rows, each a few Stripe calls, so a pass ends well within the lease.
 */
const LEASE_MS = 10 * 60_000;
const BATCH = 20;

/** After this many failed checks in a row a row is logged as needing an operator (still retried). */
export const CHECK_FAILURES_ALERT = 6;
const BACKOFF_BASE_MS = 5 * 60_000;
const BACKOFF_MAX_MS = 6 * 60 * 60_000;

export interface ReconcileReport {
  handshakes: number;
  charges: number;
  refunds: number;
  failures: number;
}

/**
 * Claims due rows for this instance: moves their next_check_at past a lease in one statement,
 * skipping rows another instance has locked, so several instances never work on one row at once.
 */
async function claimDue(db: Knex, table: string, idColumn: string, unsettled: { column: string; values: string[] }, now: Date, limit: number): Promise<string[]> {
  const leaseUntil = new Date(now.getTime() + LEASE_MS);
  const result = await db.raw(
    `UPDATE ${table} SET next_check_at = ? WHERE ${idColumn} IN (
       SELECT ${idColumn} FROM ${table}
       WHERE next_check_at <= ? AND ${unsettled.column} IN (${unsettled.values.map(() => '?').join(', ')})
       ORDER BY next_check_at LIMIT ? FOR UPDATE SKIP LOCKED)
     RETURNING ${idColumn} AS id`,
    [leaseUntil, now, ...unsettled.values, limit],
  );
  return (result.rows as Array<{ id: unknown }>).map((r) => String(r.id));
}

/**
 * One pass: re-reads from Stripe every card setup, charge and refund that is unsettled and due,
 * through the same apply path as answers and webhooks. Safe to run on several instances.
 */
export async function reconcileOnce(deps: Deps, options: { batchSize?: number } = {}): Promise<ReconcileReport> {
  const limit = options.batchSize ?? BATCH;
  const now = deps.clock.now();
  const report: ReconcileReport = { handshakes: 0, charges: 0, refunds: 0, failures: 0 };
  const attempt = async (table: string, idColumn: string, id: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      await deps.db(table).where(idColumn, id).where('check_failures', '>', 0).update({ check_failures: 0 });
    } catch (err) {
      report.failures++;
      // Back off exponentially so a row Stripe keeps refusing does not cost a call every pass.
      const [row] = await deps.db(table).where(idColumn, id).increment('check_failures', 1).returning('check_failures');
      const failures = Number(row?.check_failures ?? 1);
      const delay = Math.min(BACKOFF_BASE_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
      await deps.db(table).where(idColumn, id).update({ next_check_at: new Date(now.getTime() + delay) });
      const fields = { table, id, failures, retryInS: delay / 1000, err: err instanceof Error ? err.message : String(err) };
      if (failures >= CHECK_FAILURES_ALERT) deps.logger.error(fields, 'reconcile keeps failing for this row: needs an operator');
      else deps.logger.warn(fields, 'reconcile step failed; retried later');
    }
  };

  for (const txId of await claimDue(deps.db, 'handshakes', 'tx_id', { column: 'state', values: ['creating', 'open'] }, now, limit)) {
    report.handshakes++;
    await attempt('handshakes', 'tx_id', txId, async () => {
      const handshake = await findHandshake(deps.db, txId);
      if (handshake) await syncHandshake(deps, handshake);
    });
  }
  for (const id of await claimDue(deps.db, 'charges', 'id', { column: 'status', values: ['created', 'requires_action', 'processing'] }, now, limit)) {
    report.charges++;
    await attempt('charges', 'id', id, async () => {
      const charge = await findCharge(deps.db, Number(id));
      if (charge) await syncCharge(deps, charge);
    });
  }
  for (const id of await claimDue(deps.db, 'refunds', 'id', { column: 'status', values: ['created', 'pending', 'requires_action'] }, now, limit)) {
    report.refunds++;
    await attempt('refunds', 'id', id, async () => {
      const refund = await findRefund(deps.db, Number(id));
      if (refund) await syncRefundRow(deps, refund);
    });
  }
  if (report.handshakes + report.charges + report.refunds > 0) deps.logger.info({ ...report }, 'reconciler pass');
  return report;
}

export interface ReconcilerHandle {
  stop(): Promise<void>;
}

/** Runs reconcileOnce every `intervalMs`, never two passes at once in this process. */
export function startReconciler(deps: Deps, intervalMs: number): ReconcilerHandle {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = reconcileOnce(deps)
      .catch((err: unknown) => deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reconciler pass failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
