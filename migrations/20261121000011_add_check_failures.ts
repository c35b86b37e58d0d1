import type { Knex } from 'knex';

// How many reconciler checks of a row failed in a row: drives the back-off and tells an operator
// which rows Stripe keeps refusing to explain.
const TABLES = ['handshakes', 'charges', 'refunds'] as const;

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.integer('check_failures').notNullable().defaultTo(0);
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('check_failures');
    });
  }
}
