import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';
import { customerColumns, customerKeyOf, type CustomerKey } from './customer-key';

/** A saved card (the active one per customer, plus history). */
export interface SavedCard extends CustomerKey {
  id: number;
  customerId: string;
  paymentMethodId: string;
  /** The card setup that saved it. */
  cardSetupId: number | null;
  brand: string | null;
  fourDigits: string;
  expMonth: number;
  expYear: number;
  active: boolean;
  generateTokenTime: Date;
}

interface CardRow {
  id: unknown;
  owner_id: string;
  stripe_account: unknown;
  customer_ref: string;
  customer_id: string;
  payment_method_id: string;
  card_setup_id: unknown;
  brand: string | null;
  four_digits: string;
  exp_month: number;
  exp_year: number;
  active: boolean;
  generate_token_time: Date | string;
}

const toCard = (row: CardRow): SavedCard => ({
  id: toSafeInt(row.id),
  ...customerKeyOf(row),
  customerId: row.customer_id,
  paymentMethodId: row.payment_method_id,
  cardSetupId: row.card_setup_id === null ? null : toSafeInt(row.card_setup_id),
  brand: row.brand,
  fourDigits: row.four_digits,
  expMonth: Number(row.exp_month),
  expYear: Number(row.exp_year),
  active: row.active,
  generateTokenTime: toDate(row.generate_token_time),
});

export type NewCard = Omit<SavedCard, 'id' | 'active'>;

export async function findCardByPaymentMethod(db: Knex | Knex.Transaction, stripeAccount: number, paymentMethodId: string): Promise<SavedCard | undefined> {
  const row = await db<CardRow>('cards').where({ stripe_account: stripeAccount, payment_method_id: paymentMethodId }).first();
  return row ? toCard(row) : undefined;
}

export async function findActiveCard(db: Knex | Knex.Transaction, key: CustomerKey): Promise<SavedCard | undefined> {
  const row = await db<CardRow>('cards')
    .where({ ...customerColumns(key), active: true })
    .first();
  return row ? toCard(row) : undefined;
}

/** Whether the customer's active card came from a card setup started after `startedAt`. */
export async function hasActiveCardFromLaterSetup(trx: Knex.Transaction, key: CustomerKey, startedAt: Date): Promise<boolean> {
  const row = await trx('cards')
    .join('card_setups', function () {
      this.on('card_setups.payment_method_id', 'cards.payment_method_id').andOn('card_setups.stripe_account', 'cards.stripe_account');
    })
    .where({ 'cards.owner_id': key.ownerId, 'cards.stripe_account': key.stripeAccount, 'cards.customer_ref': key.customerRef })
    .andWhere('cards.active', true)
    .andWhere('card_setups.created_at', '>', startedAt)
    .first('cards.id');
  return row !== undefined;
}

/**
 * Makes an already saved card the active one again (the customer saved the same payment method
 * once more). The caller holds the customer row lock.
 */
export async function reactivateCard(trx: Knex.Transaction, card: SavedCard, now: Date): Promise<SavedCard> {
  if (card.active) return card;
  await trx('cards')
    .where({ ...customerColumns(card), active: true })
    .update({ active: false, deactivated_at: now });
  await trx('cards').where({ id: card.id }).update({ active: true, deactivated_at: null });
  return { ...card, active: true };
}

/**
 * Makes `card` the account's active card and keeps the previous one as history. The caller holds
 * the customer row lock, so two cards saved at once for one account cannot both end up active.
 */
export async function insertActiveCard(trx: Knex.Transaction, card: NewCard, options: { active?: boolean } = {}): Promise<SavedCard> {
  const active = options.active ?? true;
  if (active)
    await trx('cards')
      .where({ ...customerColumns(card), active: true })
      .update({ active: false, deactivated_at: card.generateTokenTime });
  const [row] = await trx('cards')
    .insert({
      ...customerColumns(card),
      customer_id: card.customerId,
      payment_method_id: card.paymentMethodId,
      card_setup_id: card.cardSetupId,
      brand: card.brand,
      four_digits: card.fourDigits,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      active,
      deactivated_at: active ? null : card.generateTokenTime,
      generate_token_time: card.generateTokenTime,
    })
    .returning('*');
  return toCard(row as CardRow);
}

/** The customer's cards saved for a Stripe customer that is gone: none stays active. */
export async function deactivateCardsOfStripeCustomer(trx: Knex.Transaction, key: CustomerKey, stripeCustomerId: string, now: Date): Promise<number> {
  return trx('cards')
    .where({ ...customerColumns(key), customer_id: stripeCustomerId, active: true })
    .update({ active: false, deactivated_at: now });
}
