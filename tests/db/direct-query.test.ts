import { countQueries, directRaw, inTransaction, isUniqueViolation, type Db } from '../../app/db';
import { createTestDb, type TestDb } from '../support/test-db';

/** `directRaw` answers what `db.raw` answers, on the same pool and inside the caller's transaction. */
describe('directRaw', () => {
  let testDb: TestDb;
  let db: Db;
  beforeAll(async () => {
    testDb = await createTestDb();
    db = testDb.db;
  });
  afterAll(() => testDb.close());

  const label = (suffix: string) => `direct-query ${suffix} ${Math.random().toString(36).slice(2)}`;

  test('when a statement has values and identifiers, then the rows are those db.raw answers, and it is one round trip', async () => {
    const name = label('a');
    const sql = 'insert into ?? (??, ??) values (?, ?) returning id, label, created_at';
    const counter = countQueries(db);
    const direct = await directRaw(db, sql, ['stripe_accounts', 'label', 'created_at', name, new Date('2026-01-02T03:04:05Z')]);
    expect(counter.roundTrips()).toBe(1);
    counter.stop();
    const viaKnex = await db.raw('select id, label, created_at from ?? where ?? = ?', ['stripe_accounts', 'label', name]);
    expect(direct.rows).toEqual(viaKnex.rows);
    expect(direct.rows).toEqual([{ id: expect.anything(), label: name, created_at: new Date('2026-01-02T03:04:05Z') }]);
    // The same text again (compiled once): still right, with other values.
    const again = await directRaw(db, 'select label from stripe_accounts where label = ? or label = ?', [name, 'nothing']);
    expect(again.rows).toEqual([{ label: name }]);
  });

  test('when it runs inside a transaction, then it sees and rolls back with that transaction', async () => {
    const name = label('trx');
    await expect(
      inTransaction(db, async (trx) => {
        await trx('stripe_accounts').insert({ label: name });
        const seen = await directRaw(trx, 'select count(*)::int as n from stripe_accounts where label = ?', [name]);
        expect(seen.rows).toEqual([{ n: 1 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await directRaw(db, 'select count(*)::int as n from stripe_accounts where label = ?', [name])).rows).toEqual([{ n: 0 }]);
  });

  test('when the server refuses the statement, then its error keeps its code', async () => {
    const name = label('dup');
    await db('stripe_accounts').insert({ stripe_account_id: name, livemode: false, label: name });
    const err = await directRaw(db, 'insert into stripe_accounts (stripe_account_id, livemode, label) values (?, ?, ?)', [name, false, name]).catch(
      (e: unknown) => e,
    );
    expect(isUniqueViolation(err)).toBe(true);
  });

  test('when dates are bound, then the instant is stored to the millisecond, compares equal, and an invalid date is refused as before', async () => {
    const at = new Date('2026-12-07T23:59:58.123Z');
    const stored = await directRaw(db, 'select ?::timestamptz as at, ?::timestamptz = ?::timestamptz as same', [at, at, '2026-12-07T23:59:58.123+00:00']);
    expect(stored.rows).toEqual([{ at, same: true }]);
    // PostgreSQL refuses pg's text for it (22007); PGlite's client refuses to write it.
    await expect(directRaw(db, 'select ?::timestamptz as at', [new Date(Number.NaN)])).rejects.toThrow();
  });

  test('when a binding is undefined or the count is wrong, then nothing is sent and it says so', async () => {
    const counter = countQueries(db);
    await expect(directRaw(db, 'select ? as a', [undefined])).rejects.toThrow(/Undefined binding/);
    await expect(directRaw(db, 'select ? as a, ? as b', [1])).rejects.toThrow(/bindings/);
    // Inside an array knex refuses it too (pg alone would send NULL).
    await expect(directRaw(db, 'select ?::int[] as a', [[1, undefined]])).rejects.toThrow(/Undefined binding/);
    expect(counter.roundTrips()).toBe(0);
    counter.stop();
  });
});
