import type { Knex } from 'knex';

// BillRun's `creditproxy`: one row per getRequest, keyed by the txId the customer carries back.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('handshakes', (t) => {
    t.string('tx_id', 19).primary();
    t.bigInteger('aid').notNullable().references('aid').inTable('accounts');
    t.string('instance_name', 100).notNullable();
    t.string('flow', 16).notNullable();
    t.string('request_t', 32).notNullable();
    t.string('customer_id', 255).notNullable();
    t.string('checkout_session_id', 255).unique();
    t.string('setup_intent_id', 255).unique();
    t.text('ok_page');
    t.text('fail_page');
    t.text('return_url').notNullable();
    t.string('state', 16).notNullable().defaultTo('creating');
    t.text('failure_reason');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['aid']);
    t.index(['state', 'created_at']);
  });
  await knex.raw(`ALTER TABLE handshakes ADD CONSTRAINT handshakes_flow_check CHECK (flow IN ('iframe', 'redirect', 'custom'))`);
  await knex.raw(
    `ALTER TABLE handshakes ADD CONSTRAINT handshakes_state_check CHECK (state IN ('creating', 'open', 'completed', 'cancelled', 'expired', 'failed'))`,
  );
  await knex.raw(`ALTER TABLE handshakes ADD CONSTRAINT handshakes_tx_id_format CHECK (tx_id ~ '^[0-9]{19}$')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('handshakes');
}
