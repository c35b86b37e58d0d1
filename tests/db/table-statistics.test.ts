import { analyzeStaleTables, type Db } from '../../app/db';
import { createTestDb, type TestDb } from '../support/test-db';

/**
 * Planner statistics kept by the service (app/db/table-statistics.ts). Without them, on a table
 * where every row has the same owner, PostgreSQL picked an index on one column and filtered every
 * row; with them, the unique index finds the one row.
 */
describe('table statistics', () => {
  let testDb: TestDb;
  let db: Db;
  beforeAll(async () => {
    testDb = await createTestDb();
    db = testDb.db;
    const [account] = (await db('stripe_accounts').insert({ label: 'statistics test' }).returning('id')) as { id: string | number }[];
    // Every BillRun customer has the owner 'billrun' and the same Stripe account: only the ref tells them apart.
    await db.raw(
      `insert into customers (owner_id, stripe_account, external_ref, stripe_customer_id)
       select 'billrun', ?, g::text, 'cus_stat_' || g from generate_series(1, 4000) g`,
      [account.id],
    );
  });
  afterAll(() => testDb.close());

  const lookupPlan = async (): Promise<string> => {
    const { rows } = (await db.raw(
      `explain select stripe_customer_id from customers where owner_id = 'billrun' and stripe_account = (select min(id) from stripe_accounts where label = 'statistics test') and external_ref = '17'`,
    )) as { rows: { 'QUERY PLAN': string }[] };
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  };

  test('when a table has grown since its statistics, then it is analyzed, and the lookup by owner, account and ref uses the unique index', async () => {
    // PostgreSQL's autovacuum may have analyzed it already; PGlite never does.
    const analyzed = await analyzeStaleTables(db);
    const { rows } = (await db.raw(`select reltuples from pg_class where relname = 'customers'`)) as { rows: { reltuples: number }[] };
    expect(Number(rows[0].reltuples)).toBeGreaterThan(3000);
    if (testDb.kind === 'pglite') expect(analyzed).toContain('customers');
    expect(await lookupPlan()).toContain('customers_owner_account_ref_unique');
  });

  test('when statistics are fresh, then nothing is analyzed again', async () => {
    await analyzeStaleTables(db);
    expect(await analyzeStaleTables(db)).not.toContain('customers');
  });

  test('when the current schema has a name that needs quoting, then its grown tables are still found and analyzed', async () => {
    const analyzed = await db.transaction(async (trx) => {
      await trx.raw('create schema "Gateway"');
      await trx.raw('set local search_path to "Gateway"');
      await trx.raw('create table grown (id int)');
      await trx.raw('insert into grown select generate_series(1, 100)');
      return analyzeStaleTables(trx);
    });
    expect(analyzed).toEqual(['grown']);
  });
});
