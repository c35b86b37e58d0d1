import type { Knex } from 'knex';
import { columnList, directRaw, fromJsonColumn, textPerShape, toDate, toSafeInt } from '../db';
import { nextCardSetupCheck } from './schedule';
import { customerColumns, customerKeyOf, type CustomerKey } from './customer-key';
import type { CardSetupState } from './states';

export type { CardSetupState };

/** A customer saving a card at Stripe: a setup-mode Checkout session or a SetupIntent, and its outcome. */
export interface CardSetup extends CustomerKey {
  id: number;
  /** The Stripe customer the card is saved for. */
  customerId: string;
  checkoutSessionId: string | null;
  setupIntentId: string | null;
  /** The card this setup saved, once completed. */
  paymentMethodId: string | null;
  state: CardSetupState;
  failureReason: string | null;
  expiresAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface CardSetupRow {
  id: unknown;
  owner_id: string;
  stripe_account: unknown;
  customer_ref: string;
  customer_id: string;
  checkout_session_id: string | null;
  setup_intent_id: string | null;
  payment_method_id: string | null;
  state: CardSetupState;
  failure_reason: string | null;
  expires_at: Date | string | null;
  created_at: Date | string;
  finished_at: Date | string | null;
}

/** The columns a CardSetup is made of, for the hot statements (next_check_at, updated_at, ... are not parsed). */
const CARD_SETUP_COLUMNS = columnList<CardSetupRow>()([
  'id',
  'owner_id',
  'stripe_account',
  'customer_ref',
  'customer_id',
  'checkout_session_id',
  'setup_intent_id',
  'payment_method_id',
  'state',
  'failure_reason',
  'expires_at',
  'created_at',
  'finished_at',
]);

const toDateOrNull = (v: Date | string | null): Date | null => (v === null ? null : toDate(v));

const toCardSetup = (row: CardSetupRow): CardSetup => ({
  id: toSafeInt(row.id),
  ...customerKeyOf(row),
  customerId: row.customer_id,
  checkoutSessionId: row.checkout_session_id,
  setupIntentId: row.setup_intent_id,
  paymentMethodId: row.payment_method_id,
  state: row.state,
  failureReason: row.failure_reason,
  expiresAt: toDateOrNull(row.expires_at),
  createdAt: toDate(row.created_at),
  finishedAt: toDateOrNull(row.finished_at),
});

/** The owner's own row for a card setup, recorded in the same statement: its columns and the one that names the setup. */
export interface AttachedRow {
  table: string;
  columns: Record<string, Knex.Value>;
  setupIdColumn: string;
}

/** A card setup's id, taken before its Stripe side exists, and the customer's Stripe customer in this account (null: none yet). */
export interface ReservedCardSetup {
  id: number;
  stripeCustomerId: string | null;
}

const RESERVE_CARD_SETUP = `select nextval('card_setups_id_seq') as id,
  (select stripe_customer_id from customers where owner_id = ? and stripe_account = ? and external_ref = ?) as stripe_customer_id`;

/**
 * One statement before a card setup's Stripe side is made: the setup's id (for the Stripe
 * objects' metadata and idempotency keys) and the customer's mapped Stripe customer.
 */
export async function reserveCardSetup(db: Knex, key: CustomerKey): Promise<ReservedCardSetup> {
  const result = await directRaw(db, RESERVE_CARD_SETUP, [key.ownerId, key.stripeAccount, key.customerRef]);
  const row = (result.rows as { id: unknown; stripe_customer_id: string | null }[])[0];
  return { id: toSafeInt(row.id), stripeCustomerId: row.stripe_customer_id };
}

/** A card setup whose Stripe side was made (`open`), or could not be (`failed`), to be recorded. */
export interface StartedCardSetup extends CustomerKey {
  id: number;
  /** The Stripe customer its Stripe side was made for. */
  customerId: string;
  /** That Stripe customer was made for this setup: its mapping is recorded with it. */
  newCustomer?: { email: string | null };
  checkoutSessionId?: string;
  setupIntentId?: string;
  state: 'open' | 'failed';
  failureReason?: string;
  expiresAt: Date | null;
  createdAt: Date;
}

/**
 * The text of recordStartedCardSetup's statement, made once per shape (with or without a new
 * mapping, the number of attached columns) and then the same string: a text built on each call
 * is hashed anew by every lookup on the way (compiled texts, prepared statement names).
 */
const startedSetupStatement = textPerShape((newCustomer: boolean) =>
  // The attached row's number of columns, undefined when nothing is attached.
  textPerShape((attachedColumns: number | undefined) => {
    const placeholders = (mark: string) => Array.from({ length: attachedColumns ?? 0 }, () => mark).join(', ');
    // The customer's Stripe customer as committed when this statement writes: a new mapping, or the
    // one a parallel request committed first (DO UPDATE waits for it and returns it, where DO NOTHING
    // would leave it out of this statement's snapshot); a known mapping locked as it now stands
    // (FOR KEY SHARE waits for a replacement in flight and reads the replaced row).
    const customer = newCustomer
      ? `insert into customers (owner_id, stripe_account, external_ref, stripe_customer_id, email) values (?, ?, ?, ?, ?)
  on conflict (owner_id, stripe_account, external_ref) do update set stripe_customer_id = customers.stripe_customer_id returning stripe_customer_id`
      : 'select stripe_customer_id from customers where owner_id = ? and stripe_account = ? and external_ref = ? for key share';
    const attachedCte =
      attachedColumns === undefined
        ? ''
        : `, attached as (insert into ?? (${placeholders('??')}, ??) select ${placeholders('?')}, setup.id from setup returning 1)`;
    return `with customer as (${customer}),
setup as (
  insert into card_setups (id, owner_id, stripe_account, customer_ref, customer_id, checkout_session_id, setup_intent_id, state, failure_reason,
    expires_at, next_check_at, created_at, updated_at, finished_at)
  select ?, ?, ?, ?, customer.stripe_customer_id, ?, ?, ?, ?, ?, ?, ?, ?, ? from customer where customer.stripe_customer_id = ? limit 1
  returning ${CARD_SETUP_COLUMNS}
)${attachedCte}
select (select row_to_json(s) from setup s) as setup, (select stripe_customer_id from customer limit 1) as mapped`;
  }),
);

/**
 * One statement once a card setup's Stripe side was made: the new customer's mapping (when its
 * Stripe customer was made for it), the setup, and `attach` (the owner's row naming the setup),
 * all or nothing. Only for the Stripe customer the Stripe side was made for: no setup (and no
 * change but a new version of the customer row, when its mapping was inserted by a parallel first
 * request), when the customer is mapped to another one (that request mapped its own, or the
 * mapping was replaced meanwhile); `mapped` is the mapping that holds (null: none).
 */
export async function recordStartedCardSetup(db: Knex, setup: StartedCardSetup, attach?: AttachedRow): Promise<{ setup?: CardSetup; mapped: string | null }> {
  const key = [setup.ownerId, setup.stripeAccount, setup.customerRef];
  const finishedAt = setup.state === 'failed' ? setup.createdAt : null;
  const attachedColumns = attach ? Object.keys(attach.columns) : [];
  const result = await directRaw(db, startedSetupStatement(setup.newCustomer !== undefined)(attach ? attachedColumns.length : undefined), [
    ...(setup.newCustomer ? [...key, setup.customerId, setup.newCustomer.email] : key),
    setup.id,
    ...key,
    setup.checkoutSessionId ?? null,
    setup.setupIntentId ?? null,
    setup.state,
    setup.failureReason ?? null,
    setup.expiresAt,
    nextCardSetupCheck(setup.state, setup.createdAt, setup.createdAt, setup.expiresAt),
    setup.createdAt,
    setup.createdAt,
    finishedAt,
    setup.customerId,
    ...(attach ? [attach.table, ...attachedColumns, attach.setupIdColumn, ...attachedColumns.map((c) => attach.columns[c])] : []),
  ]);
  const [row] = result.rows as { setup: unknown; mapped: string | null }[];
  return { setup: row.setup === null ? undefined : toCardSetup(fromJsonColumn<CardSetupRow>(row.setup)), mapped: row.mapped };
}

export async function findCardSetup(db: Knex | Knex.Transaction, id: number, options: { forUpdate?: boolean } = {}): Promise<CardSetup | undefined> {
  const query = db<CardSetupRow>('card_setups').where({ id }).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toCardSetup(row) : undefined;
}

/**
 * An owner's row that names a card setup (looked up by its own key), with that card setup, in
 * one statement. Undefined when there is no such row, or its setup is another owner's.
 */
export async function findAttachedRowWithCardSetup(
  db: Knex,
  ownerId: string,
  attached: { table: string; keyColumn: string; key: string; setupIdColumn: string },
): Promise<{ row: Record<string, unknown>; setup: CardSetup } | undefined> {
  const result = await directRaw(
    db,
    'select to_jsonb(a) as attached, to_jsonb(s) as setup from ?? a join card_setups s on s.id = a.?? where a.?? = ? and s.owner_id = ? limit 1',
    [attached.table, attached.setupIdColumn, attached.keyColumn, attached.key, ownerId],
  );
  const found = (result.rows as { attached: unknown; setup: unknown }[])[0];
  if (!found) return undefined;
  return { row: fromJsonColumn<Record<string, unknown>>(found.attached), setup: toCardSetup(fromJsonColumn<CardSetupRow>(found.setup)) };
}

/** An owner's card setup: another owner's id finds nothing. */
export async function findOwnedCardSetup(db: Knex | Knex.Transaction, ownerId: string, id: number): Promise<CardSetup | undefined> {
  const row = await db<CardSetupRow>('card_setups').where({ id, owner_id: ownerId }).first();
  return row ? toCardSetup(row) : undefined;
}

const stripeIdColumn = (stripeId: string) => (stripeId.startsWith('seti_') ? 'setup_intent_id' : 'checkout_session_id');

/** findCardSetupByStripeId as a scalar subquery (one jsonb or null), for a statement that does more. */
export const cardSetupByStripeIdQuery = (stripeAccount: number, stripeId: string) => ({
  sql: `select to_jsonb(s) from card_setups s where s.stripe_account = ? and s.${stripeIdColumn(stripeId)} = ? limit 1`,
  bindings: [stripeAccount, stripeId],
  parse: (json: unknown): CardSetup => toCardSetup(json as CardSetupRow),
});

export async function findCardSetupByStripeId(db: Knex | Knex.Transaction, stripeAccount: number, stripeId: string): Promise<CardSetup | undefined> {
  const column = stripeIdColumn(stripeId);
  const row = await db<CardSetupRow>('card_setups')
    .where({ stripe_account: stripeAccount, [column]: stripeId })
    .first();
  return row ? toCardSetup(row) : undefined;
}

/**
 * Moves a setup to a final state. Only from a non-final state (or from a locally presumed
 * `expired`, which Stripe's own answer may overrule), so a completed setup never changes.
 */
export async function finishCardSetup(
  db: Knex | Knex.Transaction,
  id: number,
  state: Exclude<CardSetupState, 'creating' | 'open' | 'completed'>,
  now: Date,
  failureReason: string | null = null,
): Promise<boolean> {
  const updated = await db('card_setups')
    .where({ id })
    .whereIn('state', ['creating', 'open'])
    .update({ state, failure_reason: failureReason, finished_at: now, updated_at: now, next_check_at: null });
  return updated > 0;
}

/** The setup saved this card. Also from a locally presumed `expired`, which Stripe overrules. */
export async function completeCardSetup(db: Knex | Knex.Transaction, id: number, paymentMethodId: string, now: Date): Promise<boolean> {
  const updated = await db('card_setups')
    .where({ id })
    .whereIn('state', ['creating', 'open', 'expired'])
    .update({ state: 'completed', payment_method_id: paymentMethodId, failure_reason: null, finished_at: now, updated_at: now, next_check_at: null });
  return updated > 0;
}

/** Still waiting on the customer: look again later, the longer the older the setup is. */
export async function scheduleCardSetupCheck(db: Knex | Knex.Transaction, setup: Pick<CardSetup, 'id' | 'createdAt' | 'expiresAt'>, now: Date): Promise<void> {
  await db('card_setups')
    .where({ id: setup.id })
    .whereIn('state', ['creating', 'open'])
    .update({ next_check_at: nextCardSetupCheck('open', now, setup.createdAt, setup.expiresAt) });
}

/** The customer's card setups not finished yet, most recent first. */
export async function findUnfinishedCardSetups(db: Knex | Knex.Transaction, key: CustomerKey, limit: number): Promise<CardSetup[]> {
  const rows = await db<CardSetupRow>('card_setups')
    .where(customerColumns(key))
    .whereIn('state', ['creating', 'open'])
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit);
  return rows.map(toCardSetup);
}
