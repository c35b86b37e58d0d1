import { createHash } from 'node:crypto';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction, isUniqueViolation } from '../db';
import { findCharge, findChargeByPaymentIntent, type Channel, type Charge } from './charge-repository';
import { formatMinor, toMinorUnits } from './money';
import { findRefundByReference, findRefundsOfCharge, insertRefund, reservedRefundAmount, type Refund } from './refund-repository';
import { submitRefund } from './refund-state';
import { nextRefundCheck } from './schedule';
import { syncRefundRow } from './stripe-sync';

export interface RefundRequest {
  /** Only this owner's charges can be refunded, whatever id is sent. */
  ownerId: string;
  channel: Channel;
  /** The caller's id for this refund: the same reference is refunded once. */
  reference: string;
  paymentIntentId: string;
  /** Major units as the caller sent them (converted in the charge's currency); absent = everything not yet refunded. */
  amount?: string | number;
  /** Why, in the requester's words (kept with the refund; never part of its idempotency). */
  reason?: string;
}

export interface RefundResult {
  refund: Refund;
  charge: Charge;
}

/**
 * Refunds a completed charge fully or partly. The amount is reserved under the charge's row lock
 * before Stripe hears of it, so concurrent refunds can never add up to more than was paid and
 * Stripe never sees an over-refund attempt.
 */
export async function refundCharge(deps: Deps, request: RefundRequest): Promise<RefundResult> {
  const charge = await findChargeByPaymentIntent(deps.db, { ownerId: request.ownerId }, request.paymentIntentId);
  if (!charge || charge.channel !== request.channel) throw new AppError('not_found', 'Unknown transaction_id');
  // Refunds have no minimum, only the charge as a maximum.
  const requested = request.amount === undefined ? undefined : toMinorUnits(request.amount, charge.currency, { enforceMinimum: false }).minor;
  const print = createHash('sha256')
    .update(JSON.stringify([request.paymentIntentId, requested ?? 'rest']))
    .digest('hex');

  const existing = await findRefundByReference(deps.db, request.ownerId, request.reference);
  if (existing) return replay(deps, existing, charge, print);
  if (charge.status !== 'succeeded') throw new AppError('invalid_input', 'Only a completed charge can be refunded', { code: 'charge_not_completed' });

  // A charge whose Stripe account has no key here cannot be refunded: say so before reserving.
  await deps.stripeAccounts.forAccount(charge.stripeAccount);
  const now = deps.clock.now();
  let refund: Refund;
  try {
    refund = await inTransaction(deps.db, async (trx) => {
      await findCharge(trx, charge.id, { forUpdate: true });
      const remaining = charge.amount - (await reservedRefundAmount(trx, charge.id));
      if (remaining <= 0) throw new AppError('conflict', 'The charge is already fully refunded', { code: 'already_refunded' });
      const amount = requested ?? remaining;
      if (amount > remaining) {
        throw new AppError(
          'conflict',
          `Refund of ${formatMinor(amount, charge.currency)} ${charge.currency} exceeds the refundable rest of ${formatMinor(remaining, charge.currency)} ${charge.currency}`,
          { code: 'amount_too_large' },
        );
      }
      const created = await insertRefund(trx, {
        chargeId: charge.id,
        ownerId: charge.ownerId,
        stripeAccount: charge.stripeAccount,
        channel: request.channel,
        reference: request.reference,
        requestFingerprint: print,
        amount,
        reason: request.reason ?? null,
        status: 'created',
        nextCheckAt: nextRefundCheck('created', now),
        now,
      });
      return created;
    });
  } catch (err) {
    // The same reference sent twice at once: the other request recorded it.
    if (!isUniqueViolation(err)) throw err;
    const winner = await findRefundByReference(deps.db, request.ownerId, request.reference);
    if (!winner) throw err;
    return replay(deps, winner, charge, print);
  }
  return { refund: await submitRefund(deps, refund, charge), charge };
}

async function replay(deps: Deps, refund: Refund, charge: Charge, print: string): Promise<RefundResult> {
  if (refund.requestFingerprint !== print)
    throw new AppError('conflict', 'This reference was already used for a different refund', { code: 'reference_reused' });
  if (refund.status !== 'created') return { refund, charge };
  // Looked up at Stripe first: a repeat must not refund again once the idempotency key expired.
  return { refund: await syncRefundRow(deps, refund), charge };
}

/** An owner's charge's refunds, oldest first; another owner's charge has none. */
export async function listRefunds(deps: Pick<Deps, 'db'>, ownerId: string, chargeId: number): Promise<Refund[]> {
  const charge = await findCharge(deps.db, chargeId);
  return charge && charge.ownerId === ownerId ? findRefundsOfCharge(deps.db, chargeId) : [];
}

/** An owner's refund by its reference. */
export async function readRefund(deps: Pick<Deps, 'db'>, ownerId: string, reference: string): Promise<Refund | undefined> {
  return findRefundByReference(deps.db, ownerId, reference);
}
