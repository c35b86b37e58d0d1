import { adminConnection, quoteIdent, serverUrl, TEMPLATE_ENV } from './pg-admin';

export default async function globalTeardown(): Promise<void> {
  const url = serverUrl();
  const template = process.env[TEMPLATE_ENV];
  if (!url || !template) return;
  const admin = adminConnection(url);
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${quoteIdent(template)}`);
  } finally {
    await admin.destroy();
  }
}
