import type { Knex } from 'knex';

/**
 * BillRun's handshakes with the core's card setup each names, as one row per txId (the columns a
 * handshake had before the two were split): what the tests read to check a card setup's state.
 */
export const handshakeRows = (db: Knex) =>
  db('handshakes')
    .join('card_setups', 'card_setups.id', 'handshakes.card_setup_id')
    .select(
      'handshakes.*',
      'card_setups.owner_id',
      'card_setups.stripe_account',
      'card_setups.customer_ref',
      'card_setups.customer_id',
      'card_setups.checkout_session_id',
      'card_setups.setup_intent_id',
      'card_setups.payment_method_id',
      'card_setups.state',
      'card_setups.failure_reason',
      'card_setups.expires_at',
      'card_setups.next_check_at',
      'card_setups.check_failures',
      'card_setups.updated_at',
      'card_setups.finished_at',
    );

/** The card setup id BillRun's txId names (as the driver returns a bigint column). */
export const cardSetupIdOf = async (db: Knex, txId: string): Promise<unknown> =>
  (await db('handshakes').where({ tx_id: txId }).first('card_setup_id'))?.card_setup_id;
