import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';
import { scopeColumns, type Channel, type RowScope } from './charge-repository';

import type { RefundStatus } from './states';

export type { RefundStatus };

export interface Refund {
  id: number;
  chargeId: number;
  ownerId: string;
  stripeAccount: number;
  channel: Channel | null;
  reference: string | null;
  requestFingerprint: string | null;
  amount: number;
  stripeRefundId: string | null;
  status: RefundStatus;
  failureReason: string | null;
  /** Why the refund was made, as its requester (or Stripe, for a Dashboard refund) said. */
  reason: string | null;
  createdAt: Date;
}

interface RefundRow {
  id: unknown;
  charge_id: unknown;
  owner_id: string;
  stripe_account: unknown;
  channel: Channel | null;
  reference: string | null;
  request_fingerprint: string | null;
  amount: unknown;
  stripe_refund_id: string | null;
  status: RefundStatus;
  failure_reason: string | null;
  reason: string | null;
  created_at: Date | string;
}

const toRefund = (row: RefundRow): Refund => ({
  id: toSafeInt(row.id),
  chargeId: toSafeInt(row.charge_id),
  ownerId: row.owner_id,
  stripeAccount: toSafeInt(row.stripe_account),
  channel: row.channel,
  reference: row.reference,
  requestFingerprint: row.request_fingerprint,
  amount: toSafeInt(row.amount),
  stripeRefundId: row.stripe_refund_id,
  status: row.status,
  failureReason: row.failure_reason,
  reason: row.reason ?? null,
  createdAt: toDate(row.created_at),
});

/** Refunds that still hold (or have used) part of the charge: everything but failed and canceled. */
const RESERVING: RefundStatus[] = ['created', 'pending', 'requires_action', 'succeeded'];

/** The part of a charge already refunded or reserved by a refund in flight. */
export async function reservedRefundAmount(trx: Knex.Transaction, chargeId: number): Promise<number> {
  const row = await trx('refunds').where({ charge_id: chargeId }).whereIn('status', RESERVING).sum({ total: 'amount' }).first();
  return row?.total == null ? 0 : toSafeInt(row.total);
}

export interface NewRefund {
  chargeId: number;
  ownerId: string;
  stripeAccount: number;
  channel: Channel | null;
  reference: string | null;
  requestFingerprint: string | null;
  amount: number;
  status: RefundStatus;
  stripeRefundId?: string;
  reason?: string | null;
  nextCheckAt?: Date | null;
  now: Date;
}

export async function insertRefund(trx: Knex.Transaction, r: NewRefund): Promise<Refund> {
  const [row] = await trx('refunds')
    .insert({
      charge_id: r.chargeId,
      owner_id: r.ownerId,
      stripe_account: r.stripeAccount,
      channel: r.channel,
      reference: r.reference,
      request_fingerprint: r.requestFingerprint,
      amount: r.amount,
      status: r.status,
      stripe_refund_id: r.stripeRefundId ?? null,
      reason: r.reason ?? null,
      next_check_at: r.nextCheckAt ?? null,
      created_at: r.now,
      updated_at: r.now,
    })
    .returning('*');
  return toRefund(row as RefundRow);
}

export async function findRefund(db: Knex | Knex.Transaction, id: number, options: { forUpdate?: boolean } = {}): Promise<Refund | undefined> {
  const query = db<RefundRow>('refunds').where({ id }).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toRefund(row) : undefined;
}

export async function findRefundByReference(db: Knex | Knex.Transaction, ownerId: string, reference: string): Promise<Refund | undefined> {
  const row = await db<RefundRow>('refunds').where({ owner_id: ownerId, reference }).first();
  return row ? toRefund(row) : undefined;
}

export async function findRefundByStripeId(db: Knex | Knex.Transaction, scope: RowScope, stripeRefundId: string): Promise<Refund | undefined> {
  const row = await db<RefundRow>('refunds')
    .where({ ...scopeColumns(scope), stripe_refund_id: stripeRefundId })
    .first();
  return row ? toRefund(row) : undefined;
}

/** Records a refund as failed only while Stripe has not answered for it (see failUnsubmittedCharge). */
export async function failUnsubmittedRefund(db: Knex | Knex.Transaction, id: number, reason: string, now: Date): Promise<Refund | undefined> {
  const rows = await db('refunds')
    .where({ id, status: 'created' })
    .whereNull('stripe_refund_id')
    .update({ status: 'failed', failure_reason: reason, next_check_at: null, updated_at: now })
    .returning('*');
  return rows.length > 0 ? toRefund(rows[0] as RefundRow) : undefined;
}

export async function updateRefund(
  db: Knex | Knex.Transaction,
  id: number,
  u: { status: RefundStatus; stripeRefundId?: string; failureReason?: string | null; nextCheckAt?: Date | null },
  now: Date,
): Promise<void> {
  await db('refunds')
    .where({ id })
    .update({
      status: u.status,
      ...(u.stripeRefundId !== undefined ? { stripe_refund_id: u.stripeRefundId } : {}),
      ...(u.failureReason !== undefined ? { failure_reason: u.failureReason } : {}),
      ...(u.nextCheckAt !== undefined ? { next_check_at: u.nextCheckAt } : {}),
      updated_at: now,
    });
}

/** A charge's refunds, oldest first (ours and those made at Stripe directly). */
export async function findRefundsOfCharge(db: Knex | Knex.Transaction, chargeId: number): Promise<Refund[]> {
  return (await db<RefundRow>('refunds').where({ charge_id: chargeId }).orderBy('id')).map(toRefund);
}
