import type { Knex } from 'knex';
import { observeRefund, type ObservedRefund } from '../stripe';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction, isUniqueViolation } from '../db';
import { findCharge, findChargeByPaymentIntent, type Charge } from './charge-repository';
import { failUnsubmittedRefund, findRefund, findRefundByStripeId, insertRefund, updateRefund, type Refund } from './refund-repository';
import { nextRefundCheck } from './schedule';
import { isDefiniteRefusal } from './stripe-failure';
import { refundMayMove } from './transitions';

/**
 * A refund's Stripe side: sending it, the one apply path, and recording refunds Stripe tells us
 * of. Below the use case (refund-service) and the re-reads (stripe-sync).
 */

/** Sends the refund to Stripe (or again, with the same key) and applies the answer. */
export async function submitRefund(deps: Deps, refund: Refund, charge: Charge): Promise<Refund> {
  try {
    const { gateway } = await deps.stripeAccounts.forAccount(charge.stripeAccount);
    const stripeRefund = await gateway.createRefund(
      {
        paymentIntentId: charge.paymentIntentId as string,
        amount: refund.amount,
        reason: refund.reason,
        metadata: { refund_id: String(refund.id), charge_id: String(charge.id), ...(refund.reference ? { reference: refund.reference } : {}) },
      },
      `refund-${refund.id}`,
    );
    return await applyRefundState(deps, refund.id, observeRefund(stripeRefund), charge);
  } catch (err) {
    if (isDefiniteRefusal(err)) {
      const reason = err instanceof Error ? err.message : 'refused';
      deps.logger.warn({ refundId: refund.id, err: reason }, 'Stripe refused the refund');
      const failed = await failUnsubmittedRefund(deps.db, refund.id, reason, deps.clock.now());
      if (failed) return failed;
    } else {
      deps.logger.warn({ refundId: refund.id, err: err instanceof Error ? err.message : String(err) }, 'refund outcome unknown; left for the reconciler');
    }
    return (await findRefund(deps.db, refund.id)) as Refund;
  }
}

/** The one way a Stripe Refund's state becomes our refund row (answer, webhook, reconciler). */
export async function applyRefundState(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  refundId: number,
  observed: ObservedRefund,
  knownCharge?: Charge,
): Promise<Refund> {
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    const refund = await findRefund(trx, refundId, { forUpdate: true });
    if (!refund) throw new AppError('not_found', 'Unknown refund');
    if (refund.stripeRefundId ? refund.stripeRefundId !== observed.refundId : !(await matchesRefund(trx, refund, observed, knownCharge))) {
      deps.logger.error({ refundId, stored: refund.stripeRefundId, observed: observed.refundId }, 'a Stripe refund that is not this refund claims it; ignored');
      return refund;
    }
    if (!refundMayMove(refund.status, observed.status)) return refund;
    const update = {
      status: observed.status,
      stripeRefundId: observed.refundId,
      failureReason: observed.failureReason,
      nextCheckAt: nextRefundCheck(observed.status, now),
    };
    await updateRefund(trx, refundId, update, now);
    if (refund.status !== observed.status) {
      deps.logger.info(
        { refundId, chargeId: refund.chargeId, from: refund.status, to: observed.status, stripeRefundId: observed.refundId },
        'refund state changed',
      );
    }
    return { ...refund, status: update.status, stripeRefundId: update.stripeRefundId, failureReason: update.failureReason };
  });
}

/** A Stripe refund may be bound to our row only if it is that refund: same PaymentIntent and amount. */
async function matchesRefund(trx: Knex.Transaction, refund: Refund, observed: ObservedRefund, knownCharge?: Charge): Promise<boolean> {
  const charge = knownCharge?.id === refund.chargeId ? knownCharge : await findCharge(trx, refund.chargeId);
  return observed.amount === refund.amount && observed.paymentIntentId !== null && observed.paymentIntentId === charge?.paymentIntentId;
}

const REFUND_ID = /^[0-9]{1,15}$/;

/**
 * A Stripe refund we learn of from Stripe (webhook, reconciler): ours by id or metadata, or one
 * made outside the service (dashboard), recorded against its charge so our rows stay true.
 */
export async function syncStripeRefund(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  stripeAccount: number,
  observed: ObservedRefund,
): Promise<Refund | undefined> {
  const metadataId = observed.metadata.refund_id;
  const byMetadata = async () => {
    const found = metadataId && REFUND_ID.test(metadataId) ? await findRefund(deps.db, Number(metadataId)) : undefined;
    return found?.stripeAccount === stripeAccount ? found : undefined;
  };
  const byId = (await findRefundByStripeId(deps.db, { stripeAccount }, observed.refundId)) ?? (await byMetadata());
  if (byId) return applyRefundState(deps, byId.id, observed);
  if (!observed.paymentIntentId) return undefined;
  const charge = await findChargeByPaymentIntent(deps.db, { stripeAccount }, observed.paymentIntentId);
  if (!charge) return undefined;
  try {
    const recorded = await inTransaction(deps.db, (trx) =>
      insertRefund(trx, {
        chargeId: charge.id,
        ownerId: charge.ownerId,
        stripeAccount: charge.stripeAccount,
        channel: null,
        reference: null,
        requestFingerprint: null,
        amount: observed.amount,
        status: observed.status,
        stripeRefundId: observed.refundId,
        reason: observed.reason,
        nextCheckAt: nextRefundCheck(observed.status, deps.clock.now()),
        now: deps.clock.now(),
      }),
    );
    deps.logger.info({ refundId: recorded.id, chargeId: charge.id, stripeRefundId: observed.refundId }, 'refund made outside the service recorded');
    return recorded;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const again = await findRefundByStripeId(deps.db, { stripeAccount }, observed.refundId);
    return again ? applyRefundState(deps, again.id, observed) : undefined;
  }
}
