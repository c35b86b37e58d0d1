import type { Knex } from 'knex';

// One row per BillRun account: our own aid -> Stripe customer mapping, so a customer is created
// once and never looked up by e-mail (BillRun takes the first customer matching an e-mail).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.bigInteger('aid').primary();
    t.string('stripe_customer_id', 255).notNullable().unique();
    t.string('email', 320);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('accounts');
}
