import type { Knex } from 'knex';

// A card setup (a customer saving a card at Stripe: a setup-mode Checkout session or a SetupIntent)
// is the payments core's; a handshake (the txId BillRun's customer carries, its pages, the browser
// that may use it) is BillRun's. `card_setups` takes the core's half of every handshake row; a
// handshake keeps BillRun's half and names its card setup. Cards name the card setup that saved
// them and lose BillRun's columns (`gateway_name`, `instance_name`, `card_expiration`), which
// BillRun's wire shaping now writes itself.

const MOVED = [
  'owner_id',
  'stripe_account',
  'customer_ref',
  'customer_id',
  'checkout_session_id',
  'setup_intent_id',
  'payment_method_id',
  'state',
  'failure_reason',
  'expires_at',
  'next_check_at',
  'check_failures',
  'updated_at',
  'finished_at',
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('card_setups', (t) => {
    t.bigIncrements('id').primary();
    t.string('owner_id', 64).notNullable().references('id').inTable('owners');
    t.bigInteger('stripe_account').notNullable().references('id').inTable('stripe_accounts');
    t.string('customer_ref', 255).notNullable();
    t.string('customer_id', 255).notNullable();
    t.string('checkout_session_id', 255);
    t.string('setup_intent_id', 255);
    t.string('payment_method_id', 255);
    t.string('state', 16).notNullable().defaultTo('creating');
    t.text('failure_reason');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('next_check_at', { useTz: true });
    t.integer('check_failures').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.unique(['stripe_account', 'checkout_session_id']);
    t.unique(['stripe_account', 'setup_intent_id']);
    t.index(['owner_id', 'stripe_account', 'customer_ref', 'state']);
    t.index(['next_check_at']);
  });
  await knex.raw(
    `ALTER TABLE card_setups ADD CONSTRAINT card_setups_customer_foreign FOREIGN KEY (owner_id, stripe_account, customer_ref) REFERENCES customers (owner_id, stripe_account, external_ref)`,
  );
  await knex.raw(
    `ALTER TABLE card_setups ADD CONSTRAINT card_setups_state_check CHECK (state IN ('creating', 'open', 'completed', 'cancelled', 'expired', 'failed'))`,
  );

  // Every handshake gets its card setup, numbered in the order the handshakes were made.
  await knex.raw('ALTER TABLE handshakes ADD COLUMN card_setup_id bigint');
  await knex.raw(`
    UPDATE handshakes SET card_setup_id = numbered.id FROM (
      SELECT tx_id, nextval(pg_get_serial_sequence('card_setups', 'id')) AS id FROM (SELECT tx_id FROM handshakes ORDER BY created_at, tx_id) ordered
    ) numbered WHERE numbered.tx_id = handshakes.tx_id`);
  await knex.raw(`INSERT INTO card_setups (id, ${MOVED.join(', ')}, created_at) SELECT card_setup_id, ${MOVED.join(', ')}, created_at FROM handshakes`);
  await knex.raw('ALTER TABLE handshakes ALTER COLUMN card_setup_id SET NOT NULL');
  await knex.raw('ALTER TABLE handshakes ADD CONSTRAINT handshakes_card_setup_unique UNIQUE (card_setup_id)');
  await knex.raw('ALTER TABLE handshakes ADD CONSTRAINT handshakes_card_setup_foreign FOREIGN KEY (card_setup_id) REFERENCES card_setups (id)');

  await knex.raw('ALTER TABLE cards ADD COLUMN card_setup_id bigint REFERENCES card_setups (id)');
  await knex.raw('UPDATE cards SET card_setup_id = h.card_setup_id FROM handshakes h WHERE h.tx_id = cards.handshake_tx_id');
  await knex.raw('ALTER TABLE cards ADD CONSTRAINT cards_card_setup_unique UNIQUE (card_setup_id)');
  await knex.raw('ALTER TABLE cards DROP COLUMN handshake_tx_id, DROP COLUMN gateway_name, DROP COLUMN instance_name, DROP COLUMN card_expiration');

  // Their indexes, checks and the customer key go with the columns.
  await knex.raw(`ALTER TABLE handshakes ${MOVED.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
}

/** Back to one table. Refused while card setups exist that no handshake names (other owners'). */
export async function down(knex: Knex): Promise<void> {
  const orphan = await knex('card_setups').whereNotIn('id', knex('handshakes').select('card_setup_id')).first('id');
  if (orphan) throw new Error('card_setups holds setups without a BillRun handshake: they would be lost going down; move or delete them first');

  await knex.schema.alterTable('handshakes', (t) => {
    t.string('owner_id', 64).references('id').inTable('owners');
    t.bigInteger('stripe_account').references('id').inTable('stripe_accounts');
    t.string('customer_ref', 255);
    t.string('customer_id', 255);
    t.string('checkout_session_id', 255).unique();
    t.string('setup_intent_id', 255).unique();
    t.string('payment_method_id', 255);
    t.string('state', 16).notNullable().defaultTo('creating');
    t.text('failure_reason');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('next_check_at', { useTz: true });
    t.integer('check_failures').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['state', 'created_at']);
    t.index(['next_check_at']);
    t.index(['owner_id']);
  });
  await knex.raw(`UPDATE handshakes h SET ${MOVED.map((c) => `${c} = s.${c}`).join(', ')} FROM card_setups s WHERE s.id = h.card_setup_id`);
  for (const c of ['owner_id', 'stripe_account', 'customer_ref', 'customer_id']) await knex.raw(`ALTER TABLE handshakes ALTER COLUMN ${c} SET NOT NULL`);
  await knex.raw(
    `ALTER TABLE handshakes ADD CONSTRAINT handshakes_state_check CHECK (state IN ('creating', 'open', 'completed', 'cancelled', 'expired', 'failed'))`,
  );
  await knex.raw(
    `ALTER TABLE handshakes ADD CONSTRAINT handshakes_customer_foreign FOREIGN KEY (owner_id, stripe_account, customer_ref) REFERENCES customers (owner_id, stripe_account, external_ref)`,
  );

  await knex.schema.alterTable('cards', (t) => {
    t.string('gateway_name', 100).notNullable().defaultTo('StripeCheckout');
    t.string('instance_name', 100).notNullable().defaultTo('StripeCheckout');
    t.string('card_expiration', 6);
    t.string('handshake_tx_id', 19).unique().references('tx_id').inTable('handshakes');
  });
  await knex.raw(`UPDATE cards SET card_expiration = exp_month::text || exp_year::text`);
  await knex.raw('UPDATE cards c SET handshake_tx_id = h.tx_id, instance_name = h.instance_name FROM handshakes h WHERE h.card_setup_id = c.card_setup_id');
  await knex.raw('ALTER TABLE cards ALTER COLUMN card_expiration SET NOT NULL');
  await knex.raw('ALTER TABLE cards ALTER COLUMN gateway_name DROP DEFAULT, ALTER COLUMN instance_name DROP DEFAULT');
  await knex.raw('ALTER TABLE cards DROP COLUMN card_setup_id');

  await knex.raw('ALTER TABLE handshakes DROP COLUMN card_setup_id');
  await knex.schema.dropTable('card_setups');
}
