import type { Knex } from 'knex';

// One core for many owners (the BillRun installation, merchants) and many Stripe accounts.
// Every row that points at a Stripe object records the Stripe account it lives in, and every
// payments row its owner. BillRun's `accounts` become `customers`, keyed by (owner, Stripe account,
// external reference): the aid is BillRun's external reference. Existing rows go to the owner
// `billrun` and to Stripe account 1, "the account the service used before accounts were
// recorded", whose acct_ id the service learns from Stripe at its next start.

const LEGACY_ACCOUNT = 1;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('owners', (t) => {
    t.string('id', 64).primary();
    t.string('kind', 16).notNullable();
    t.string('name', 200).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE owners ADD CONSTRAINT owners_kind_check CHECK (kind IN ('billrun', 'merchant'))`);
  await knex('owners').insert({ id: 'billrun', kind: 'billrun', name: 'BillRun installation' });

  await knex.schema.createTable('stripe_accounts', (t) => {
    t.bigIncrements('id').primary();
    // Null until the service learns it (GET /v1/account) for the legacy row. One Stripe account has
    // a test mode and a live mode with separate objects: each is its own row.
    t.string('stripe_account_id', 255);
    t.boolean('livemode');
    t.unique(['stripe_account_id', 'livemode']);
    t.string('label', 200).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex('stripe_accounts').insert({ id: LEGACY_ACCOUNT, label: 'the default Stripe account, before accounts were recorded' });
  await knex.raw(`SELECT setval(pg_get_serial_sequence('stripe_accounts', 'id'), ${LEGACY_ACCOUNT})`);

  // The aid foreign keys go first: `accounts.aid` stops being a key.
  for (const table of ['handshakes', 'cards', 'charges']) await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_aid_foreign`);

  await knex.raw('ALTER TABLE accounts RENAME TO customers');
  await knex.raw('ALTER TABLE customers DROP CONSTRAINT accounts_pkey');
  await knex.raw('ALTER TABLE customers DROP CONSTRAINT accounts_stripe_customer_id_unique');
  await knex.raw('ALTER TABLE customers ADD COLUMN id BIGSERIAL PRIMARY KEY');
  await knex.raw('ALTER TABLE customers RENAME COLUMN aid TO external_ref');
  await knex.raw('ALTER TABLE customers ALTER COLUMN external_ref TYPE varchar(255) USING external_ref::text');
  await addOwnerAndAccount(knex, 'customers');
  await knex.raw('ALTER TABLE customers ADD CONSTRAINT customers_owner_account_ref_unique UNIQUE (owner_id, stripe_account, external_ref)');
  await knex.raw('ALTER TABLE customers ADD CONSTRAINT customers_account_stripe_customer_unique UNIQUE (stripe_account, stripe_customer_id)');

  for (const table of ['handshakes', 'cards', 'charges']) {
    await knex.raw(`ALTER TABLE ${table} RENAME COLUMN aid TO customer_ref`);
    await knex.raw(`ALTER TABLE ${table} ALTER COLUMN customer_ref TYPE varchar(255) USING customer_ref::text`);
    await addOwnerAndAccount(knex, table);
  }
  // Charges made before customers existed in a row (none today) may have no customer reference.
  for (const table of ['handshakes', 'cards']) {
    await knex.raw(
      `ALTER TABLE ${table} ADD CONSTRAINT ${table}_customer_foreign FOREIGN KEY (owner_id, stripe_account, customer_ref) REFERENCES customers (owner_id, stripe_account, external_ref)`,
    );
  }
  await knex.raw('DROP INDEX cards_one_active_per_account');
  await knex.raw('CREATE UNIQUE INDEX cards_one_active_per_customer ON cards (owner_id, stripe_account, customer_ref) WHERE active');
  await knex.raw('ALTER TABLE cards DROP CONSTRAINT cards_payment_method_id_unique');
  await knex.raw('ALTER TABLE cards ADD CONSTRAINT cards_account_payment_method_unique UNIQUE (stripe_account, payment_method_id)');

  // The caller's reference is unique per owner: two merchants may both send `order-1`.
  await knex.raw('ALTER TABLE charges DROP CONSTRAINT charges_channel_reference_unique');
  await knex.raw('ALTER TABLE charges ADD CONSTRAINT charges_owner_reference_unique UNIQUE (owner_id, reference)');
  await knex.raw('ALTER TABLE charges DROP CONSTRAINT charges_payment_intent_id_unique');
  await knex.raw('ALTER TABLE charges ADD CONSTRAINT charges_account_payment_intent_unique UNIQUE (stripe_account, payment_intent_id)');
  // An owner's refund names its charge by PaymentIntent id.
  await knex.raw('CREATE INDEX charges_owner_payment_intent_index ON charges (owner_id, payment_intent_id)');

  await addOwnerAndAccount(knex, 'refunds');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_channel_reference_unique');
  await knex.raw('ALTER TABLE refunds ADD CONSTRAINT refunds_owner_reference_unique UNIQUE (owner_id, reference)');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_stripe_refund_id_unique');
  await knex.raw('ALTER TABLE refunds ADD CONSTRAINT refunds_account_stripe_refund_unique UNIQUE (stripe_account, stripe_refund_id)');

  // An event id is Stripe's, but only the account whose secret verified it may record it.
  await addAccount(knex, 'stripe_events');
  await knex.raw('ALTER TABLE stripe_events DROP CONSTRAINT stripe_events_pkey');
  await knex.raw('ALTER TABLE stripe_events ADD PRIMARY KEY (stripe_account, id)');
}

