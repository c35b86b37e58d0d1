import type { Db } from '../db';

/**
 * What the console shows, read straight from the tables (read-only: every change goes through the
 * payments core or the Hub). Card data is brand and last 4 only: nothing else is stored anyway.
 */

type Row = Record<string, unknown>;
const LIST_LIMIT = 100;
/** A Stripe event still unprocessed after this long is an operator's to look at (Stripe retries it meanwhile). */
const EVENT_STUCK_MS = 5 * 60_000;

export interface StatusCount {
  status: string;
  count: number;
}

const counts = (rows: Row[]): StatusCount[] => rows.map((r) => ({ status: String(r.status), count: Number(r.count) }));

const countBy = async (db: Db, table: string, column: string): Promise<StatusCount[]> =>
  counts(
    await db(table)
      .select(db.raw('?? AS status', [column]))
      .count('* as count')
      .groupBy(column)
      .orderBy(column),
  );

const ageMs = (now: Date, value: unknown): number | null => (value == null ? null : now.getTime() - new Date(value as string).getTime());

export interface Overview {
  cardSetups: StatusCount[];
  charges: StatusCount[];
  refunds: StatusCount[];
  hubTransactions: StatusCount[];
  deliveries: StatusCount[];
  stripeEvents: StatusCount[];
  needOperator: {
    cardSetups: Row[];
    charges: Row[];
    refunds: Row[];
    deliveries: Row[];
    stripeEvents: Row[];
  };
  lag: {
    /** How long the most overdue unsettled row has waited for the reconciler. */
    reconcilerMs: number | null;
    /** Rows the reconciler should have looked at by now. */
    reconcilerDue: number;
    /** The oldest Stripe event not processed yet. */
    stripeEventsMs: number | null;
    lastStripeEventAgoMs: number | null;
    /** The oldest merchant webhook delivery or status change waiting to be sent. */
    merchantWebhooksMs: number | null;
  };
}

const UNSETTLED = new Map([
  ['card_setups', { column: 'state', values: ['creating', 'open'] }],
  ['charges', { column: 'status', values: ['created', 'requires_action', 'processing'] }],
  ['refunds', { column: 'status', values: ['created', 'pending', 'requires_action'] }],
]);

export async function readOverview(db: Db, now: Date, alertFailures: number): Promise<Overview> {
  const flagged = (table: string, columns: string[]) =>
    db(table).where('check_failures', '>=', alertFailures).orderBy('id', 'desc').limit(LIST_LIMIT).select(columns);
  let reconcilerMs: number | null = null;
  let reconcilerDue = 0;
  for (const [table, unsettled] of UNSETTLED) {
    const row = await db(table)
      .whereIn(unsettled.column, unsettled.values)
      .where('next_check_at', '<=', now)
      .first(db.raw('min(next_check_at) AS oldest'), db.raw('count(*) AS due'));
    reconcilerDue += Number(row?.due ?? 0);
    const age = ageMs(now, row?.oldest);
    if (age !== null && (reconcilerMs === null || age > reconcilerMs)) reconcilerMs = age;
  }
  const oldestEvent = await db('stripe_events').whereNull('processed_at').first(db.raw('min(received_at) AS oldest'));
  const lastEvent = await db('stripe_events').first(db.raw('max(received_at) AS latest'));
  const oldestDelivery = await db('hub_webhook_deliveries')
    .where({ state: 'pending' })
    .where('next_check_at', '<=', now)
    .first(db.raw('min(created_at) AS oldest'));
  const oldestSignal = await db('payment_events').where({ state: 'new' }).whereNot({ status: 'created' }).first(db.raw('min(created_at) AS oldest'));
  const merchantAges = [ageMs(now, oldestDelivery?.oldest), ageMs(now, oldestSignal?.oldest)].filter((a): a is number => a !== null);
  return {
    cardSetups: await countBy(db, 'card_setups', 'state'),
    charges: await countBy(db, 'charges', 'status'),
    refunds: await countBy(db, 'refunds', 'status'),
    hubTransactions: counts(
      await db('hub_transactions as t')
        .leftJoin('charges as c', 'c.id', 't.charge_id')
        .select(db.raw("coalesce(c.status, 'no charge') AS status"))
        .count('* as count')
        .groupBy(db.raw('1'))
        .orderBy('status'),
    ),
    deliveries: await countBy(db, 'hub_webhook_deliveries', 'state'),
    stripeEvents: counts(
      await db('stripe_events')
        .select(db.raw("CASE WHEN processed_at IS NULL THEN 'not processed' ELSE 'processed' END AS status"))
        .count('* as count')
        .groupBy(db.raw('1'))
        .orderBy('status'),
    ),
    needOperator: {
      cardSetups: await flagged('card_setups', ['id', 'owner_id', 'customer_ref', 'state', 'check_failures', 'next_check_at']),
      charges: await flagged('charges', ['id', 'owner_id', 'reference', 'status', 'check_failures', 'next_check_at']),
      refunds: await flagged('refunds', ['id', 'charge_id', 'reference', 'status', 'check_failures', 'next_check_at']),
      deliveries: await db('hub_webhook_deliveries')
        .where({ state: 'failed' })
        .orderBy('id', 'desc')
        .limit(LIST_LIMIT)
        .select('id', 'owner_id', 'event_type', 'attempts', 'last_status', 'last_error'),
      stripeEvents: await db('stripe_events')
        .whereNull('processed_at')
        .where('received_at', '<=', new Date(now.getTime() - EVENT_STUCK_MS))
        .orderBy('received_at')
        .limit(LIST_LIMIT)
        .select('id', 'type', 'object_id', 'deliveries', 'received_at'),
    },
    lag: {
      reconcilerMs,
      reconcilerDue,
      stripeEventsMs: ageMs(now, oldestEvent?.oldest),
      lastStripeEventAgoMs: ageMs(now, lastEvent?.latest),
      merchantWebhooksMs: merchantAges.length ? Math.max(...merchantAges) : null,
    },
  };
}

