import type { Db } from './db-connection';

export interface QueryCounter {
  /** Round trips since start (or the last reset): every statement sent, BEGIN and COMMIT included. */
  roundTrips(): number;
  /** The statements counted, in order, when kept (`keepStatements`). */
  statements(): string[];
  /** The statements counted with the values sent with them, in order, when kept (`keepStatements`). */
  queries(): SentQuery[];
  reset(): void;
  stop(): void;
}

/** A statement as a connection sent it: its text (`$1` placeholders on PostgreSQL) and values. */
export interface SentQuery {
  sql: string;
  values: unknown[];
}

type Listener = (sql: string, values: unknown[]) => void;
type Connection = { query: (...args: unknown[]) => unknown };
interface Pool {
  on(event: 'acquireSuccess', handler: (eventId: number, connection: Connection) => void): void;
}

const listenersOf = new WeakMap<Db, Set<Listener>>();
const counted = new WeakSet<Connection>();

const valuesOf = (args: unknown[]): unknown[] => {
  const fromConfig = (args[0] as { values?: unknown } | null)?.values;
  const values = Array.isArray(fromConfig) ? fromConfig : args[1];
  return Array.isArray(values) ? values : [];
};

const sqlOf = (arg: unknown): string =>
  typeof arg === 'string' ? arg : String((arg as { text?: unknown; sql?: unknown } | null)?.text ?? (arg as { sql?: unknown } | null)?.sql ?? '');

/**
 * Every connection `db` hands out reports what it sends to the listeners of `db`. Counting on the
 * connection, not on knex's 'query' event, also sees what uses a knex connection directly (the
 * Hub's rate limiter on PostgreSQL does).
 */
function listeners(db: Db): Set<Listener> {
  const known = listenersOf.get(db);
  if (known) return known;
  const set = new Set<Listener>();
  listenersOf.set(db, set);
  const pool = (db.client as { pool?: Pool }).pool;
  if (!pool) throw new Error('countQueries: the database has no connection pool');
  pool.on('acquireSuccess', (_eventId, connection) => {
    if (counted.has(connection)) return;
    counted.add(connection);
    const send = connection.query;
    connection.query = function query(this: unknown, ...args: unknown[]) {
      if (set.size > 0) {
        const sql = sqlOf(args[0]);
        const values = valuesOf(args);
        for (const listener of set) listener(sql, values);
      }
      return send.apply(this, args);
    };
  });
  return set;
}

/**
 * Counts the database round trips made through `db`, for the round-trip tests and `npm run bench`:
 * each statement a connection sends is one, a transaction's BEGIN and COMMIT included. (The
 * version check knex makes once on each new connection is not counted.)
 */
export function countQueries(db: Db, options: { keepStatements?: boolean } = {}): QueryCounter {
  let count = 0;
  let kept: SentQuery[] = [];
  const listener: Listener = (sql, values) => {
    count += 1;
    if (options.keepStatements) kept.push({ sql, values });
  };
  const set = listeners(db);
  set.add(listener);
  return {
    roundTrips: () => count,
    statements: () => kept.map((q) => q.sql),
    queries: () => [...kept],
    reset: () => {
      count = 0;
      kept = [];
    },
    stop: () => void set.delete(listener),
  };
}
