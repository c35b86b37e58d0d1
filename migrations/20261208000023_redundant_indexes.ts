import type { Knex } from 'knex';

// Indexes no statement needs: each insert and each update that moves an indexed column writes
// every index of its table, and a statement locks every index it may write. An index on owner_id
// alone is the first column of another index of the same table (charges: (owner_id, reference)
// and (owner_id, payment_intent_id); customers: (owner_id, stripe_account, external_ref)), which
// serves the same lookups. Cards are read by their customer with `active` (the partial unique
// index), by payment method, by card setup or by id: nothing reads them by customer_ref alone or
// by owner alone, and no customer row is ever deleted or re-keyed (which is what an index for the
// cards' key to customers would serve).
const REDUNDANT = [
  { table: 'charges', index: 'charges_owner_index', columns: ['owner_id'] },
  { table: 'customers', index: 'customers_owner_index', columns: ['owner_id'] },
  { table: 'cards', index: 'cards_owner_index', columns: ['owner_id'] },
  { table: 'cards', index: 'cards_aid_index', columns: ['customer_ref'] },
];

export async function up(knex: Knex): Promise<void> {
  for (const { index } of REDUNDANT) await knex.raw('DROP INDEX IF EXISTS ??', [index]);
}

export async function down(knex: Knex): Promise<void> {
  for (const { table, index, columns } of REDUNDANT)
    await knex.raw(`CREATE INDEX IF NOT EXISTS ?? ON ?? (${columns.map(() => '??').join(', ')})`, [index, table, ...columns]);
}
