import { randomBytes } from 'node:crypto';
import { observePaymentIntent, type ObservedPayment } from '../stripe';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction } from '../db';
import { failUnsubmittedCharge, findCharge, updateCharge, type Charge } from './charge-repository';
import { nextChargeCheck } from './schedule';
import { isDefiniteRefusal } from './stripe-failure';
import { chargeMayMove } from './transitions';

/**
 * A charge's Stripe side: sending it, and the one apply path for what Stripe says about it. Below
 * the use cases (charge-service) and the re-reads (stripe-sync), which both build on it.
 */

/** Sends the charge to Stripe (or again, with the same key) and applies the answer. */
export async function submitCharge(deps: Deps, charge: Charge): Promise<Charge> {
  const log = deps.logger.child({ chargeId: charge.id, reference: charge.reference });
  try {
    const { gateway } = await deps.stripeAccounts.forAccount(charge.stripeAccount);
    const metadata = {
      charge_id: String(charge.id),
      reference: charge.reference,
      channel: charge.channel,
      ...(charge.customerRef ? { customer_ref: charge.customerRef } : {}),
    };
    if (charge.kind === 'capture') {
      // Capturing twice is harmless: Stripe captures a PaymentIntent once and refuses the rest.
      const captured = await gateway.capturePaymentIntent(
        charge.paymentIntentId as string,
        { amountToCapture: charge.amount, metadata },
        `charge-${charge.id}-capture`,
      );
      return await applyPaymentState(deps, charge.id, observePaymentIntent(captured));
    }
    const pi = await gateway.createOffSessionPayment(
      {
        amount: charge.amount,
        currency: charge.currency,
        customerId: charge.customerId,
        paymentMethodId: charge.paymentMethodId,
        ...(charge.description ? { description: charge.description } : {}),
        ...(charge.receiptEmail ? { receiptEmail: charge.receiptEmail } : {}),
        metadata,
      },
      `charge-${charge.id}`,
    );
    return await applyPaymentState(deps, charge.id, observePaymentIntent(pi));
  } catch (err) {
    if (isDefiniteRefusal(err)) {
      const message = err instanceof Error ? err.message : 'refused';
      log.warn({ err: message }, 'Stripe refused the charge');
      const failed = await failUnsubmittedCharge(deps.db, charge.id, (err as AppError).code ?? 'refused', message, deps.clock.now());
      if (failed) return failed;
    } else {
      // The outcome is unknown: the charge stays `created` (Pending) and the reconciler finds out.
      log.warn({ err: err instanceof Error ? err.message : String(err), code: (err as AppError).code }, 'charge outcome unknown; left for the reconciler');
    }
    return (await findCharge(deps.db, charge.id)) as Charge;
  }
}

/** A PaymentIntent may be bound to a charge only if it charges exactly that: same customer, card, amount, currency. */
function matchesCharge(charge: Charge, observed: ObservedPayment): boolean {
  return (
    observed.amount === charge.amount &&
    observed.currency === charge.currency &&
    observed.customerId === charge.customerId &&
    (observed.paymentMethodId === null || observed.paymentMethodId === charge.paymentMethodId)
  );
}

/**
 * The one way a PaymentIntent's state becomes our charge row: the synchronous answer, every
 * webhook and the reconciler call this. The row lock, the binding check and the transition table
 * make any order and number of calls end in the same row.
 */
export async function applyPaymentState(deps: Pick<Deps, 'db' | 'clock' | 'logger'>, chargeId: number, observed: ObservedPayment): Promise<Charge> {
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    const charge = await findCharge(trx, chargeId, { forUpdate: true });
    if (!charge) throw new AppError('not_found', 'Unknown charge');
    if (charge.paymentIntentId ? charge.paymentIntentId !== observed.paymentIntentId : !matchesCharge(charge, observed)) {
      deps.logger.error(
        { chargeId, stored: charge.paymentIntentId, observed: observed.paymentIntentId },
        'a PaymentIntent that is not this charge claims it; ignored',
      );
      return charge;
    }
    const status = observed.status;
    if (!chargeMayMove(charge.status, status)) {
      if (!charge.paymentIntentId) await updateCharge(trx, chargeId, { status: charge.status, paymentIntentId: observed.paymentIntentId }, now);
      return { ...charge, paymentIntentId: observed.paymentIntentId };
    }
    const authToken = status === 'requires_action' ? (charge.authToken ?? randomBytes(24).toString('base64url')) : charge.authToken;
    const update = {
      status,
      paymentIntentId: observed.paymentIntentId,
      failureCode: status === 'succeeded' ? null : observed.failureCode,
      failureMessage: status === 'succeeded' ? null : observed.failureMessage,
      authToken,
      succeededAt: status === 'succeeded' ? (charge.succeededAt ?? now) : null,
      nextCheckAt: nextChargeCheck(status, now, charge.createdAt),
    };
    await updateCharge(trx, chargeId, update, now);
    if (status !== charge.status) {
      deps.logger.info(
        { chargeId, reference: charge.reference, from: charge.status, to: status, paymentIntentId: observed.paymentIntentId, failureCode: update.failureCode },
        'charge state changed',
      );
    }
    return { ...charge, ...update };
  });
}
