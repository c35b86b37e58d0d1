import type { Knex } from 'knex';

// Saved cards per account with history: BillRun's `payment_gateway.active` is the row with
// active = true; replaced cards stay with active = false. Only brand, last 4 and expiry are kept.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cards', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('aid').notNullable().references('aid').inTable('accounts');
    t.string('gateway_name', 100).notNullable();
    t.string('instance_name', 100).notNullable();
    t.string('customer_id', 255).notNullable();
    // A payment method is saved once, whichever of OkPage, webhook or reconciler gets there first.
    t.string('payment_method_id', 255).notNullable().unique();
    t.string('handshake_tx_id', 19).unique().references('tx_id').inTable('handshakes');
    t.string('brand', 32);
    t.string('four_digits', 4).notNullable();
    t.smallint('exp_month').notNullable();
    t.smallint('exp_year').notNullable();
    t.string('card_expiration', 6).notNullable();
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('generate_token_time', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deactivated_at', { useTz: true });
    t.index(['aid']);
  });
  // At most one active card per account, enforced by the database rather than by care.
  await knex.raw('CREATE UNIQUE INDEX cards_one_active_per_account ON cards (aid) WHERE active');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cards');
}
