import { randomBytes } from 'node:crypto';
import { observePaymentIntent, type ChargeStatus, type ObservedPayment } from '../stripe';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction } from '../db';
import { failUnsubmittedCharge, findCharge, updateCharge, updateChargeIfUnmoved, type Charge, type ChargeUpdate } from './charge-repository';
import { nextChargeCheck } from './schedule';
import { isDefiniteRefusal } from './stripe-failure';
import { chargeMayMove } from './transitions';

/**
 * A charge's Stripe side: sending it, and the one apply path for what Stripe says about it. Below
 * the use cases (charge-service) and the re-reads (stripe-sync), which both build on it.
 */

/** Sends the charge to Stripe (or again, with the same key) and applies the answer. */
export async function submitCharge(deps: Deps, charge: Charge): Promise<Charge> {
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
      return await applyPaymentState(deps, charge.id, observePaymentIntent(captured), charge);
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
    return await applyPaymentState(deps, charge.id, observePaymentIntent(pi), charge);
  } catch (err) {
    if (isDefiniteRefusal(err)) {
      const message = err instanceof Error ? err.message : 'refused';
      deps.logger.warn({ chargeId: charge.id, reference: charge.reference, err: message }, 'Stripe refused the charge');
      const failed = await failUnsubmittedCharge(deps.db, charge.id, (err as AppError).code ?? 'refused', message, deps.clock.now());
      if (failed) return failed;
    } else {
      // The outcome is unknown: the charge stays `created` (Pending) and the reconciler finds out.
      deps.logger.warn(
        { chargeId: charge.id, reference: charge.reference, err: err instanceof Error ? err.message : String(err), code: (err as AppError).code },
        'charge outcome unknown; left for the reconciler',
      );
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

/** What applying `observed` to the charge as read would write, or why it writes nothing. */
type Decision =
  | { kind: 'not-this-charge' }
  | { kind: 'bind-only' }
  | { kind: 'unchanged' }
  | { kind: 'move'; update: Required<Omit<ChargeUpdate, 'paymentIntentId'>> & { paymentIntentId: string } };

const FINAL_CHARGE_STATES: ReadonlySet<ChargeStatus> = new Set(['succeeded', 'canceled']);

function decide(charge: Charge, observed: ObservedPayment, now: Date): Decision {
  if (charge.paymentIntentId ? charge.paymentIntentId !== observed.paymentIntentId : !matchesCharge(charge, observed)) return { kind: 'not-this-charge' };
  const status = observed.status;
  if (!chargeMayMove(charge.status, status)) return charge.paymentIntentId ? { kind: 'unchanged' } : { kind: 'bind-only' };
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
  // A final state that would be written again as it is (a webhook after the answer): nothing to write.
  // Only final states: one that may still move can have moved since it was read.
  const same =
    FINAL_CHARGE_STATES.has(charge.status) &&
    update.status === charge.status &&
    update.paymentIntentId === charge.paymentIntentId &&
    update.failureCode === charge.failureCode &&
    update.failureMessage === charge.failureMessage &&
    update.authToken === charge.authToken &&
    update.succeededAt?.getTime() === charge.succeededAt?.getTime() &&
    update.nextCheckAt === null;
  return same ? { kind: 'unchanged' } : { kind: 'move', update };
}

function logMove(deps: Pick<Deps, 'logger'>, from: Charge, to: Charge): void {
  if (to.status === from.status) return;
  deps.logger.info(
    { chargeId: from.id, reference: from.reference, from: from.status, to: to.status, paymentIntentId: to.paymentIntentId, failureCode: to.failureCode },
    'charge state changed',
  );
}

/**
 * The one way a PaymentIntent's state becomes our charge row: the synchronous answer, every
 * webhook and the reconciler call this. The binding check and the transition table decide on the
 * charge as read (`asRead`, when the caller has just read it); the write is a compare-and-set on
 * the status and PaymentIntent it was decided on. If someone moved the row meanwhile (or there is
 * no row as read), the decision is made again under the row lock. So any order and number of
 * calls end in the same row, and a request that finds nothing to change writes nothing.
 */
export async function applyPaymentState(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  chargeId: number,
  observed: ObservedPayment,
  asRead?: Charge,
): Promise<Charge> {
  const now = deps.clock.now();
  if (asRead && asRead.id === chargeId) {
    const decision = decide(asRead, observed, now);
    // Nothing to write is only sure of a final state: one that may still move may have moved
    // since it was read to where this observation does apply, so the locked path decides it.
    if (decision.kind === 'unchanged' && FINAL_CHARGE_STATES.has(asRead.status)) return asRead;
    if (decision.kind === 'move') {
      const moved = await updateChargeIfUnmoved(deps.db, asRead, decision.update, now);
      if (moved) {
        logMove(deps, asRead, moved);
        return moved;
      }
    }
  }
  return inTransaction(deps.db, async (trx) => {
    const charge = await findCharge(trx, chargeId, { forUpdate: true });
    if (!charge) throw new AppError('not_found', 'Unknown charge');
    const decision = decide(charge, observed, now);
    switch (decision.kind) {
      case 'not-this-charge':
        deps.logger.error(
          { chargeId, stored: charge.paymentIntentId, observed: observed.paymentIntentId },
          'a PaymentIntent that is not this charge claims it; ignored',
        );
        return charge;
      case 'unchanged':
        return charge;
      case 'bind-only':
        await updateCharge(trx, chargeId, { status: charge.status, paymentIntentId: observed.paymentIntentId }, now);
        return { ...charge, paymentIntentId: observed.paymentIntentId };
      case 'move': {
        await updateCharge(trx, chargeId, decision.update, now);
        const moved = { ...charge, ...decision.update };
        logMove(deps, charge, moved);
        return moved;
      }
    }
  });
}