async function addAccount(knex: Knex, table: string): Promise<void> {
  await knex.raw(`ALTER TABLE ${table} ADD COLUMN stripe_account bigint NOT NULL DEFAULT ${LEGACY_ACCOUNT} REFERENCES stripe_accounts (id)`);
  await knex.raw(`ALTER TABLE ${table} ALTER COLUMN stripe_account DROP DEFAULT`);
}

async function addOwnerAndAccount(knex: Knex, table: string): Promise<void> {
  await knex.raw(`ALTER TABLE ${table} ADD COLUMN owner_id varchar(64) NOT NULL DEFAULT 'billrun' REFERENCES owners (id)`);
  await knex.raw(`ALTER TABLE ${table} ALTER COLUMN owner_id DROP DEFAULT`);
  await addAccount(knex, table);
  await knex.raw(`CREATE INDEX ${table}_owner_index ON ${table} (owner_id)`);
}

/**
 * Back to one owner and one Stripe account. Refused while rows of other owners or accounts exist:
 * going down must not delete money history.
 */
export async function down(knex: Knex): Promise<void> {
  for (const table of ['refunds', 'charges', 'cards', 'handshakes', 'customers']) {
    const other = await knex(table).whereNot({ owner_id: 'billrun' }).orWhereNot({ stripe_account: LEGACY_ACCOUNT }).first('owner_id');
    if (other) throw new Error(`${table} holds rows of other owners or Stripe accounts: they would be lost going down; move or delete them first`);
  }
  await knex.raw(`DELETE FROM stripe_events WHERE stripe_account <> ${LEGACY_ACCOUNT}`);

  await knex.raw('ALTER TABLE stripe_events DROP CONSTRAINT stripe_events_pkey');
  await knex.raw('ALTER TABLE stripe_events ADD PRIMARY KEY (id)');
  await knex.raw('ALTER TABLE stripe_events DROP COLUMN stripe_account');

  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_account_stripe_refund_unique');
  await knex.raw('ALTER TABLE refunds ADD CONSTRAINT refunds_stripe_refund_id_unique UNIQUE (stripe_refund_id)');
  await knex.raw('ALTER TABLE refunds DROP CONSTRAINT refunds_owner_reference_unique');
  await knex.raw('ALTER TABLE refunds ADD CONSTRAINT refunds_channel_reference_unique UNIQUE (channel, reference)');
  await knex.raw('ALTER TABLE refunds DROP COLUMN owner_id, DROP COLUMN stripe_account');

  await knex.raw('ALTER TABLE charges DROP CONSTRAINT charges_account_payment_intent_unique');
  await knex.raw('ALTER TABLE charges ADD CONSTRAINT charges_payment_intent_id_unique UNIQUE (payment_intent_id)');
  await knex.raw('ALTER TABLE charges DROP CONSTRAINT charges_owner_reference_unique');
  await knex.raw('ALTER TABLE charges ADD CONSTRAINT charges_channel_reference_unique UNIQUE (channel, reference)');

  await knex.raw('ALTER TABLE cards DROP CONSTRAINT cards_account_payment_method_unique');
  await knex.raw('ALTER TABLE cards ADD CONSTRAINT cards_payment_method_id_unique UNIQUE (payment_method_id)');
  await knex.raw('DROP INDEX cards_one_active_per_customer');
  for (const table of ['handshakes', 'cards']) await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_customer_foreign`);
  for (const table of ['handshakes', 'cards', 'charges']) {
    await knex.raw(`ALTER TABLE ${table} DROP COLUMN owner_id, DROP COLUMN stripe_account`);
    await knex.raw(`ALTER TABLE ${table} ALTER COLUMN customer_ref TYPE bigint USING customer_ref::bigint`);
    await knex.raw(`ALTER TABLE ${table} RENAME COLUMN customer_ref TO aid`);
  }
  await knex.raw('CREATE UNIQUE INDEX cards_one_active_per_account ON cards (aid) WHERE active');

  await knex.raw('ALTER TABLE customers DROP CONSTRAINT customers_account_stripe_customer_unique');
  await knex.raw('ALTER TABLE customers DROP CONSTRAINT customers_owner_account_ref_unique');
  await knex.raw('ALTER TABLE customers DROP COLUMN owner_id, DROP COLUMN stripe_account');
  await knex.raw('ALTER TABLE customers ALTER COLUMN external_ref TYPE bigint USING external_ref::bigint');
  await knex.raw('ALTER TABLE customers RENAME COLUMN external_ref TO aid');
  await knex.raw('ALTER TABLE customers DROP COLUMN id');
  await knex.raw('ALTER TABLE customers ADD CONSTRAINT accounts_pkey PRIMARY KEY (aid)');
  await knex.raw('ALTER TABLE customers ADD CONSTRAINT accounts_stripe_customer_id_unique UNIQUE (stripe_customer_id)');
  await knex.raw('ALTER TABLE customers RENAME TO accounts');
  for (const table of ['handshakes', 'cards', 'charges']) {
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_aid_foreign FOREIGN KEY (aid) REFERENCES accounts (aid)`);
  }

  await knex.schema.dropTable('stripe_accounts');
  await knex.schema.dropTable('owners');
}