/** Charges with their card (brand, last 4) and Hub transaction, newest first. */
const chargeRows = (db: Db) =>
  db('charges as c')
    .leftJoin('cards as k', 'k.id', 'c.card_id')
    .leftJoin('hub_transactions as t', 't.charge_id', 'c.id')
    .select(
      'c.id',
      'c.owner_id',
      'c.channel',
      'c.kind',
      'c.reference',
      'c.customer_ref',
      'c.amount',
      'c.currency',
      'c.status',
      'c.payment_intent_id',
      'c.failure_code',
      'c.failure_message',
      'c.check_failures',
      'c.next_check_at',
      'c.created_at',
      'c.updated_at',
      'c.succeeded_at',
      'c.stripe_account',
      'k.brand',
      'k.four_digits',
      't.merchant_ref_code',
      't.id as hub_transaction_id',
    )
    .orderBy('c.id', 'desc');

const cardSetupRows = (db: Db) =>
  db('card_setups as s')
    .leftJoin('handshakes as h', 'h.card_setup_id', 's.id')
    .leftJoin('cards as k', 'k.card_setup_id', 's.id')
    .select(
      's.id',
      's.owner_id',
      's.customer_ref',
      's.state',
      's.checkout_session_id',
      's.setup_intent_id',
      's.failure_reason',
      's.check_failures',
      's.next_check_at',
      's.created_at',
      's.finished_at',
      'h.tx_id',
      'k.brand',
      'k.four_digits',
    )
    .orderBy('s.id', 'desc');

const refundRows = (db: Db) =>
  db('refunds as r')
    .join('charges as c', 'c.id', 'r.charge_id')
    .select(
      'r.id',
      'r.charge_id',
      'r.reference',
      'r.amount',
      'c.currency',
      'r.status',
      'r.stripe_refund_id',
      'r.reason',
      'r.failure_reason',
      'r.check_failures',
      'r.created_at',
      'r.updated_at',
    );

export const listCharges = (db: Db, status?: string): Promise<Row[]> => (status ? chargeRows(db).where('c.status', status) : chargeRows(db)).limit(LIST_LIMIT);
export const listCardSetups = (db: Db, state?: string): Promise<Row[]> =>
  (state ? cardSetupRows(db).where('s.state', state) : cardSetupRows(db)).limit(LIST_LIMIT);
export const listStripeEvents = (db: Db): Promise<Row[]> => db('stripe_events').orderBy('received_at', 'desc').limit(LIST_LIMIT).select('*');
export const listActions = (db: Db): Promise<Row[]> => db('console_actions').orderBy('id', 'desc').limit(LIST_LIMIT).select('*');

const deliveryRows = (db: Db) =>
  db('hub_webhook_deliveries as d')
    // A 3-D Secure token's signal has a token and no transaction.
    .leftJoin('hub_transactions as t', 't.id', 'd.transaction_id')
    .select(
      'd.id',
      'd.owner_id',
      'd.webhook_id',
      'd.event_type',
      'd.url',
      'd.method',
      'd.state',
      'd.attempts',
      'd.last_status',
      'd.last_error',
      'd.created_at',
      'd.delivered_at',
      'd.token_id',
      't.merchant_ref_code',
      't.charge_id',
    )
    .orderBy('d.id', 'desc');

export const listDeliveries = (db: Db, state?: string): Promise<Row[]> =>
  (state ? deliveryRows(db).where('d.state', state) : deliveryRows(db)).limit(LIST_LIMIT);
export const findDeliveryOwner = async (db: Db, id: number): Promise<string | undefined> =>
  (await db('hub_webhook_deliveries').where({ id }).first('owner_id'))?.owner_id as string | undefined;

