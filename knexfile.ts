import type { Knex } from 'knex';
import { parseConfig } from './config';
import { migrationSource } from './migrations';

// For the knex CLI, should someone prefer it to `npm run migrate`; the service itself uses
// app/db/db-connection.ts and migrates at start-up.
const config = parseConfig(process.env);

const knexConfig: Knex.Config = config.database.url
  ? { client: 'pg', connection: config.database.url, migrations: { migrationSource } }
  : {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      client: require('knex-pglite'),
      connection: { filename: config.database.dataDir } as Knex.StaticConnectionConfig,
      migrations: { migrationSource },
    };

export default knexConfig;
