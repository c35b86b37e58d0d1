import { parseConfig } from '../../config';
import { createLogger } from '../shared/logger';
import { createDb, migrateLatest, migrateRollbackAll } from './db-connection';

/** `npm run migrate` (latest) or `npm run migrate -- down` (roll everything back). */
async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const logger = createLogger(config.logLevel);
  const db = createDb({ url: config.database.url, pgliteDataDir: config.database.dataDir });
  try {
    if (process.argv[2] === 'down') {
      await migrateRollbackAll(db);
      logger.info('rolled back every migration');
    } else {
      const applied = await migrateLatest(db);
      logger.info({ applied, database: config.database.url ? 'postgres' : `pglite:${config.database.dataDir}` }, 'migrations applied');
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
