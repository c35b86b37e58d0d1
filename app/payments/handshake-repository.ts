import type { Knex } from 'knex';
import { toDate } from '../db';
import { nextHandshakeCheck } from './schedule';
import { customerColumns, customerKeyOf, type CustomerKey } from './customer-key';

/** The card-setup attempt the customer carries back as `txId` (BillRun's creditproxy row). */
import type { HandshakeState } from './states';

export type { HandshakeState };
export type HandshakeFlow = 'iframe' | 'redirect' | 'custom';

export interface Handshake extends CustomerKey {
  txId: string;
  instanceName: string;
  flow: HandshakeFlow;
  requestT: string;
  customerId: string;
  checkoutSessionId: string | null;
  setupIntentId: string | null;
  okPage: string | null;
  failPage: string | null;
  returnUrl: string;
  /** Hash of the browser session that started a redirect flow. */
  browserBinding: string | null;
  /** The card this handshake saved, once completed. */
  paymentMethodId: string | null;
  state: HandshakeState;
  failureReason: string | null;
  expiresAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface HandshakeRow {
  tx_id: string;
  owner_id: string;
  stripe_account: unknown;
  customer_ref: string;
  instance_name: string;
  flow: HandshakeFlow;
  request_t: string;
  customer_id: string;
  checkout_session_id: string | null;
  setup_intent_id: string | null;
  ok_page: string | null;
  fail_page: string | null;
  return_url: string;
  browser_binding: string | null;
  payment_method_id: string | null;
  state: HandshakeState;
  failure_reason: string | null;
  expires_at: Date | string | null;
  created_at: Date | string;
  finished_at: Date | string | null;
}

const toDateOrNull = (v: Date | string | null): Date | null => (v === null ? null : toDate(v));

const toHandshake = (row: HandshakeRow): Handshake => ({
  txId: row.tx_id,
  ...customerKeyOf(row),
  instanceName: row.instance_name,
  flow: row.flow,
  requestT: row.request_t,
  customerId: row.customer_id,
  checkoutSessionId: row.checkout_session_id,
  setupIntentId: row.setup_intent_id,
  okPage: row.ok_page,
  failPage: row.fail_page,
  returnUrl: row.return_url,
  browserBinding: row.browser_binding,
  paymentMethodId: row.payment_method_id,
  state: row.state,
  failureReason: row.failure_reason,
  expiresAt: toDateOrNull(row.expires_at),
  createdAt: toDate(row.created_at),
  finishedAt: toDateOrNull(row.finished_at),
});

export interface NewHandshake extends CustomerKey {
  txId: string;
  instanceName: string;
  flow: HandshakeFlow;
  requestT: string;
  customerId: string;
  okPage: string | null;
  failPage: string | null;
  returnUrl: string;
  browserBinding: string | null;
  createdAt: Date;
}

export async function insertHandshake(db: Knex, h: NewHandshake): Promise<void> {
  await db('handshakes').insert({
    tx_id: h.txId,
    ...customerColumns(h),
    instance_name: h.instanceName,
    flow: h.flow,
    request_t: h.requestT,
    customer_id: h.customerId,
    ok_page: h.okPage,
    fail_page: h.failPage,
    return_url: h.returnUrl,
    browser_binding: h.browserBinding,
    state: 'creating',
    next_check_at: nextHandshakeCheck('creating', h.createdAt),
    created_at: h.createdAt,
    updated_at: h.createdAt,
  });
}

export async function findHandshake(db: Knex | Knex.Transaction, txId: string, options: { forUpdate?: boolean } = {}): Promise<Handshake | undefined> {
  const query = db<HandshakeRow>('handshakes').where({ tx_id: txId }).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toHandshake(row) : undefined;
}

export async function findHandshakeByStripeId(db: Knex | Knex.Transaction, stripeAccount: number, stripeId: string): Promise<Handshake | undefined> {
  const column = stripeId.startsWith('seti_') ? 'setup_intent_id' : 'checkout_session_id';
  const row = await db<HandshakeRow>('handshakes')
    .where({ stripe_account: stripeAccount, [column]: stripeId })
    .first();
  return row ? toHandshake(row) : undefined;
}

/** The Stripe object now exists: the handshake waits for the customer. */
export async function markHandshakeOpen(
  db: Knex,
  txId: string,
  stripeIds: { checkoutSessionId?: string; setupIntentId?: string },
  expiresAt: Date | null,
  now: Date,
): Promise<void> {
  await db('handshakes')
    .where({ tx_id: txId, state: 'creating' })
    .update({
      checkout_session_id: stripeIds.checkoutSessionId ?? null,
      setup_intent_id: stripeIds.setupIntentId ?? null,
      expires_at: expiresAt,
      state: 'open',
      next_check_at: nextHandshakeCheck('open', now, now, expiresAt),
      updated_at: now,
    });
}

/**
 * Moves a handshake to a final state. Only from a non-final state (or from a locally presumed
 * `expired`, which Stripe's own answer may overrule), so a completed handshake never changes.
 */
export async function finishHandshake(
  db: Knex | Knex.Transaction,
  txId: string,
  state: Exclude<HandshakeState, 'creating' | 'open' | 'completed'>,
  now: Date,
  failureReason: string | null = null,
): Promise<boolean> {
  const updated = await db('handshakes')
    .where({ tx_id: txId })
    .whereIn('state', ['creating', 'open'])
    .update({ state, failure_reason: failureReason, finished_at: now, updated_at: now, next_check_at: null });
  return updated > 0;
}

/** The handshake saved this card. Also from a locally presumed `expired`, which Stripe overrules. */
export async function completeHandshake(db: Knex | Knex.Transaction, txId: string, paymentMethodId: string, now: Date): Promise<boolean> {
  const updated = await db('handshakes')
    .where({ tx_id: txId })
    .whereIn('state', ['creating', 'open', 'expired'])
    .update({ state: 'completed', payment_method_id: paymentMethodId, failure_reason: null, finished_at: now, updated_at: now, next_check_at: null });
  return updated > 0;
}

/** Still waiting on the customer: look again later, the longer the older the setup is. */
export async function scheduleHandshakeCheck(
  db: Knex | Knex.Transaction,
  handshake: Pick<Handshake, 'txId' | 'createdAt' | 'expiresAt'>,
  now: Date,
): Promise<void> {
  await db('handshakes')
    .where({ tx_id: handshake.txId })
    .whereIn('state', ['creating', 'open'])
    .update({ next_check_at: nextHandshakeCheck('open', now, handshake.createdAt, handshake.expiresAt) });
}

/** The customer's card setups not finished yet, most recent first. */
export async function findUnfinishedHandshakes(db: Knex | Knex.Transaction, key: CustomerKey, limit: number): Promise<Handshake[]> {
  const rows = await db<HandshakeRow>('handshakes')
    .where(customerColumns(key))
    .whereIn('state', ['creating', 'open'])
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'tx_id', order: 'desc' },
    ])
    .limit(limit);
  return rows.map(toHandshake);
}
