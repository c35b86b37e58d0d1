import { backOff, claimDueRows, clearFailures, park, queueDepth, type DueRows } from '../db';
import { isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { runPeriodically, type PeriodicHandle } from '../shared/periodic';
import { findCharge } from './charge-repository';
import { findCardSetup } from './card-setup-repository';
import { findRefund } from './refund-repository';
import { syncCardSetup, syncCharge, syncRefundRow } from './stripe-sync';

/**
 * How long a claimed row is left to one reconciler before another instance may take it. A batch
 * is at most BATCH rows, each a few Stripe calls, so a pass ends well within the lease.
 */
const LEASE_MS = 10 * 60_000;
const BATCH = 20;

/** After this many failed checks in a row a row is logged as needing an operator (still retried). */
export const CHECK_FAILURES_ALERT = 6;
/** A row Stripe keeps refusing costs a call every 5 min, then 10, 20, ... at most every 6 h. */
const BACKOFF = { baseMs: 5 * 60_000, maxMs: 6 * 60 * 60_000 };
/**
 * A row of a Stripe account the service has no key for (a key swapped, an old account) cannot be
 * read: it is looked at daily (a key may come back) without counting as a failure, and the pass
 * logs one line per such account rather than an alert per row.
 */
export const PARKED_RECHECK_MS = 24 * 60 * 60_000;

const queue = (table: string, idColumn: string, column: string, values: string[]): DueRows => ({
  table,
  idColumn,
  unsettled: { column, values },
  leaseMs: LEASE_MS,
  backoff: BACKOFF,
});

const CARD_SETUPS = queue('card_setups', 'id', 'state', ['creating', 'open']);
const CHARGES = queue('charges', 'id', 'status', ['created', 'requires_action', 'processing']);
const REFUNDS = queue('refunds', 'id', 'status', ['created', 'pending', 'requires_action']);

export type RecheckTable = 'card_setups' | 'charges' | 'refunds';

/** The reconciler's look at one row: read from Stripe and applied; false when there is no such row. */
const CHECKS: Record<RecheckTable, (deps: Deps, id: string) => Promise<boolean>> = {
  card_setups: async (deps, id) => {
    const setup = await findCardSetup(deps.db, Number(id));
    if (setup) await syncCardSetup(deps, setup);
    return setup !== undefined;
  },
  charges: async (deps, id) => {
    const charge = await findCharge(deps.db, Number(id));
    if (charge) await syncCharge(deps, charge);
    return charge !== undefined;
  },
  refunds: async (deps, id) => {
    const refund = await findRefund(deps.db, Number(id));
    if (refund) await syncRefundRow(deps, refund);
    return refund !== undefined;
  },
};
const QUEUES: Record<RecheckTable, DueRows> = { card_setups: CARD_SETUPS, charges: CHARGES, refunds: REFUNDS };

/**
 * An operator's "re-check now": the row looked at exactly as a reconciler pass would, due or not
 * (settled rows too). A success clears its failure count; a failure is thrown to the operator and
 * leaves the row's schedule to the reconciler. False when there is no such row.
 */
export async function recheckRow(deps: Deps, table: RecheckTable, id: number): Promise<boolean> {
  const found = await CHECKS[table](deps, String(id));
  if (found) await clearFailures(deps.db, QUEUES[table], String(id));
  return found;
}

export interface ReconcileReport {
  cardSetups: number;
  charges: number;
  refunds: number;
  failures: number;
  /** Rows of a Stripe account without a key here, put off for a day. */
  parked: number;
}

/**
 * One pass: re-reads from Stripe every card setup, charge and refund that is unsettled and due,
 * through the same apply path as answers and webhooks. Safe to run on several instances.
 */
export async function reconcileOnce(deps: Deps, options: { batchSize?: number } = {}): Promise<ReconcileReport> {
  const limit = options.batchSize ?? BATCH;
  const now = deps.clock.now();
  const report: ReconcileReport = { cardSetups: 0, charges: 0, refunds: 0, failures: 0, parked: 0 };
  const parkedByAccount = new Map<string, number>();
  // Measured before claiming: the backlog this pass meets, for the metrics.
  for (const rows of [CARD_SETUPS, CHARGES, REFUNDS]) deps.metrics.reconciler.queue(rows.table, await queueDepth(deps.db, rows, now, CHECK_FAILURES_ALERT));
  const claim = async (rows: DueRows) => {
    const ids = await claimDueRows(deps.db, rows, now, limit);
    deps.metrics.reconciler.claimed(rows.table, ids.length);
    return ids;
  };
  const attempt = async (rows: DueRows, id: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      await clearFailures(deps.db, rows, id);
    } catch (err) {
      if (isAppError(err) && err.code === 'stripe_account_unknown') {
        report.parked++;
        deps.metrics.reconciler.parked(rows.table);
        const account = String(err.details?.accountId);
        parkedByAccount.set(account, (parkedByAccount.get(account) ?? 0) + 1);
        await park(deps.db, rows, id, now, PARKED_RECHECK_MS);
        return;
      }
      report.failures++;
      deps.metrics.reconciler.checkFailed(rows.table);
      const { failures, delayMs } = await backOff(deps.db, rows, id, now);
      const fields = { table: rows.table, id, failures, retryInS: delayMs / 1000, err: err instanceof Error ? err.message : String(err) };
      if (failures >= CHECK_FAILURES_ALERT) deps.logger.error(fields, 'reconcile keeps failing for this row: needs an operator');
      else deps.logger.warn(fields, 'reconcile step failed; retried later');
    }
  };

  for (const id of await claim(CARD_SETUPS)) {
    report.cardSetups++;
    await attempt(CARD_SETUPS, id, () => CHECKS.card_setups(deps, id));
  }
  for (const id of await claim(CHARGES)) {
    report.charges++;
    await attempt(CHARGES, id, () => CHECKS.charges(deps, id));
  }
  for (const id of await claim(REFUNDS)) {
    report.refunds++;
    await attempt(REFUNDS, id, () => CHECKS.refunds(deps, id));
  }
  for (const [stripeAccount, rows] of parkedByAccount) {
    deps.logger.warn({ stripeAccount, rows, retryInS: PARKED_RECHECK_MS / 1000 }, 'rows of a Stripe account without a key here: looked at again daily');
  }
  if (report.cardSetups + report.charges + report.refunds > 0) deps.logger.info({ ...report }, 'reconciler pass');
  deps.metrics.reconciler.passFinished(deps.clock.now());
  return report;
}

export type ReconcilerHandle = PeriodicHandle;

/** Runs reconcileOnce every `intervalMs`, never two passes at once in this process. */
export function startReconciler(deps: Deps, intervalMs: number): ReconcilerHandle {
  return runPeriodically(() => reconcileOnce(deps), intervalMs, deps.logger, 'reconciler pass failed');
}
