import { createDb, migrateLatest } from '../../app/db';
import { adminConnection, quoteIdent, serverUrl, TEMPLATE_ENV, urlForDatabase } from './pg-admin';

/**
 * On PostgreSQL: one migrated template database per run; each test file copies it
 * (CREATE DATABASE ... TEMPLATE), which is much faster than migrating per file.
 */
export default async function globalSetup(): Promise<void> {
  const url = serverUrl();
  if (!url) return;
  const name = `pgw_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = adminConnection(url);
  try {
    await admin.raw(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await admin.destroy();
  }
  const db = createDb({ url: urlForDatabase(url, name) });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  process.env[TEMPLATE_ENV] = name;
}
