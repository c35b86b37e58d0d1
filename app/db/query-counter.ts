import type { Db } from './db-connection';

/** What knex hands its 'query' listeners (the fields the counter reads). */
interface QueryEvent {
  sql: string;
  __knexTxId?: string;
}

export interface QueryCounter {
  /** Round trips since start (or the last reset): every statement, BEGIN and COMMIT included. */
  roundTrips(): number;
  /** The statements counted, in order, when kept (`keepStatements`); a transaction's are prefixed with knex's id for it. */
  statements(): string[];
  reset(): void;
  stop(): void;
}

/**
 * Counts the database round trips made through `db`, for the round-trip tests and `npm run bench`:
 * knex emits 'query' for each statement it sends, a transaction's BEGIN and COMMIT (or ROLLBACK)
 * included, and each is one round trip to the server.
 */
export function countQueries(db: Db, options: { keepStatements?: boolean } = {}): QueryCounter {
  let count = 0;
  let kept: string[] = [];
  const listener = (event: QueryEvent): void => {
    count += 1;
    if (options.keepStatements) kept.push(event.__knexTxId === undefined ? event.sql : `${event.__knexTxId}: ${event.sql}`);
  };
  db.on('query', listener);
  return {
    roundTrips: () => count,
    statements: () => [...kept],
    reset: () => {
      count = 0;
      kept = [];
    },
    stop: () => void db.off('query', listener),
  };
}
