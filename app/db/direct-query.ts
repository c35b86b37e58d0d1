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

/**
 * What a raw text is made of, read once per text: where its `?` values and `??` identifiers sit,
 * and its pg text for each set of identifiers. Bounded like the prepared statements.
 */
interface Template {
  count: number;
  escaped: boolean;
  valueIndexes: number[];
  identifierIndexes: number[];
  texts: Map<string, string>;
}
const templates = new Map<string, Template>();
const MAX_TEMPLATES = 500;
const MAX_TEXTS_PER_TEMPLATE = 64;

function templateOf(sql: string): Template {
  let template = templates.get(sql);
  if (template) return template;
  const valueIndexes: number[] = [];
  const identifierIndexes: number[] = [];
  let count = 0;
  for (const match of sql.matchAll(/\?\??/g)) {
    (match[0] === '??' ? identifierIndexes : valueIndexes).push(count);
    count += 1;
  }
  template = { count, escaped: sql.includes('\\'), valueIndexes, identifierIndexes, texts: new Map() };
  if (templates.size < MAX_TEMPLATES) templates.set(sql, template);
  return template;
}

function textOf(sql: string, template: Template, identifiers: string[]): string {
  const key = identifiers.join('\u0000');
  let text = template.texts.get(key);
  if (text !== undefined) return text;
  let position = 0;
  let identifier = 0;
  text = sql.replace(/\?\??/g, (match) => {
    if (match === '??') return identifiers[identifier++];
    position += 1;
    return `$${position}`;
  });
  if (template.texts.size < MAX_TEXTS_PER_TEMPLATE) template.texts.set(key, text);
  return text;
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const isKnexQuery = (value: unknown): boolean =>
  typeof value === 'function' || (typeof value === 'object' && value !== null && typeof (value as { toSQL?: unknown }).toSQL === 'function');
/** An undefined anywhere inside a binding (knex refuses those; pg would send NULL). */
const holdsUndefined = (value: unknown): boolean =>
  value === undefined ||
  (Array.isArray(value)
    ? value.some(holdsUndefined)
    : typeof value === 'object' && value !== null && value.constructor === Object && Object.values(value).some(holdsUndefined));

const isPlainIsoDate = (value: unknown): value is Date => value instanceof Date && value.getUTCFullYear() >= 1 && value.getUTCFullYear() <= 9999;

/** The pg text and values, or undefined for what only knex reads right. */
function compile(sql: string, bindings: readonly unknown[]): { text: string; values: unknown[] } | undefined {
  const template = templateOf(sql);
  // knex's own reading (a subquery, an escaped `?`) or its own refusal (an undefined inside a binding).
  if (template.escaped || bindings.some(isKnexQuery) || bindings.some((b) => b !== undefined && holdsUndefined(b))) return undefined;
  if (template.count !== bindings.length) throw new Error(`Expected ${bindings.length} bindings, saw ${template.count}`);
  const identifiers: string[] = [];
  for (const i of template.identifierIndexes) {
    const name = bindings[i];
    if (typeof name !== 'string' || !PLAIN_IDENTIFIER.test(name)) return undefined;
    identifiers.push(`"${name}"`);
  }
  const values = template.valueIndexes.map((i) => {
    const value = bindings[i];
    if (value === undefined) throw new Error(`Undefined binding(s) detected for keys [${i}] when compiling RAW query: ${sql}`);
    // The same instant as pg's own text for a Date (local time with its offset; every column is a
    // timestamptz), without the time-zone lookups that text costs each time. An invalid date, or a
    // year ISO text cannot write as PostgreSQL reads it, is left to pg as before.
    return isPlainIsoDate(value) ? value.toISOString() : value;
  });
  return { text: textOf(sql, template, identifiers), values };
}
