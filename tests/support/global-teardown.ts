import { adminConnection, quoteIdent, serverUrl, TEMPLATE_ENV } from './pg-admin';

export default async function globalTeardown(): Promise<void> {
  const url = serverUrl();
  const template = process.env[TEMPLATE_ENV];
  if (!url || !template) return;
  const admin = adminConnection(url);
  try {
    const leftovers = await admin.raw(`SELECT datname FROM pg_database WHERE datname LIKE ?`, [`${template}_f_%`]);
    for (const { datname } of leftovers.rows as Array<{ datname: string }>) await admin.raw(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    await admin.raw(`DROP DATABASE IF EXISTS ${quoteIdent(template)}`);
  } finally {
    await admin.destroy();
  }
}
