import type { Knex } from 'knex';
import type { ChargeStatus } from '../stripe';
import { columnList, directRaw, fromJsonColumn, textPerShape, toDate, toSafeInt } from '../db';
import type { Currency } from './money';

/** Where a lookup by a Stripe id may look: one owner's rows, or one Stripe account's (webhooks, reconciler). */
export type RowScope = { ownerId: string } | { stripeAccount: number };

export const scopeColumns = (scope: RowScope) => ('ownerId' in scope ? { owner_id: scope.ownerId } : { stripe_account: scope.stripeAccount });

/** The API a charge came in by (each owner's front end names its own), kept for operators. */
export type Channel = string;

/** `payment`: we create the PaymentIntent; `capture`: we capture an authorization made before. */
export type ChargeKind = 'payment' | 'capture';

export interface Charge {
  id: number;
  kind: ChargeKind;
  channel: Channel;
  reference: string;
  requestFingerprint: string;
  ownerId: string;
  stripeAccount: number;
  /** The owner's id for the customer charged. */
  customerRef: string | null;
  cardId: number | null;
  customerId: string;
  paymentMethodId: string;
  amount: number;
  currency: Currency;
  paymentIntentId: string | null;
  status: ChargeStatus;
  failureCode: string | null;
  failureMessage: string | null;
  authToken: string | null;
  authAttempts: number;
  /** Shown at Stripe and on the receipt. */
  description: string | null;
  /** Stripe e-mails its receipt here when set. */
  receiptEmail: string | null;
  createdAt: Date;
  succeededAt: Date | null;
}

interface ChargeRow {
  id: unknown;
  kind: ChargeKind | null;
  channel: Channel;
  reference: string;
  request_fingerprint: string;
  owner_id: string;
  stripe_account: unknown;
  customer_ref: string | null;
  card_id: unknown;
  customer_id: string;
  payment_method_id: string;
  amount: unknown;
  currency: Currency;
  payment_intent_id: string | null;
  status: ChargeStatus;
  failure_code: string | null;
  failure_message: string | null;
  auth_token: string | null;
  auth_attempts: number;
  description: string | null;
  receipt_email: string | null;
  created_at: Date | string;
  succeeded_at: Date | string | null;
}

/** The columns a Charge is made of, for the hot statements: the others (next_check_at, updated_at, ...) are not parsed. */
const CHARGE_COLUMNS = columnList<ChargeRow>()([
  'id',
  'kind',
  'channel',
  'reference',
  'request_fingerprint',
  'owner_id',
  'stripe_account',
  'customer_ref',
  'card_id',
  'customer_id',
  'payment_method_id',
  'amount',
  'currency',
  'payment_intent_id',
  'status',
  'failure_code',
  'failure_message',
  'auth_token',
  'auth_attempts',
  'description',
  'receipt_email',
  'created_at',
  'succeeded_at',
]);

const toCharge = (row: ChargeRow): Charge => ({
  id: toSafeInt(row.id),
  kind: row.kind ?? 'payment',
  channel: row.channel,
  reference: row.reference,
  requestFingerprint: row.request_fingerprint,
  ownerId: row.owner_id,
  stripeAccount: toSafeInt(row.stripe_account),
  customerRef: row.customer_ref,
  cardId: row.card_id == null ? null : toSafeInt(row.card_id),
  customerId: row.customer_id,
  paymentMethodId: row.payment_method_id,
  amount: toSafeInt(row.amount),
  currency: row.currency,
  paymentIntentId: row.payment_intent_id,
  status: row.status,
  failureCode: row.failure_code,
  failureMessage: row.failure_message,
  authToken: row.auth_token,
  authAttempts: Number(row.auth_attempts ?? 0),
  description: row.description ?? null,
  receiptEmail: row.receipt_email ?? null,
  createdAt: toDate(row.created_at),
  succeededAt: row.succeeded_at == null ? null : toDate(row.succeeded_at),
});

export type NewCharge = Pick<
  Charge,
  | 'channel'
  | 'reference'
  | 'requestFingerprint'
  | 'ownerId'
  | 'stripeAccount'
  | 'customerRef'
  | 'cardId'
  | 'customerId'
  | 'paymentMethodId'
  | 'amount'
  | 'currency'
> &
  Partial<Pick<Charge, 'description' | 'receiptEmail' | 'kind' | 'paymentIntentId'>> & {
    /** When the reconciler should look if nothing settles it first. */
    nextCheckAt: Date | null;
    now: Date;
  };

