import type { Knex } from 'knex';

// The reconciler's schedule for card setups nobody confirmed (no OkPage, webhook lost).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('handshakes', (t) => {
    t.timestamp('next_check_at', { useTz: true });
    t.index(['next_check_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('handshakes', (t) => {
    t.dropIndex(['next_check_at']);
    t.dropColumn('next_check_at');
  });
}
