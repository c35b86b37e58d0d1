import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';

/** review: needs 3-D Secure; verified: chargeable; failed; fraud (Radar); skipped: no 3-D Secure, chargeable; used: a one-time token charged. */
export type TokenStatus = 'review' | 'verified' | 'failed' | 'fraud' | 'skipped' | 'used';
export type TokenKind = 'card' | '3ds';

export interface Token {
  id: string;
  ownerId: string;
  vendorId: string;
  stripeAccount: number;
  kind: TokenKind;
  status: TokenStatus;
  customerRef: string | null;
  paymentIntentId: string | null;
  amount: number | null;
  currency: string | null;
  returnUrl: string | null;
  /** Where the merchant hears of the token's later status changes (3-D Secure tokens). */
  webhookUrl: string | null;
  brand: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface TokenRow {
  id: string;
  owner_id: string;
  vendor_id: string;
  stripe_account: unknown;
  kind: TokenKind;
  status: TokenStatus;
  customer_ref: string | null;
  payment_intent_id: string | null;
  amount: unknown;
  currency: string | null;
  return_url: string | null;
  webhook_url: string | null;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  failure_code: string | null;
  failure_message: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const toToken = (row: TokenRow): Token => ({
  id: row.id,
  ownerId: row.owner_id,
  vendorId: row.vendor_id,
  stripeAccount: toSafeInt(row.stripe_account),
  kind: row.kind,
  status: row.status,
  customerRef: row.customer_ref,
  paymentIntentId: row.payment_intent_id,
  amount: row.amount == null ? null : toSafeInt(row.amount),
  currency: row.currency,
  returnUrl: row.return_url,
  webhookUrl: row.webhook_url,
  brand: row.brand,
  last4: row.last4,
  expMonth: row.exp_month == null ? null : Number(row.exp_month),
  expYear: row.exp_year == null ? null : Number(row.exp_year),
  failureCode: row.failure_code,
  failureMessage: row.failure_message,
  createdAt: toDate(row.created_at),
  updatedAt: toDate(row.updated_at),
});

export type NewToken = Omit<Token, 'updatedAt'>;

export async function insertToken(db: Knex | Knex.Transaction, t: NewToken): Promise<Token> {
  const [row] = await db('hub_tokens')
    .insert({
      id: t.id,
      owner_id: t.ownerId,
      vendor_id: t.vendorId,
      stripe_account: t.stripeAccount,
      kind: t.kind,
      status: t.status,
      customer_ref: t.customerRef,
      payment_intent_id: t.paymentIntentId,
      amount: t.amount,
      currency: t.currency,
      return_url: t.returnUrl,
      webhook_url: t.webhookUrl,
      brand: t.brand,
      last4: t.last4,
      exp_month: t.expMonth,
      exp_year: t.expYear,
      failure_code: t.failureCode,
      failure_message: t.failureMessage,
      created_at: t.createdAt,
      updated_at: t.createdAt,
    })
    .returning('*');
  return toToken(row as TokenRow);
}

/** A merchant's token: another merchant's id is unknown. */
export async function findToken(db: Knex | Knex.Transaction, ownerId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<Token | undefined> {
  const query = db<TokenRow>('hub_tokens').where({ owner_id: ownerId, id }).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toToken(row) : undefined;
}

export async function findTokenByPaymentIntent(db: Knex | Knex.Transaction, stripeAccount: number, paymentIntentId: string): Promise<Token | undefined> {
  const row = await db<TokenRow>('hub_tokens').where({ stripe_account: stripeAccount, payment_intent_id: paymentIntentId }).first();
  return row ? toToken(row) : undefined;
}

export interface TokenUpdate {
  status: TokenStatus;
  paymentIntentId?: string;
  brand?: string | null;
  last4?: string | null;
  expMonth?: number | null;
  expYear?: number | null;
  failureCode?: string | null;
  failureMessage?: string | null;
}

/** Moves a token, only from one of `from` (so a used or failed token never comes back). */
export async function updateToken(db: Knex | Knex.Transaction, id: string, from: readonly TokenStatus[], u: TokenUpdate, now: Date): Promise<boolean> {
  const updated = await db('hub_tokens')
    .where({ id })
    .whereIn('status', [...from])
    .update({
      status: u.status,
      ...(u.paymentIntentId !== undefined ? { payment_intent_id: u.paymentIntentId } : {}),
      ...(u.brand !== undefined ? { brand: u.brand } : {}),
      ...(u.last4 !== undefined ? { last4: u.last4 } : {}),
      ...(u.expMonth !== undefined ? { exp_month: u.expMonth } : {}),
      ...(u.expYear !== undefined ? { exp_year: u.expYear } : {}),
      ...(u.failureCode !== undefined ? { failure_code: u.failureCode } : {}),
      ...(u.failureMessage !== undefined ? { failure_message: u.failureMessage } : {}),
      updated_at: now,
    });
  return updated > 0;
}

/** A token by id alone: only for the customer's return page, whose URL carries the (unguessable) id. */
export async function findTokenById(db: Knex | Knex.Transaction, id: string): Promise<Token | undefined> {
  const row = await db<TokenRow>('hub_tokens').where({ id }).first();
  return row ? toToken(row) : undefined;
}
