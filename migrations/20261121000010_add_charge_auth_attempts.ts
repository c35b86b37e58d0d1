import type { Knex } from 'knex';

// Counts on-session confirmations of a charge, so the idempotency key of each attempt is fixed:
// two browser tabs confirming at once send the same key and Stripe confirms once.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('charges', (t) => {
    t.integer('auth_attempts').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('charges', (t) => {
    t.dropColumn('auth_attempts');
  });
}
