import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';

/** A saved card, in the shape of BillRun's `payment_gateway.active` (plus history). */
export interface SavedCard {
  id: number;
  aid: number;
  gatewayName: string;
  instanceName: string;
  customerId: string;
  paymentMethodId: string;
  handshakeTxId: string | null;
  brand: string | null;
  fourDigits: string;
  expMonth: number;
  expYear: number;
  /** exp_month then exp_year without zero padding (April 2030 -> "42030"), as BillRun writes it. */
  cardExpiration: string;
  active: boolean;
  generateTokenTime: Date;
}

interface CardRow {
  id: unknown;
  aid: unknown;
  gateway_name: string;
  instance_name: string;
  customer_id: string;
  payment_method_id: string;
  handshake_tx_id: string | null;
  brand: string | null;
  four_digits: string;
  exp_month: number;
  exp_year: number;
  card_expiration: string;
  active: boolean;
  generate_token_time: Date | string;
}

const toCard = (row: CardRow): SavedCard => ({
  id: toSafeInt(row.id),
  aid: toSafeInt(row.aid),
  gatewayName: row.gateway_name,
  instanceName: row.instance_name,
  customerId: row.customer_id,
  paymentMethodId: row.payment_method_id,
  handshakeTxId: row.handshake_tx_id,
  brand: row.brand,
  fourDigits: row.four_digits,
  expMonth: Number(row.exp_month),
  expYear: Number(row.exp_year),
  cardExpiration: row.card_expiration,
  active: row.active,
  generateTokenTime: toDate(row.generate_token_time),
});

export const cardExpiration = (expMonth: number, expYear: number): string => `${expMonth}${expYear}`;

export type NewCard = Omit<SavedCard, 'id' | 'active' | 'cardExpiration'>;

export async function findCardByPaymentMethod(db: Knex | Knex.Transaction, paymentMethodId: string): Promise<SavedCard | undefined> {
  const row = await db<CardRow>('cards').where({ payment_method_id: paymentMethodId }).first();
  return row ? toCard(row) : undefined;
}

export async function findActiveCard(db: Knex | Knex.Transaction, aid: number): Promise<SavedCard | undefined> {
  const row = await db<CardRow>('cards').where({ aid, active: true }).first();
  return row ? toCard(row) : undefined;
}

/** Whether the account's active card came from a handshake started after `startedAt`. */
export async function hasActiveCardFromLaterSetup(trx: Knex.Transaction, aid: number, startedAt: Date): Promise<boolean> {
  const row = await trx('cards')
    .join('handshakes', 'handshakes.payment_method_id', 'cards.payment_method_id')
    .where('cards.aid', aid)
    .andWhere('cards.active', true)
    .andWhere('handshakes.created_at', '>', startedAt)
    .first('cards.id');
  return row !== undefined;
}

/**
 * Makes an already saved card the active one again (the customer saved the same payment method
 * once more). The caller holds the account row lock.
 */
export async function reactivateCard(trx: Knex.Transaction, card: SavedCard, now: Date): Promise<SavedCard> {
  if (card.active) return card;
  await trx('cards').where({ aid: card.aid, active: true }).update({ active: false, deactivated_at: now });
  await trx('cards').where({ id: card.id }).update({ active: true, deactivated_at: null });
  return { ...card, active: true };
}

/**
 * Makes `card` the account's active card and keeps the previous one as history. The caller holds
 * the account row lock, so two cards saved at once for one account cannot both end up active.
 */
export async function insertActiveCard(trx: Knex.Transaction, card: NewCard, options: { active?: boolean } = {}): Promise<SavedCard> {
  const active = options.active ?? true;
  if (active) await trx('cards').where({ aid: card.aid, active: true }).update({ active: false, deactivated_at: card.generateTokenTime });
  const [row] = await trx('cards')
    .insert({
      aid: card.aid,
      gateway_name: card.gatewayName,
      instance_name: card.instanceName,
      customer_id: card.customerId,
      payment_method_id: card.paymentMethodId,
      handshake_tx_id: card.handshakeTxId,
      brand: card.brand,
      four_digits: card.fourDigits,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      card_expiration: cardExpiration(card.expMonth, card.expYear),
      active,
      deactivated_at: active ? null : card.generateTokenTime,
      generate_token_time: card.generateTokenTime,
    })
    .returning('*');
  return toCard(row as CardRow);
}
