import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

// One random id per database. It scopes our Stripe idempotency keys, so two deployments sharing
// one Stripe account (staging and production, a restored copy) can never replay each other's
// "charge-42" or "billrun-customer-1".
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('installation', (t) => {
    t.string('id', 32).primary();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex('installation').insert({ id: randomBytes(8).toString('hex') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('installation');
}
