import { createHash, randomBytes } from 'node:crypto';
import { observePaymentIntent, type ObservedPayment } from '../stripe';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction } from '../db';
import { findActiveCard } from './card-repository';
import { findCharge, insertChargeOnce, updateCharge, type Channel, type Charge } from './charge-repository';
import type { Money } from './money';
import { nextChargeCheck } from './schedule';
import { isDefiniteRefusal } from './stripe-failure';

export interface ChargeRequest {
  channel: Channel;
  /** The caller's id for this charge (a bill): the same reference is charged once. */
  reference: string;
  aid: number;
  amount: Money;
  description?: string;
}

const fingerprint = (parts: unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

/**
 * Charges the account's active card off-session, once per reference. A repeated request (same
 * reference, same content) answers the recorded charge; while it is still unsettled it goes to
 * Stripe again with the same idempotency key, so Stripe replays rather than charging twice.
 */
export async function chargeSavedCard(deps: Deps, request: ChargeRequest): Promise<Charge> {
  const card = await findActiveCard(deps.db, request.aid);
  const print = fingerprint([request.aid, request.amount.minor, request.amount.currency]);
  const now = deps.clock.now();
  const existingOrNew = card
    ? await insertChargeOnce(deps.db, {
        channel: request.channel,
        reference: request.reference,
        requestFingerprint: print,
        aid: request.aid,
        cardId: card.id,
        customerId: card.customerId,
        paymentMethodId: card.paymentMethodId,
        amount: request.amount.minor,
        currency: request.amount.currency,
        nextCheckAt: nextChargeCheck('created', now),
        now,
      })
    : undefined;
  if (!existingOrNew) throw new AppError('invalid_input', 'The account has no saved card', { code: 'no_card' });
  const { charge, created } = existingOrNew;
  if (!created && charge.requestFingerprint !== print) {
    throw new AppError('conflict', 'This reference was already used for a different charge', { code: 'reference_reused' });
  }
  if (charge.status !== 'created') return charge;
  return submitCharge(deps, charge);
}

/** Sends the charge to Stripe (or again, with the same key) and applies the answer. */
export async function submitCharge(deps: Deps, charge: Charge): Promise<Charge> {
  const log = deps.logger.child({ chargeId: charge.id, reference: charge.reference });
  try {
    const pi = await deps.stripe.createOffSessionPayment(
      {
        amount: charge.amount,
        currency: charge.currency,
        customerId: charge.customerId,
        paymentMethodId: charge.paymentMethodId,
        metadata: { charge_id: String(charge.id), reference: charge.reference, channel: charge.channel, ...(charge.aid ? { billrun_aid: String(charge.aid) } : {}) },
      },
      `charge-${charge.id}`,
    );
    return await applyPaymentState(deps, charge.id, observePaymentIntent(pi));
  } catch (err) {
    if (isDefiniteRefusal(err)) {
      const message = err instanceof Error ? err.message : 'refused';
      log.warn({ err: message }, 'Stripe refused the charge');
      const now = deps.clock.now();
      await updateCharge(deps.db, charge.id, { status: 'failed', failureCode: (err as AppError).code ?? 'refused', failureMessage: message, nextCheckAt: null }, now);
      return (await findCharge(deps.db, charge.id)) as Charge;
    }
    // The outcome is unknown: the charge stays `created` (Pending) and the reconciler finds out.
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'charge outcome unknown; left for the reconciler');
    return (await findCharge(deps.db, charge.id)) as Charge;
  }
}

const FINAL: ReadonlyArray<Charge['status']> = ['succeeded', 'canceled'];

/**
 * The one way a PaymentIntent's state becomes our charge row: the synchronous answer, every
 * webhook and the reconciler call this. Row lock + "succeeded and canceled never change" make
 * any order and number of calls end in the same row.
 */
export async function applyPaymentState(deps: Pick<Deps, 'db' | 'clock' | 'logger'>, chargeId: number, observed: ObservedPayment): Promise<Charge> {
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    const charge = await findCharge(trx, chargeId, { forUpdate: true });
    if (!charge) throw new AppError('not_found', 'Unknown charge');
    if (charge.paymentIntentId && charge.paymentIntentId !== observed.paymentIntentId) {
      deps.logger.error({ chargeId, stored: charge.paymentIntentId, observed: observed.paymentIntentId }, 'a different PaymentIntent claims this charge; ignored');
      return charge;
    }
    if (FINAL.includes(charge.status)) {
      if (!charge.paymentIntentId) await updateCharge(trx, chargeId, { status: charge.status, paymentIntentId: observed.paymentIntentId }, now);
      return { ...charge, paymentIntentId: observed.paymentIntentId };
    }
    const status = observed.status;
    const authToken = status === 'requires_action' ? (charge.authToken ?? randomBytes(24).toString('base64url')) : charge.authToken;
    const update = {
      status,
      paymentIntentId: observed.paymentIntentId,
      failureCode: status === 'succeeded' ? null : observed.failureCode,
      failureMessage: status === 'succeeded' ? null : observed.failureMessage,
      authToken,
      succeededAt: status === 'succeeded' ? now : null,
      nextCheckAt: nextChargeCheck(status, now),
    };
    await updateCharge(trx, chargeId, update, now);
    if (status !== charge.status) {
      deps.logger.info({ chargeId, reference: charge.reference, from: charge.status, to: status, paymentIntentId: observed.paymentIntentId, failureCode: update.failureCode }, 'charge state changed');
    }
    return { ...charge, ...update, succeededAt: update.succeededAt };
  });
}
