import type { Knex } from 'knex';

/**
 * Work queues kept in ordinary tables: a row is due when its `next_check_at` has passed and it is
 * still unsettled. Workers claim due rows with a lease (several instances never take one row at
 * once) and a row whose work keeps failing backs off exponentially. The reconciler uses it for
 * card setups, charges and refunds; any other outbox (merchant webhooks) can too.
 */
export interface DueRows {
  table: string;
  idColumn: string;
  /** Rows are due only while this column holds one of these values. */
  unsettled: { column: string; values: readonly string[] };
  /** How long a claimed row is left to its worker before another may take it. */
  leaseMs: number;
  /** The first retry after a failure; doubled on each further failure up to maxMs. */
  backoff: { baseMs: number; maxMs: number };
}

/**
 * Claims up to `limit` due rows: moves their next_check_at past the lease in one statement,
 * skipping rows another instance has locked. Returns their ids.
 */
export async function claimDueRows(db: Knex, queue: DueRows, now: Date, limit: number): Promise<string[]> {
  const { table, idColumn, unsettled } = queue;
  const leaseUntil = new Date(now.getTime() + queue.leaseMs);
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

/** The work on a row succeeded: its failure count starts again. */
export async function clearFailures(db: Knex, queue: DueRows, id: string): Promise<void> {
  await db(queue.table).where(queue.idColumn, id).where('check_failures', '>', 0).update({ check_failures: 0 });
}

/** The work on a row failed: counts it and moves the row's next look out by the backoff. */
export async function backOff(db: Knex, queue: DueRows, id: string, now: Date): Promise<{ failures: number; delayMs: number }> {
  const [row] = await db(queue.table).where(queue.idColumn, id).increment('check_failures', 1).returning('check_failures');
  const failures = Number(row?.check_failures ?? 1);
  const delayMs = Math.min(queue.backoff.baseMs * 2 ** (failures - 1), queue.backoff.maxMs);
  await db(queue.table)
    .where(queue.idColumn, id)
    .update({ next_check_at: new Date(now.getTime() + delayMs) });
  return { failures, delayMs };
}

/** The work on a row cannot be done for now (what it needs is missing): look again after `delayMs`, no failure counted. */
export async function park(db: Knex, queue: DueRows, id: string, now: Date, delayMs: number): Promise<void> {
  await db(queue.table)
    .where(queue.idColumn, id)
    .update({ next_check_at: new Date(now.getTime() + delayMs) });
}

/**
 * How a queue stands: rows due now, rows whose last work failed, and rows that failed at least
 * `alertFailures` times. Only scheduled rows count (a settled row has no next_check_at), so the
 * next_check_at index bounds the scan to the queue itself.
 */
export async function queueDepth(db: Knex, queue: DueRows, now: Date, alertFailures: number): Promise<{ due: number; failing: number; needOperator: number }> {
  const { table, unsettled } = queue;
  const result = await db.raw(
    `SELECT count(*) FILTER (WHERE next_check_at <= ?) AS due,
            count(*) FILTER (WHERE check_failures > 0) AS failing,
            count(*) FILTER (WHERE check_failures >= ?) AS need_operator
     FROM ${table}
     WHERE next_check_at IS NOT NULL AND ${unsettled.column} IN (${unsettled.values.map(() => '?').join(', ')})`,
    [now, alertFailures, ...unsettled.values],
  );
  const row = (result.rows as Array<Record<string, unknown>>)[0] ?? {};
  return { due: Number(row.due ?? 0), failing: Number(row.failing ?? 0), needOperator: Number(row.need_operator ?? 0) };
}
