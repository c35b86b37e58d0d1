import { migrateLatest, migrateRollbackAll } from '../../app/db';
import { createTestDb, type TestDb } from '../support/test-db';

let testDb: TestDb;
beforeAll(async () => {
  testDb = await createTestDb();
});
afterAll(async () => {
  await testDb.close();
});

const tables = async (): Promise<string[]> => {
  const res = await testDb.db.raw(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name NOT LIKE 'knex_%' ORDER BY table_name`,
  );
  return res.rows.map((r: { table_name: string }) => r.table_name);
};

const ALL_TABLES = ['cards', 'charges', 'customers', 'handshakes', 'installation', 'owners', 'refunds', 'sessions', 'stripe_accounts', 'stripe_events'];

describe('migrations', () => {
  test('when rolled all the way down and up again, then the schema comes back whole', async () => {
    expect(await tables()).toEqual(ALL_TABLES);
    await migrateRollbackAll(testDb.db);
    expect(await tables()).toEqual([]);
    await migrateLatest(testDb.db);
    expect(await tables()).toEqual(ALL_TABLES);
  });

  test('when a second active card is inserted for an account, then the database refuses it', async () => {
    const db = testDb.db;
    const customer = { owner_id: 'billrun', stripe_account: 1, customer_ref: '1' };
    await db('customers').insert({ owner_id: 'billrun', stripe_account: 1, external_ref: '1', stripe_customer_id: 'cus_a' });
    const card = {
      ...customer,
      gateway_name: 'StripeCheckout',
      instance_name: 'StripeCheckout',
      customer_id: 'cus_a',
      four_digits: '4242',
      exp_month: 12,
      exp_year: 2030,
      card_expiration: '122030',
      active: true,
    };
    await db('cards').insert({ ...card, payment_method_id: 'pm_1' });
    await expect(db('cards').insert({ ...card, payment_method_id: 'pm_2' })).rejects.toThrow(/cards_one_active_per_customer/);
    await expect(db('cards').insert({ ...card, payment_method_id: 'pm_1', active: false })).rejects.toThrow(/payment_method_id/);
  });

  test('when a txId is not 19 digits, then the database refuses the handshake', async () => {
    await testDb.db('customers').insert({ owner_id: 'billrun', stripe_account: 1, external_ref: '2', stripe_customer_id: 'cus_b' });
    await expect(
      testDb.db('handshakes').insert({
        tx_id: '12345',
        owner_id: 'billrun',
        stripe_account: 1,
        customer_ref: '2',
        instance_name: 'StripeCheckout',
        flow: 'iframe',
        request_t: '1',
        customer_id: 'cus_b',
        return_url: 'https://x',
      }),
    ).rejects.toThrow(/handshakes_tx_id_format/);
  });

  test('when rows of another owner exist, then going down below owners is refused rather than deleting them', async () => {
    await testDb.db('owners').insert({ id: 'mer_keep', kind: 'merchant', name: 'keep' });
    await testDb.db('customers').insert({ owner_id: 'mer_keep', stripe_account: 1, external_ref: 'c1', stripe_customer_id: 'cus_keep' });
    await expect(migrateRollbackAll(testDb.db)).rejects.toThrow(/customers holds rows of other owners/);
    expect(await testDb.db('customers').where({ owner_id: 'mer_keep' })).toHaveLength(1);
  });
});
