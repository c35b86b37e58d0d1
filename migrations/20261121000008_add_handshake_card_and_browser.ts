import type { Knex } from 'knex';

// payment_method_id: which card a completed handshake saved (a card may be saved again by a later
// handshake). browser_binding: a hash of the browser session that started a redirect flow, so
// OkPage can tell the customer's own browser from a replayed link without racing on the session.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('handshakes', (t) => {
    t.string('payment_method_id', 255);
    t.string('browser_binding', 64);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('handshakes', (t) => {
    t.dropColumn('payment_method_id');
    t.dropColumn('browser_binding');
  });
}
