import knex, { type Knex } from 'knex';

/** Tests run on PostgreSQL when DATABASE_URL is set (CI does both), else on embedded PGlite. */
export const serverUrl = (): string | undefined => process.env.DATABASE_URL || undefined;

export const TEMPLATE_ENV = 'PGW_TEST_TEMPLATE_DB';

export function adminConnection(url: string): Knex {
  return knex({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
}

/** The same server URL pointing at another database. */
export function urlForDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export const quoteIdent = (name: string): string => {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  return `"${name}"`;
};
