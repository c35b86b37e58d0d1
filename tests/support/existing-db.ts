import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { migrations } from '../../migrations';
import { createDb } from '../../app/db';
import { adminConnection, quoteIdent, serverUrl, TEMPLATE_ENV, urlForDatabase } from './pg-admin';
import type { TestDb } from './test-db';

/**
 * For tests of what happens to a database made earlier (an upgrade, a restart): a test database
 * with no migration applied, and the service started on a database and an emulator the test
 * already holds. startTestContext makes both itself, so it cannot start on rows of the test's.
 */

/** knex's MigrationSource over the migrations up to and including `last`: a database as an older release left it. */
export function migrationsUpTo(last: string): Knex.MigrationSource<string> {
  const end = migrations.findIndex(([name]) => name === last);
  if (end < 0) throw new Error(`Unknown migration ${last}`);
  const list = migrations.slice(0, end + 1);
  return {
    getMigrations: async () => list.map(([name]) => name),
    // The name knex records in knex_migrations: the same as the full source's, so a later
    // migrateLatest applies only what this one left out.
    getMigrationName: (name) => name,
    getMigration: async (name) => {
      const found = list.find(([n]) => n === name);
      if (!found) throw new Error(`Unknown migration ${name}`);
      return found[1];
    },
  };
}

/**
 * An empty database of the test's own: a fresh in-memory PGlite, or on PostgreSQL a new database
 * (not a copy of the migrated template), named after the run's template so the global teardown
 * drops it if the file crashes.
 */
export async function createUnmigratedTestDb(): Promise<TestDb> {
  const url = serverUrl();
  if (!url) {
    const db = createDb({ pgliteDataDir: 'memory://' });
    return { db, kind: 'pglite', close: () => db.destroy() };
  }
  const template = process.env[TEMPLATE_ENV];
  if (!template) throw new Error('DATABASE_URL is set but the template database is missing (jest globalSetup did not run)');
  const name = `${template}_f_${randomBytes(5).toString('hex')}`;
  const admin = adminConnection(url);
  await admin.raw(`CREATE DATABASE ${quoteIdent(name)}`);
  const db = createDb({ url: urlForDatabase(url, name) });
  return {
    db,
    kind: 'postgres',
    close: async () => {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      await admin.destroy();
    },
  };
}