/**
 * Records the charge unless the owner already has one with this reference; returns the stored row and
 * whether this call made it. The unique key is what makes a repeated bill a replay.
 */
export async function insertChargeOnce(db: Knex, c: NewCharge): Promise<{ charge: Charge; created: boolean }> {
  const inserted = await db('charges')
    .insert({
      channel: c.channel,
      reference: c.reference,
      request_fingerprint: c.requestFingerprint,
      owner_id: c.ownerId,
      stripe_account: c.stripeAccount,
      customer_ref: c.customerRef,
      card_id: c.cardId,
      customer_id: c.customerId,
      payment_method_id: c.paymentMethodId,
      amount: c.amount,
      currency: c.currency,
      description: c.description ?? null,
      receipt_email: c.receiptEmail ?? null,
      kind: c.kind ?? 'payment',
      payment_intent_id: c.paymentIntentId ?? null,
      status: 'created',
      next_check_at: c.nextCheckAt,
      created_at: c.now,
      updated_at: c.now,
    })
    .onConflict(['owner_id', 'reference'])
    .ignore()
    .returning('*');
  if (inserted.length > 0) return { charge: toCharge(inserted[0] as ChargeRow), created: true };
  const existing = await findChargeByReference(db, c.ownerId, c.reference);
  if (!existing) throw new Error(`charge ${c.ownerId}/${c.reference} vanished after a conflicting insert`);
  return { charge: existing, created: false };
}

/** A charge on the customer's active card: what the card gives (account, card, Stripe customer and PaymentMethod) is read in the statement. */
export type NewChargeOnActiveCard = Omit<NewCharge, 'stripeAccount' | 'cardId' | 'customerId' | 'paymentMethodId' | 'kind' | 'paymentIntentId'> & {
  stripeAccount: number;
};

const RECORD_CHARGE_ON_ACTIVE_CARD = `with known as (select ${CHARGE_COLUMNS} from charges where owner_id = ? and reference = ?),
card as (select id, customer_id, payment_method_id from cards where owner_id = ? and stripe_account = ? and customer_ref = ? and active limit 1),
inserted as (
  insert into charges (channel, reference, request_fingerprint, owner_id, stripe_account, customer_ref, card_id, customer_id, payment_method_id,
    amount, currency, description, receipt_email, kind, status, next_check_at, created_at, updated_at)
  select ?, ?, ?, ?, ?, ?, card.id, card.customer_id, card.payment_method_id, ?, ?, ?, ?, 'payment', 'created', ?, ?, ?
  from card where not exists (select 1 from known)
  on conflict (owner_id, reference) do nothing
  returning ${CHARGE_COLUMNS}
)
select true as created, row_to_json(i) as charge from inserted i union all select false as created, row_to_json(k) as charge from known k`;

/**
 * One statement for a charge on the customer's active card: the owner's charge of this reference
 * if there is one (`created` false), else a new charge on the active card (`created` true).
 * Undefined when neither: no active card, or a parallel request recorded the reference after this
 * statement's snapshot was taken; the caller then takes the longer way (insertChargeOnce).
 */
export async function recordChargeOnActiveCard(db: Knex, c: NewChargeOnActiveCard): Promise<{ charge: Charge; created: boolean } | undefined> {
  const result = await directRaw(db, RECORD_CHARGE_ON_ACTIVE_CARD, [
    c.ownerId,
    c.reference,
    c.ownerId,
    c.stripeAccount,
    c.customerRef,
    c.channel,
    c.reference,
    c.requestFingerprint,
    c.ownerId,
    c.stripeAccount,
    c.customerRef,
    c.amount,
    c.currency,
    c.description ?? null,
    c.receiptEmail ?? null,
    c.nextCheckAt,
    c.now,
    c.now,
  ]);
  const row = (result.rows as { created: boolean; charge: unknown }[])[0];
  return row ? { charge: toCharge(fromJsonColumn<ChargeRow>(row.charge)), created: row.created } : undefined;
}

export async function findChargeByReference(db: Knex | Knex.Transaction, ownerId: string, reference: string): Promise<Charge | undefined> {
  const row = await db<ChargeRow>('charges').where({ owner_id: ownerId, reference }).first();
  return row ? toCharge(row) : undefined;
}

export async function findCharge(db: Knex | Knex.Transaction, id: number, options: { forUpdate?: boolean } = {}): Promise<Charge | undefined> {
  const query = db<ChargeRow>('charges').where({ id }).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toCharge(row) : undefined;
}

