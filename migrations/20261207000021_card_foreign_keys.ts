import type { Knex } from 'knex';

// A card setup and a card name their customer (owner, Stripe account, customer ref), and that
// customer row's own keys name the owner and the Stripe account: their separate keys to owners and
// stripe_accounts checked nothing more. Each was a check per insert that also locked the one row
// of the owner (and of the Stripe account) that every concurrent card setup of that owner locks
// too. Charges and refunds keep theirs: their customer ref may be empty.
const REDUNDANT = [
  { table: 'card_setups', constraint: 'card_setups_owner_id_foreign', column: 'owner_id', references: 'owners' },
  { table: 'card_setups', constraint: 'card_setups_stripe_account_foreign', column: 'stripe_account', references: 'stripe_accounts' },
  { table: 'cards', constraint: 'cards_owner_id_fkey', column: 'owner_id', references: 'owners' },
  { table: 'cards', constraint: 'cards_stripe_account_fkey', column: 'stripe_account', references: 'stripe_accounts' },
];

export async function up(knex: Knex): Promise<void> {
  for (const { table, constraint } of REDUNDANT) await knex.raw('ALTER TABLE ?? DROP CONSTRAINT IF EXISTS ??', [table, constraint]);
}

export async function down(knex: Knex): Promise<void> {
  for (const { table, constraint, column, references } of REDUNDANT) {
    // A table made again meanwhile by its own migration has the key already.
    const existing = await knex.raw('select 1 from pg_constraint where conname = ? and conrelid = ?::regclass', [constraint, table]);
    if (existing.rows.length > 0) continue;
    await knex.raw('ALTER TABLE ?? ADD CONSTRAINT ?? FOREIGN KEY (??) REFERENCES ?? (id)', [table, constraint, column, references]);
  }
}
