import type { Knex } from 'knex';
import { columnList, directRaw, fromJsonColumn, toDate, toSafeInt } from '../db';
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

/** The columns a SavedCard is made of, for the hot statements. */
const CARD_COLUMNS = columnList<CardRow>()([
  'id',
  'owner_id',
  'stripe_account',
  'customer_ref',
  'customer_id',
  'payment_method_id',
  'card_setup_id',
  'brand',
  'four_digits',
  'exp_month',
  'exp_year',
  'active',
  'generate_token_time',
]);

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

const COMPLETE_SETUP_WITH_NEW_CARD = `with customer as (select id from customers where owner_id = ? and stripe_account = ? and external_ref = ? for update),
setup as (
  update card_setups set state = 'completed', payment_method_id = ?, failure_reason = null, finished_at = ?, updated_at = ?, next_check_at = null
  where id = ? and state = ? and exists (select 1 from customer)
    and not exists (select 1 from cards where stripe_account = ? and payment_method_id = ?)
    and not exists (
      select 1 from cards c join card_setups later on later.payment_method_id = c.payment_method_id and later.stripe_account = c.stripe_account
      where c.owner_id = ? and c.stripe_account = ? and c.customer_ref = ? and c.active and later.created_at > ?)
  returning id
),
previous as (
  update cards set active = false, deactivated_at = ?
  where owner_id = ? and stripe_account = ? and customer_ref = ? and active and exists (select 1 from setup)
  returning id
),
card as (
  insert into cards (owner_id, stripe_account, customer_ref, customer_id, payment_method_id, card_setup_id, brand, four_digits, exp_month, exp_year,
    active, deactivated_at, generate_token_time)
  select ?, ?, ?, ?, ?, setup.id, ?, ?, ?, ?, true, null, ? from setup where (select count(*) from previous) >= 0
  returning ${CARD_COLUMNS}
)
select row_to_json(c) as card from card c`;

/**
 * A card setup's usual completion in one statement: the setup moves to completed (only from the
 * state it was read in: compare-and-set) and its new card becomes the customer's active one, the
 * previous active card kept as history, under the customer row lock like the locked path. Only
 * when the payment method is not on record yet and no card of a later setup is active; otherwise,
 * or when the row moved meanwhile, nothing is written and undefined returned (the caller takes
 * the locked path). A card another request made active after this statement began breaks the
 * one-active-card index: the statement fails as a whole (unique violation), nothing written.
 */
export async function completeSetupWithNewCard(
  db: Knex,
  setup: { id: number; state: string; createdAt: Date } & CustomerKey,
  card: Omit<NewCard, keyof CustomerKey | 'cardSetupId'>,
  now: Date,
): Promise<SavedCard | undefined> {
  const key = [setup.ownerId, setup.stripeAccount, setup.customerRef];
  const result = await directRaw(db, COMPLETE_SETUP_WITH_NEW_CARD, [
    ...key,
    card.paymentMethodId,
    now,
    now,
    setup.id,
    setup.state,
    setup.stripeAccount,
    card.paymentMethodId,
    ...key,
    setup.createdAt,
    now,
    ...key,
    ...key,
    card.customerId,
    card.paymentMethodId,
    card.brand,
    card.fourDigits,
    card.expMonth,
    card.expYear,
    card.generateTokenTime,
  ]);
  const row = (result.rows as { card: unknown }[])[0];
  return row ? toCard(fromJsonColumn<CardRow>(row.card)) : undefined;
}

/** The customer's cards saved for a Stripe customer that is gone: none stays active. */
export async function deactivateCardsOfStripeCustomer(trx: Knex.Transaction, key: CustomerKey, stripeCustomerId: string, now: Date): Promise<number> {
  return trx('cards')
    .where({ ...customerColumns(key), customer_id: stripeCustomerId, active: true })
    .update({ active: false, deactivated_at: now });
}
