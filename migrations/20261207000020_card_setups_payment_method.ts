import type { Knex } from 'knex';

// The card setups that saved a payment method, found by it: whether the customer's active card
// came from a setup later than the one completing (a card setup's completion asks this on every
// OkPage and webhook). Without the index that question read every card setup there is, so each
// completion cost more the more setups the table held.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX card_setups_payment_method_index ON card_setups (stripe_account, payment_method_id) WHERE payment_method_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  // IF EXISTS: card_setups may have been made again meanwhile by its own migration, without this index.
  await knex.raw('DROP INDEX IF EXISTS card_setups_payment_method_index');
}
