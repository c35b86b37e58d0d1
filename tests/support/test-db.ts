import { randomBytes } from 'node:crypto';
import { createDb, migrateLatest, type Db, type DbOptions } from '../../app/db';
import { adminConnection, quoteIdent, serverUrl, TEMPLATE_ENV, urlForDatabase } from './pg-admin';

export interface TestDb {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** The database's URL on PostgreSQL (another process may connect to it). */
  url?: string;
  close(): Promise<void>;
}

/**
 * A database of the test file's own: a copy of the migrated template on PostgreSQL, or a fresh
 * in-memory PGlite (about 3 s to initialise, so one per file, not per test). `migrated: false`
 * gives an empty one (no migration applied), for tests of what an upgrade does to older rows.
 */
export async function createTestDb(logger?: DbOptions['logger'], options: { migrated?: boolean } = {}): Promise<TestDb> {
  const migrated = options.migrated ?? true;
  const url = serverUrl();
  if (!url) {
    const db = createDb({ pgliteDataDir: 'memory://', logger });
    if (migrated) await migrateLatest(db);
    return { db, kind: 'pglite', close: () => db.destroy() };
  }
  const template = process.env[TEMPLATE_ENV];
  if (!template) throw new Error('DATABASE_URL is set but the template database is missing (jest globalSetup did not run)');
  // Named after the run's template so the global teardown can drop whatever a crashed file left.
  const name = `${template}_f_${randomBytes(5).toString('hex')}`;
  const admin = adminConnection(url);
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.raw(`CREATE DATABASE ${quoteIdent(name)}${migrated ? ` TEMPLATE ${quoteIdent(template)}` : ''}`);
      break;
    } catch (err) {
      // Two files copying the template at the same moment: PostgreSQL lets one through at a time.
      if (attempt > 20 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const db = createDb({ url: urlForDatabase(url, name), logger });
  return {
    db,
    kind: 'postgres',
    url: urlForDatabase(url, name),
    close: async () => {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      await admin.destroy();
    },
  };
}
