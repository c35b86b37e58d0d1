import type { Knex } from 'knex';

// Why a refund was made, as its requester said it (the Hub's `reason`, or Stripe's own reason for
// a refund made in the Dashboard). Text only: it never decides anything about money.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refunds', (t) => {
    t.string('reason', 500);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refunds', (t) => {
    t.dropColumn('reason');
  });
}
