import type { Knex } from 'knex';
import { dbKind, type Db } from './db-connection';

/**
 * `db.raw(sql, bindings)` for the hot statements, on PostgreSQL without knex's runner: the text
 * is compiled once (`?` to `$n`, `??` to a quoted identifier, as knex does) and sent on a
 * connection from knex's own pool, so the pool, its limits, the prepared statements and the
 * round-trip counter are the same. knex's runner and raw builder cost about 40-80 µs of CPU a
 * statement, as much again as `pg` itself (measured with 64 callers on one pool). Inside a
 * transaction, on PGlite, or for what knex would read differently (an escaped `\?`, a binding
 * that is itself a knex query or raw, an identifier that is not a plain name), it is `db.raw` itself. Answers what `db.raw` answers on PostgreSQL: pg's result (`rows`, `rowCount`).
 */
export async function directRaw(db: Db | Knex.Transaction, sql: string, bindings: readonly unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }> {
  const direct = (db as Knex.Transaction).isTransaction !== true && dbKind(db) === 'postgres' ? compile(sql, bindings) : undefined;
  if (!direct) return (await db.raw(sql, bindings as Knex.RawBinding[])) as { rows: unknown[]; rowCount: number | null };
  const { text, values } = direct;
  const client = db.client as PoolClient;
  const connection = await client.acquireConnection();
  try {
    return await new Promise((resolve, reject) => {
      connection.query({ text, values }, (err, result) => (err ? reject(err) : resolve(result as { rows: unknown[]; rowCount: number | null })));
    });
  } finally {
    await client.releaseConnection(connection);
  }
}

interface PgConnection {
  query(config: { text: string; values: unknown[] }, callback: (err: Error | null, result?: unknown) => void): void;
}
interface PoolClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<unknown>;
}

/** Compiled texts by their raw text and identifiers, bounded like the prepared statements. */
const compiled = new Map<string, { text: string; valueIndexes: number[] }>();
const MAX_COMPILED = 500;

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isKnexQuery = (value: unknown): boolean =>
  typeof value === 'function' || (typeof value === 'object' && value !== null && typeof (value as { toSQL?: unknown }).toSQL === 'function');
/** An undefined anywhere inside a binding (knex refuses those; pg would send NULL). */
const holdsUndefined = (value: unknown): boolean =>
  value === undefined ||
  (Array.isArray(value)
    ? value.some(holdsUndefined)
    : typeof value === 'object' && value !== null && value.constructor === Object && Object.values(value).some(holdsUndefined));

/** The pg text and values, or undefined for what only knex reads right. */
function compile(sql: string, bindings: readonly unknown[]): { text: string; values: unknown[] } | undefined {
  // knex's own reading (a subquery, an escaped `?`) or its own refusal (an undefined inside a binding).
  if (sql.includes('\\') || bindings.some(isKnexQuery) || bindings.some((b) => b !== undefined && holdsUndefined(b))) return undefined;
  const identifiers: string[] = [];
  let count = 0;
  for (const match of sql.matchAll(/\?\??/g)) {
    if (match[0] === '??') {
      const name = bindings[count];
      if (typeof name !== 'string' || !PLAIN_IDENTIFIER.test(name)) return undefined;
      identifiers.push(`"${name}"`);
    }
    count += 1;
  }
  if (count !== bindings.length) throw new Error(`Expected ${bindings.length} bindings, saw ${count}`);
  const key = identifiers.length > 0 ? `${sql}\u0000${identifiers.join('\u0000')}` : sql;
  let entry = compiled.get(key);
  if (!entry) {
    let position = 0;
    let identifier = 0;
    let index = -1;
    const valueIndexes: number[] = [];
    const text = sql.replace(/\?\??/g, (match) => {
      index += 1;
      if (match === '??') return identifiers[identifier++];
      valueIndexes.push(index);
      position += 1;
      return `$${position}`;
    });
    entry = { text, valueIndexes };
    if (compiled.size < MAX_COMPILED) compiled.set(key, entry);
  }
  const values = entry.valueIndexes.map((i) => {
    const value = bindings[i];
    if (value === undefined) throw new Error(`Undefined binding(s) detected for keys [${i}] when compiling RAW query: ${sql}`);
    return value;
  });
  return { text: entry.text, values };
}
