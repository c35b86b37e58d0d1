import { createHash } from 'node:crypto';
import { createDb, type Db } from '../../app/db';
import { createTestDb, type TestDb } from '../support/test-db';

/** Named prepared statements on PostgreSQL connections (app/db/db-connection.ts). */

const onPostgres = Boolean(process.env.DATABASE_URL);
if (!onPostgres) console.log('prepared-statements.test.ts: skipped on PGlite (prepared statements are named on PostgreSQL connections only)');
const describeOnPostgres = onPostgres ? describe : describe.skip;

describeOnPostgres('prepared statements (PostgreSQL only)', () => {
  let testDb: TestDb;
  let db: Db;
  beforeAll(async () => {
    testDb = await createTestDb();
    db = createDb({ url: testDb.url, poolMax: 1 });
  });
  afterAll(async () => {
    await db.destroy();
    await testDb.close();
  });

  const query = () => db('stripe_accounts').where('id', '>', 0).count({ n: '*' });

  test('when a statement with parameters is sent, then it is prepared under a name made from a hash of its text', async () => {
    const text = query().toSQL().toNative().sql;
    await query();
    const names = (await db.raw('select name, statement from pg_prepared_statements')).rows as Array<{ name: string; statement: string }>;
    expect(names).toContainEqual({ name: `pgw_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`, statement: text });
  });

  test('when the server lost the statement, then outside a transaction it is sent again unnamed; inside one the real error surfaces', async () => {
    await query();
    await db.raw('DEALLOCATE ALL');
    expect(await query()).toEqual([{ n: expect.anything() }]);

    const other = () => db('customers').where('id', '>', 0).count({ n: '*' });
    await other();
    await db.raw('DEALLOCATE ALL');
    const failed = await db
      .transaction(async (trx) => {
        await trx('customers').where('id', '>', 0).count({ n: '*' });
      })
      .then(
        () => undefined,
        (err: { code?: string }) => err.code,
      );
    expect(failed).toBe('26000');
    // The connection no longer names that text: it works again, unnamed.
    expect(await other()).toEqual([{ n: expect.anything() }]);
  });
});
