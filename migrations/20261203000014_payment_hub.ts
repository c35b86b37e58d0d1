import type { Knex } from 'knex';

// The Payment Hub: merchants (owners of kind `merchant`) with API keys, their Stripe accounts
// ("payment vendors", secrets encrypted), card tokens and transactions. Money, cards, charges and
// refunds stay the core's rows: a token names the core customer it saved a card for, a
// transaction names the core charge.

export async function up(knex: Knex): Promise<void> {
  // What a charge shows at Stripe beyond its amount: kept on the row, so a resubmission (same
  // idempotency key) sends exactly what the first attempt sent.
  await knex.schema.alterTable('charges', (t) => {
    t.text('description');
    t.string('receipt_email', 320);
    // `capture`: the charge captures an authorization (a PaymentIntent with manual capture) instead of creating one.
    t.string('kind', 8).notNullable().defaultTo('payment');
  });
  await knex.raw(`ALTER TABLE charges ADD CONSTRAINT charges_kind_check CHECK (kind IN ('payment', 'capture'))`);

  await knex.schema.createTable('hub_merchants', (t) => {
    t.string('owner_id', 64).primary().references('id').inTable('owners');
    // The Standard Webhooks signing secret of the merchant's webhooks, encrypted.
    t.text('webhook_secret_enc').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('disabled_at', { useTz: true });
  });

  await knex.schema.createTable('hub_api_keys', (t) => {
    t.bigIncrements('id').primary();
    t.string('owner_id', 64).notNullable().references('owner_id').inTable('hub_merchants');
    t.string('kind', 8).notNullable();
    // The readable start of the key (`pk_test_ab12...`), to tell keys apart; the key itself is only hashed.
    t.string('prefix', 32).notNullable();
    t.string('key_hash', 64).notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('revoked_at', { useTz: true });
    t.index(['owner_id']);
  });
  await knex.raw(`ALTER TABLE hub_api_keys ADD CONSTRAINT hub_api_keys_kind_check CHECK (kind IN ('public', 'secret'))`);

  await knex.schema.createTable('hub_vendors', (t) => {
    t.string('id', 32).primary();
    t.string('owner_id', 64).notNullable().references('owner_id').inTable('hub_merchants');
    t.string('name', 200).notNullable();
    t.text('secret_key_enc').notNullable();
    t.string('secret_key_hint', 16).notNullable();
    t.string('publishable_key', 255);
    t.text('webhook_secret_enc');
    t.boolean('allow_raw_card_data').notNullable().defaultTo(false);
    // A vendor without a key of its own in sandbox: its key is one the built-in emulator accepts.
    t.boolean('sandbox').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('disabled_at', { useTz: true });
    t.index(['owner_id']);
  });

  await knex.schema.createTable('hub_tokens', (t) => {
    t.string('id', 40).primary();
    t.string('owner_id', 64).notNullable().references('owner_id').inTable('hub_merchants');
    t.string('vendor_id', 32).notNullable().references('id').inTable('hub_vendors');
    t.bigInteger('stripe_account').notNullable().references('id').inTable('stripe_accounts');
    t.string('kind', 8).notNullable();
    t.string('status', 16).notNullable();
    // Card tokens: the core customer (customer_ref = the token id) whose card was verified.
    t.string('customer_ref', 255);
    // 3-D Secure tokens: the authorization (a PaymentIntent with manual capture) and what it holds.
    t.string('payment_intent_id', 255);
    t.bigInteger('amount');
    t.string('currency', 3);
    t.text('return_url');
    t.string('brand', 32);
    t.string('last4', 4);
    t.smallint('exp_month');
    t.smallint('exp_year');
    t.string('failure_code', 64);
    t.text('failure_message');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['stripe_account', 'payment_intent_id']);
    t.index(['owner_id']);
  });
  await knex.raw(`ALTER TABLE hub_tokens ADD CONSTRAINT hub_tokens_kind_check CHECK (kind IN ('card', '3ds'))`);
  await knex.raw(
    `ALTER TABLE hub_tokens ADD CONSTRAINT hub_tokens_status_check CHECK (status IN ('review', 'verified', 'failed', 'fraud', 'skipped', 'used'))`,
  );

  await knex.schema.createTable('hub_transactions', (t) => {
    t.bigIncrements('id').primary();
    t.string('owner_id', 64).notNullable().references('owner_id').inTable('hub_merchants');
    t.string('vendor_id', 32).notNullable().references('id').inTable('hub_vendors');
    t.string('token_id', 40).notNullable().references('id').inTable('hub_tokens');
    t.string('merchant_ref_code', 255).notNullable();
    t.string('request_fingerprint', 64).notNullable();
    t.bigInteger('charge_id').references('id').inTable('charges');
    t.bigInteger('amount').notNullable();
    t.bigInteger('service_charge').notNullable();
    t.bigInteger('total').notNullable();
    t.string('currency', 3).notNullable();
    t.text('description').notNullable();
    t.string('first_name', 200).notNullable().defaultTo('');
    t.string('last_name', 200).notNullable().defaultTo('');
    t.string('mobile', 64).notNullable().defaultTo('');
    t.string('email', 320).notNullable().defaultTo('');
    t.string('lang', 8).notNullable().defaultTo('');
    t.boolean('send_email').notNullable().defaultTo(false);
    t.string('payment_method', 64);
    t.text('webhook_url');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['owner_id', 'merchant_ref_code']);
    t.index(['charge_id']);
    // A 3-D Secure token authorizes one charge: at most one transaction may name it.
    t.boolean('one_time_token').notNullable().defaultTo(false);
  });
  await knex.raw('CREATE UNIQUE INDEX hub_transactions_one_per_one_time_token ON hub_transactions (token_id) WHERE one_time_token');
}

export async function down(knex: Knex): Promise<void> {
  const merchant = await knex('hub_merchants').first('owner_id');
  if (merchant) throw new Error('hub_merchants holds merchants: their tokens and transactions would be lost going down; delete them first');
  for (const table of ['hub_transactions', 'hub_tokens', 'hub_vendors', 'hub_api_keys', 'hub_merchants']) await knex.schema.dropTable(table);
  await knex.schema.alterTable('charges', (t) => {
    t.dropColumn('description');
    t.dropColumn('receipt_email');
    t.dropColumn('kind');
  });
}
