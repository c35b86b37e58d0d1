import type { Logger } from '../shared/logger';
import { runPeriodically, type PeriodicHandle } from '../shared/periodic';
import type { Db } from './db-connection';

/**
 * The service's tables whose planner statistics are missing or stale: never analyzed
 * (`reltuples` < 0), or grown by more than a fifth (and 8 pages) since. Without statistics the
 * planner cannot tell a unique index from one on `owner_id` (one value for all BillRun rows) and
 * walks every row of the owner: measured at 1-3 ms a statement at 4,000 rows, 50 times the planned
 * cost. PostgreSQL's autovacuum analyzes within a minute of the first rows; the embedded PGlite
 * runs no autovacuum at all, so there the service does it (startTableStatistics).
 */
const STALE_TABLES = `select c.relname as name from pg_class c
where c.relkind = 'r' and c.relnamespace = (select n.oid from pg_namespace n where n.nspname = current_schema())
  and (c.reltuples < 0 or pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.2 + 8)
order by c.relname`;

/** Analyzes the tables with missing or stale statistics; answers their names. */
export async function analyzeStaleTables(db: Db): Promise<string[]> {
  const { rows } = (await db.raw(STALE_TABLES)) as { rows: { name: string }[] };
  const names = rows.map((r) => r.name);
  // A table another session holds locked (a migration, say) is left for the next pass: nothing waits on it.
  if (names.length > 0) await db.raw(`analyze (skip_locked) ${names.map(() => '??').join(', ')}`, names);
  return names;
}

/** Dead rows back to free space (PGlite has no autovacuum to do it); answers nothing. */
export async function vacuumTables(db: Db): Promise<void> {
  await db.raw('vacuum');
}

export interface TableStatisticsOptions {
  /** How often stale statistics are looked for (a catalog query; ANALYZE only where needed). */
  intervalMs: number;
  /** VACUUM every this many passes; 0 never (PostgreSQL's autovacuum does it). */
  vacuumEvery: number;
  logger: Logger;
}

/**
 * Keeps the planner's statistics true while the service runs: at start and every `intervalMs`,
 * ANALYZE where tables grew; on the embedded PGlite also VACUUM now and then. On PostgreSQL this
 * mostly finds nothing (autovacuum got there first) and covers a fresh database's first minute.
 */
export function startTableStatistics(db: Db, options: TableStatisticsOptions): PeriodicHandle {
  let passes = 0;
  const pass = async (): Promise<void> => {
    const analyzed = await analyzeStaleTables(db);
    if (analyzed.length > 0) options.logger.debug({ tables: analyzed }, 'table statistics refreshed');
    passes += 1;
    if (options.vacuumEvery > 0 && passes % options.vacuumEvery === 0) await vacuumTables(db);
  };
  return runPeriodically(pass, options.intervalMs, options.logger, 'table statistics pass failed', { immediately: true });
}
