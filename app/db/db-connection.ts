import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { migrationSource } from '../../migrations';

export type Db = Knex;

export interface DbOptions {
  /** PostgreSQL through `pg` when set. */
  url?: string;
  /** Embedded PGlite: a folder for its files, or 'memory://' for a throw-away database. */
  pgliteDataDir?: string;
  /** PostgreSQL connections at most (default 10). */
  poolMax?: number;
  /** Where knex's own warnings go (it writes to the console otherwise). */
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

function knexLog(logger: DbOptions['logger']): Knex.Config['log'] {
  if (!logger) return undefined;
  return {
    warn: (message: unknown) => logger.warn({ component: 'knex', detail: String(message) }, 'database warning'),
    error: (message: unknown) => logger.warn({ component: 'knex', detail: String(message) }, 'database error'),
    deprecate: (method: string, alternative: string) => logger.debug({ component: 'knex', method, alternative }, 'knex deprecation'),
    debug: (message: unknown) => logger.debug({ component: 'knex', detail: String(message) }, 'database debug'),
  };
}

type QueryCallback = (err: Error | null, result?: unknown) => void;
interface PgConnection {
  query: (...args: unknown[]) => unknown;
}
interface QueryConfig {
  text: string;
  values: unknown[];
  name?: string;
}

/**
 * Statement texts given a name, process-wide. A name is a hash of its text, so it means the same
 * statement in every process (two instances behind one pooler never give one name to two texts).
 * Bounded, so texts that vary cannot grow it (or the server's plans per connection) without end.
 */
const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 500;

function statementName(text: string): string | undefined {
  const known = statementNames.get(text);
  if (known !== undefined || statementNames.size >= MAX_NAMED_STATEMENTS) return known;
  const name = `pgw_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  statementNames.set(text, name);
  return name;
}

/**
 * A server that does not hold the statement as this connection expects: lost after a schema change
 * (26000, 0A000 "cached plan") or, behind a pooler in transaction mode, another session's (42P05).
 */
const isStalePreparedStatement = (err: unknown): boolean => {
  const code = (err as { code?: string } | null)?.code;
  return code === '26000' || code === '42P05' || (code === '0A000' && /cached plan/i.test((err as Error).message));
};

const textOf = (config: unknown): string =>
  typeof config === 'string' ? config : typeof config === 'object' && config !== null ? String((config as { text?: unknown }).text ?? '') : '';

/**
 * Knex's statements with parameters become named prepared statements on each `pg` connection:
 * the server parses and plans each text once per connection, not on every request. A statement
 * the server lost is sent again unnamed, and that connection stops naming it. Inside a
 * transaction the failed statement has aborted it, so the error goes up as it is (the caller's
 * transaction fails and is retried or answered as any failed statement) and the connection stops
 * naming that text. Behind PgBouncer use session pooling, or 1.21+ with max_prepared_statements.
 */
function usePreparedStatements(connection: PgConnection): void {
  const send = connection.query;
  const unnamed = new Set<string>();
  let inTransaction = false;
  connection.query = function query(this: unknown, ...args: unknown[]) {
    const text = textOf(args[0]);
    if (/^\s*(BEGIN|START TRANSACTION)\b/i.test(text)) inTransaction = true;
    else if (/^\s*(COMMIT|END|ROLLBACK)\s*;?\s*$/i.test(text)) inTransaction = false;
    const [config, callback] = args as [QueryConfig | undefined, QueryCallback | undefined];
    if (args.length !== 2 || !isParameterized(config) || typeof callback !== 'function' || unnamed.has(config.text)) return send.apply(this, args);
    const name = statementName(config.text);
    if (name === undefined) return send.apply(this, args);
    const sentInTransaction = inTransaction;
    return send.call(this, { ...config, name }, (err: Error | null, result?: unknown) => {
      if (!err || !isStalePreparedStatement(err)) return callback(err, result);
      unnamed.add(config.text);
      if (sentInTransaction) return callback(err);
      send.call(this, config, callback);
    });
  };
}

/** A statement knex sends with parameters (and no name of its own). */
const isParameterized = (config: QueryConfig | undefined): config is QueryConfig =>
  typeof config === 'object' &&
  config !== null &&
  typeof config.text === 'string' &&
  config.name === undefined &&
  Array.isArray(config.values) &&
  config.values.length > 0;

/** 'postgres' (a server) or 'pglite' (embedded): some tests can only run on a server. */
export type DbKind = 'postgres' | 'pglite';

export const dbKind = (db: Db): DbKind => ((db.client.config as Knex.Config).client === 'pg' ? 'postgres' : 'pglite');

/**
 * One knex for the whole process. With no DATABASE_URL the embedded PGlite (real PostgreSQL
 * compiled to WebAssembly) keeps `npm start` dependency-free; knex-pglite forces one connection.
 */
export function createDb(options: DbOptions): Db {
  if (options.url) {
    return knex({
      client: 'pg',
      connection: options.url,
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        afterCreate: (connection: PgConnection, done: (err: Error | null, connection: PgConnection) => void) => {
          usePreparedStatements(connection);
          done(null, connection);
        },
      },
      acquireConnectionTimeout: 10000,
      log: knexLog(options.logger),
    });
  }
  const dataDir = options.pgliteDataDir ?? 'memory://';
  if (!dataDir.startsWith('memory://')) mkdirSync(path.resolve(dataDir), { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ClientPGlite = require('knex-pglite') as typeof knex.Client;
  return knex({
    client: ClientPGlite,
    connection: { filename: dataDir.startsWith('memory://') ? dataDir : path.resolve(dataDir) } as Knex.StaticConnectionConfig,
    log: knexLog(options.logger),
  });
}

/** Brings the schema to the latest migration; returns the names it applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function migrateRollbackAll(db: Db): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}

/** This database's random id (made by a migration): scopes Stripe idempotency keys to it. */
export async function installationId(db: Db): Promise<string> {
  const row = await db('installation').first('id');
  if (!row) throw new Error('installation id missing: run the migrations');
  return row.id as string;
}

/**
 * Runs `fn` in a transaction, or inside the caller's when one is passed, so services can compose
 * repository calls without caring who opened it.
 */
export async function inTransaction<T>(db: Db | Knex.Transaction, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return fn(db);
  return db.transaction(fn);
}

const isTransaction = (db: Db | Knex.Transaction): db is Knex.Transaction => (db as Knex.Transaction).isTransaction === true;

/** Postgres' unique_violation: the constraint, not care, said no. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: string }).code === '23505';

/** Postgres' deadlock_detected: one of two transactions waiting on each other was rolled back. */
export const isDeadlock = (err: unknown): boolean => (err as { code?: string }).code === '40P01';

/** timestamptz arrives as a Date from `pg` and PGlite, but as a string through some raw queries. */
export const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

/** A trivial query, for readiness checks. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.raw('select 1');
}

/** int8 arrives as a string from `pg` and as a number or bigint from PGlite. */
export function toSafeInt(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : (value as number);
  if (!Number.isSafeInteger(n)) throw new Error(`Not a safe integer from the database: ${String(value)}`);
  return n;
}
