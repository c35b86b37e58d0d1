export { createDb, migrateLatest, migrateRollbackAll, inTransaction, toSafeInt, dbKind, installationId } from './db-connection';
export type { Db, DbKind, DbOptions } from './db-connection';
