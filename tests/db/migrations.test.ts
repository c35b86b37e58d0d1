import { migrateLatest, migrateRollbackAll } from '../../app/db';
import { migrationSource } from '../../migrations';
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

const ALL_TABLES = [
  'card_setups',
  'cards',
  'charges',
  'console_actions',
  'console_operators',
  'customers',
  'handshakes',
  'hub_api_keys',
  'hub_merchants',
  'hub_rate_limits',
  'hub_tokens',
  'hub_transactions',
  'hub_vendors',
  'hub_webhook_deliveries',
  'installation',
  'owners',
  'payment_events',
  'refunds',
  'sessions',
  'stripe_accounts',
  'stripe_events',
];

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
      customer_id: 'cus_a',
      four_digits: '4242',
      exp_month: 12,
      exp_year: 2030,
      active: true,
    };
    await db('cards').insert({ ...card, payment_method_id: 'pm_1' });
    await expect(db('cards').insert({ ...card, payment_method_id: 'pm_2' })).rejects.toThrow(/cards_one_active_per_customer/);
    await expect(db('cards').insert({ ...card, payment_method_id: 'pm_1', active: false })).rejects.toThrow(/payment_method_id/);
  });

  test('when a txId is not 19 digits, then the database refuses the handshake', async () => {
    await testDb.db('customers').insert({ owner_id: 'billrun', stripe_account: 1, external_ref: '2', stripe_customer_id: 'cus_b' });
    const [setup] = await testDb.db('card_setups').insert({ owner_id: 'billrun', stripe_account: 1, customer_ref: '2', customer_id: 'cus_b' }).returning('id');
    await expect(
      testDb.db('handshakes').insert({
        tx_id: '12345',
        card_setup_id: setup.id,
        instance_name: 'StripeCheckout',
        flow: 'iframe',
        request_t: '1',
        return_url: 'https://x',
      }),
    ).rejects.toThrow(/handshakes_tx_id_format/);
    await testDb.db('card_setups').where({ id: setup.id }).delete();
  });

  test('when the card-setup split is rolled back with rows and applied again, then every handshake, its state and its card come back', async () => {
    const db = testDb.db;
    await db('customers').insert({ owner_id: 'billrun', stripe_account: 1, external_ref: '3', stripe_customer_id: 'cus_c' });
    const [setup] = await db('card_setups')
      .insert({
        owner_id: 'billrun',
        stripe_account: 1,
        customer_ref: '3',
        customer_id: 'cus_c',
        state: 'completed',
        checkout_session_id: 'cs_c',
        payment_method_id: 'pm_c',
      })
      .returning('id');
    const txId = '1234567890123456789';
    await db('handshakes').insert({
      tx_id: txId,
      card_setup_id: setup.id,
      instance_name: 'StripeCheckout#eu',
      flow: 'iframe',
      request_t: '1',
      return_url: 'https://x',
    });
    await db('cards').insert({
      owner_id: 'billrun',
      stripe_account: 1,
      customer_ref: '3',
      customer_id: 'cus_c',
      payment_method_id: 'pm_c',
      card_setup_id: setup.id,
      four_digits: '4242',
      exp_month: 4,
      exp_year: 2030,
      active: true,
    });

    await db.migrate.down({ migrationSource, name: '20261203000013_card_setups' });
    expect(await db('handshakes').where({ tx_id: txId }).first()).toMatchObject({
      state: 'completed',
      checkout_session_id: 'cs_c',
      customer_ref: '3',
      payment_method_id: 'pm_c',
    });
    expect(await db('cards').where({ payment_method_id: 'pm_c' }).first()).toMatchObject({
      handshake_tx_id: txId,
      instance_name: 'StripeCheckout#eu',
      gateway_name: 'StripeCheckout',
      card_expiration: '42030',
    });

    await migrateLatest(db);
    const back = await db('handshakes').join('card_setups', 'card_setups.id', 'handshakes.card_setup_id').where({ tx_id: txId }).first();
    expect(back).toMatchObject({ state: 'completed', checkout_session_id: 'cs_c', customer_ref: '3', instance_name: 'StripeCheckout#eu' });
    expect((await db('cards').where({ payment_method_id: 'pm_c' }).first()).card_setup_id).toEqual(back.card_setup_id);
  });

  test('when a card setup of another owner exists, then the card-setup split is not rolled back', async () => {
    await testDb.db('owners').insert({ id: 'mer_setup', kind: 'merchant', name: 'setup' });
    await testDb.db('customers').insert({ owner_id: 'mer_setup', stripe_account: 1, external_ref: 'c9', stripe_customer_id: 'cus_m' });
    const [setup] = await testDb
      .db('card_setups')
      .insert({ owner_id: 'mer_setup', stripe_account: 1, customer_ref: 'c9', customer_id: 'cus_m' })
      .returning('id');
    await expect(testDb.db.migrate.down({ migrationSource, name: '20261203000013_card_setups' })).rejects.toThrow(
      /card_setups holds setups without a BillRun handshake/,
    );
    await testDb.db('card_setups').where({ id: setup.id }).delete();
    await testDb.db('customers').where({ owner_id: 'mer_setup' }).delete();
    await testDb.db('owners').where({ id: 'mer_setup' }).delete();
  });

  test('when rows of another owner exist, then going down below owners is refused rather than deleting them', async () => {
    await testDb.db('owners').insert({ id: 'mer_keep', kind: 'merchant', name: 'keep' });
    await testDb.db('customers').insert({ owner_id: 'mer_keep', stripe_account: 1, external_ref: 'c1', stripe_customer_id: 'cus_keep' });
    await expect(migrateRollbackAll(testDb.db)).rejects.toThrow(/customers holds rows of other owners/);
    expect(await testDb.db('customers').where({ owner_id: 'mer_keep' })).toHaveLength(1);
  });
});