export interface SearchResult {
  charges: Row[];
  cardSetups: Row[];
  refunds: Row[];
}

const DIGITS = /^[0-9]{1,18}$/;
const TX_ID = /^[0-9]{19}$/;

/**
 * One box for everything an operator may hold: a BillRun aid (its customer's setups and charges),
 * a txId, a reference (BillRun's, or a refund's), a PaymentIntent or refund id, a merchant_ref_code.
 */
export async function search(db: Db, q: string): Promise<SearchResult> {
  const text = q.trim().slice(0, 255);
  if (text === '') return { charges: [], cardSetups: [], refunds: [] };
  const billrunAid = DIGITS.test(text);
  const charges = await chargeRows(db)
    .where((w) => {
      w.where('c.reference', text).orWhere('c.payment_intent_id', text).orWhere('t.merchant_ref_code', text);
      if (billrunAid) w.orWhere((a) => a.where('c.owner_id', 'billrun').where('c.customer_ref', text));
    })
    .limit(LIST_LIMIT);
  const cardSetups = await cardSetupRows(db)
    .where((w) => {
      w.where('s.checkout_session_id', text).orWhere('s.setup_intent_id', text);
      if (TX_ID.test(text)) w.orWhere('h.tx_id', text);
      if (billrunAid) w.orWhere((a) => a.where('s.owner_id', 'billrun').where('s.customer_ref', text));
    })
    .limit(LIST_LIMIT);
  const refunds = await refundRows(db)
    .where((w) => w.where('r.reference', text).orWhere('r.stripe_refund_id', text))
    .orderBy('r.id', 'desc')
    .limit(LIST_LIMIT);
  return { charges, cardSetups, refunds };
}

export interface ChargeDetail {
  charge: Row;
  refunds: Row[];
  paymentEvents: Row[];
  stripeEvents: Row[];
  deliveries: Row[];
  actions: Row[];
}

export async function readChargeDetail(db: Db, id: number): Promise<ChargeDetail | undefined> {
  const charge = await chargeRows(db).where('c.id', id).first();
  if (!charge) return undefined;
  const refunds = await refundRows(db).where('r.charge_id', id).orderBy('r.id');
  const refundIds = refunds.map((r) => Number(r.id));
  const paymentEvents = await db('payment_events')
    .where((w) => {
      w.where({ subject: 'charge', subject_id: id });
      if (refundIds.length) w.orWhere((r) => r.where('subject', 'refund').whereIn('subject_id', refundIds));
    })
    .orderBy('id')
    .select('id', 'subject', 'subject_id', 'status', 'state', 'created_at');
  const stripeIds = [charge.payment_intent_id, ...refunds.map((r) => r.stripe_refund_id)].filter((v): v is string => typeof v === 'string');
  const stripeEvents = stripeIds.length
    ? await db('stripe_events').where('stripe_account', charge.stripe_account).whereIn('object_id', stripeIds).orderBy('received_at').select('*')
    : [];
  const deliveries = charge.hub_transaction_id ? await deliveryRows(db).where('d.transaction_id', charge.hub_transaction_id).limit(LIST_LIMIT) : [];
  const actions = await db('console_actions')
    .where((w) => {
      w.where({ subject: 'charge', subject_id: String(id) });
      if (refundIds.length) w.orWhere((r) => r.where('subject', 'refund').whereIn('subject_id', refundIds.map(String)));
    })
    .orderBy('id')
    .select('*');
  return { charge, refunds, paymentEvents, stripeEvents, deliveries, actions };
}

export interface TimelineEntry {
  at: Date;
  what: string;
}

/** Everything known to have happened to a charge, oldest first. */
export function timeline(d: ChargeDetail): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const add = (at: unknown, what: string) => {
    if (at != null) entries.push({ at: new Date(at as string), what });
  };
  add(d.charge.created_at, `charge ${d.charge.id} recorded (${d.charge.kind}, ${d.charge.channel})`);
  add(d.charge.succeeded_at, 'charge succeeded');
  for (const r of d.refunds) add(r.created_at, `refund ${r.id} requested`);
  for (const e of d.paymentEvents) add(e.created_at, `${e.subject} ${e.subject_id} became ${e.status}`);
  for (const e of d.stripeEvents)
    add(e.received_at, `Stripe event ${e.type} received${e.processed_at ? `: ${e.outcome ?? 'processed'}` : ' (not processed yet)'}`);
  for (const w of d.deliveries) {
    add(w.created_at, `merchant webhook ${w.event_type} queued`);
    add(w.delivered_at, `merchant webhook ${w.event_type} delivered`);
  }
  for (const a of d.actions) add(a.created_at, `operator ${a.operator}: ${a.action}${a.detail ? ` (${a.detail})` : ''}`);
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime());
}
