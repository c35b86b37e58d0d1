export {
  createDb,
  migrateLatest,
  migrateRollbackAll,
  inTransaction,
  toSafeInt,
  toDate,
  isUniqueViolation,
  isDeadlock,
  pingDatabase,
  dbKind,
  installationId,
} from './db-connection';
export type { Db, DbKind, DbOptions } from './db-connection';
export { claimDueRows, clearFailures, backOff, park, queueDepth } from './due-rows';
export type { DueRows } from './due-rows';
export { countQueries } from './query-counter';
export type { QueryCounter, SentQuery } from './query-counter';
export { analyzeStaleTables, startTableStatistics } from './table-statistics';
export type { TableStatisticsOptions } from './table-statistics';
export { directRaw } from './direct-query';
export { columnList, fromJsonColumn, textPerShape } from './column-list';
