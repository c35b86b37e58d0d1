import type { Knex } from 'knex';

// Charges and refunds in integer minor units. `channel` + `reference` is the caller's idempotency
// key (BillRun's bill id, the Payment Hub's merchant_ref_code): the database, not care, makes a
// second charge for the same bill impossible.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('charges', (t) => {
    t.bigIncrements('id').primary();
    t.string('channel', 16).notNullable();
    t.string('reference', 255).notNullable();
    t.string('request_fingerprint', 64).notNullable();
    t.bigInteger('aid').references('aid').inTable('accounts');
    t.bigInteger('card_id').references('id').inTable('cards');
    t.string('customer_id', 255).notNullable();
    t.string('payment_method_id', 255).notNullable();
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.string('payment_intent_id', 255).unique();
    t.string('status', 24).notNullable().defaultTo('created');
    t.string('failure_code', 64);
    t.text('failure_message');
    t.string('auth_token', 64).unique();
    t.timestamp('next_check_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('succeeded_at', { useTz: true });
    t.unique(['channel', 'reference']);
    t.index(['next_check_at']);
  });
  await knex.raw(`ALTER TABLE charges ADD CONSTRAINT charges_amount_positive CHECK (amount > 0 AND amount <= 99999999)`);
  await knex.raw(
    `ALTER TABLE charges ADD CONSTRAINT charges_status_check CHECK (status IN ('created', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled'))`,
  );

  await knex.schema.createTable('refunds', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('charge_id').notNullable().references('id').inTable('charges');
    // Null for refunds made outside the service (Stripe dashboard) and learnt from Stripe.
    t.string('channel', 16);
    t.string('reference', 255);
    t.string('request_fingerprint', 64);
    t.bigInteger('amount').notNullable();
    t.string('stripe_refund_id', 255).unique();
    t.string('status', 24).notNullable().defaultTo('created');
    t.text('failure_reason');
    t.timestamp('next_check_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['channel', 'reference']);
    t.index(['charge_id']);
    t.index(['next_check_at']);
  });
  await knex.raw(`ALTER TABLE refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0)`);
  await knex.raw(
    `ALTER TABLE refunds ADD CONSTRAINT refunds_status_check CHECK (status IN ('created', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('refunds');
  await knex.schema.dropTable('charges');
}
