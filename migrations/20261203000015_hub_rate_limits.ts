import type { Knex } from 'knex';

// Request counters per Hub API key, shared by every instance on PostgreSQL (rate-limiter-flexible's
// RateLimiterPostgres keeps them here, in the shape it creates itself: made here so no request
// creates tables). The embedded database counts in memory instead: one process there.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('hub_rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('hub_rate_limits');
}