/** A Stripe account's charge of a PaymentIntent as a scalar subquery (one jsonb or null), for a statement that does more. */
export const chargeByPaymentIntentQuery = (stripeAccount: number, paymentIntentId: string) => ({
  sql: 'select to_jsonb(c) from charges c where c.stripe_account = ? and c.payment_intent_id = ? limit 1',
  bindings: [stripeAccount, paymentIntentId],
  parse: (json: unknown): Charge => toCharge(json as ChargeRow),
});

export async function findChargeByPaymentIntent(db: Knex | Knex.Transaction, scope: RowScope, paymentIntentId: string): Promise<Charge | undefined> {
  const row = await db<ChargeRow>('charges')
    .where({ ...scopeColumns(scope), payment_intent_id: paymentIntentId })
    .first();
  return row ? toCharge(row) : undefined;
}

export async function findChargeByAuthToken(db: Knex | Knex.Transaction, token: string): Promise<Charge | undefined> {
  const row = await db<ChargeRow>('charges').where({ auth_token: token }).first();
  return row ? toCharge(row) : undefined;
}

export interface ChargeUpdate {
  status: ChargeStatus;
  paymentIntentId?: string;
  failureCode?: string | null;
  failureMessage?: string | null;
  authToken?: string | null;
  succeededAt?: Date | null;
  nextCheckAt?: Date | null;
}

const updateColumns = (u: ChargeUpdate, now: Date) => ({
  status: u.status,
  ...(u.paymentIntentId !== undefined ? { payment_intent_id: u.paymentIntentId } : {}),
  ...(u.failureCode !== undefined ? { failure_code: u.failureCode } : {}),
  ...(u.failureMessage !== undefined ? { failure_message: u.failureMessage } : {}),
  ...(u.authToken !== undefined ? { auth_token: u.authToken } : {}),
  ...(u.succeededAt !== undefined ? { succeeded_at: u.succeededAt } : {}),
  ...(u.nextCheckAt !== undefined ? { next_check_at: u.nextCheckAt } : {}),
  updated_at: now,
});

export async function updateCharge(trx: Knex | Knex.Transaction, id: number, u: ChargeUpdate, now: Date): Promise<void> {
  await trx('charges').where({ id }).update(updateColumns(u, now));
}

/** updateChargeIfUnmoved's text for `count` columns set (the columns' names are bindings). */
const compareAndSetStatement = textPerShape(
  (count: number) => `with moved as (
  update charges set ${Array.from({ length: count }, () => '?? = ?').join(', ')}
  where id = ? and status = ?
    and payment_intent_id is not distinct from ? and auth_token is not distinct from ? and succeeded_at is not distinct from ?
  returning ${CHARGE_COLUMNS}
)
select row_to_json(m) as charge from moved m`,
);

/**
 * Writes `u` only if the charge still has the status and PaymentIntent it had when read
 * (compare-and-set): the moved row, or undefined when someone moved it meanwhile.
 */
export async function updateChargeIfUnmoved(db: Knex | Knex.Transaction, asRead: Charge, u: ChargeUpdate, now: Date): Promise<Charge | undefined> {
  const columns = Object.entries(updateColumns(u, now));
  const result = await directRaw(
    db,
    compareAndSetStatement(columns.length),
    // Everything the decision read that a writer can change: the update is made on exactly that row.
    [...columns.flat(), asRead.id, asRead.status, asRead.paymentIntentId, asRead.authToken, asRead.succeededAt],
  );
  const rows = result.rows as { charge: unknown }[];
  return rows.length > 0 ? toCharge(fromJsonColumn<ChargeRow>(rows[0].charge)) : undefined;
}

/**
 * Records a charge as failed only while it is still unsubmitted: a concurrent answer, webhook or
 * reconciler that bound it to a PaymentIntent wins.
 */
export async function failUnsubmittedCharge(db: Knex | Knex.Transaction, id: number, code: string, message: string, now: Date): Promise<Charge | undefined> {
  const rows = await db('charges')
    .where({ id, status: 'created' })
    .whereNull('payment_intent_id')
    .update({ status: 'failed', failure_code: code, failure_message: message, next_check_at: null, updated_at: now })
    .returning('*');
  return rows.length > 0 ? toCharge(rows[0] as ChargeRow) : undefined;
}

/** Counts an on-session confirmation attempt once it was sent (the next attempt gets a new key). */
export async function countAuthAttempt(db: Knex | Knex.Transaction, id: number, attempt: number): Promise<void> {
  await db('charges')
    .where({ id, auth_attempts: attempt })
    .update({ auth_attempts: attempt + 1 });
}
