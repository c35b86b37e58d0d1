import { observeCheckoutSession, observePaymentIntent, observeRefund, observeSetupIntent, type ObservedSetup } from '../stripe';
import type { Deps } from '../shared/deps';
import { applyCardSetupState, type SetupOutcome } from './card-setup-service';
import { applyPaymentState, submitCharge } from './charge-service';
import { findCharge, findChargeByPaymentIntent, updateCharge, type Charge } from './charge-repository';
import { findHandshake, findHandshakeByStripeId, finishHandshake, scheduleHandshakeCheck, type Handshake } from './handshake-repository';
import { findRefund, updateRefund, type Refund } from './refund-repository';
import { applyRefundState, submitRefund, syncStripeRefund } from './refund-service';
import { IDEMPOTENCY_REPLAY_WINDOW_MS } from './schedule';

/**
 * Re-reading from Stripe: webhooks and the reconciler treat what they hear as a hint, read the
 * object's current state, and hand it to the same apply functions the synchronous answers use.
 */

/** What Stripe says now about a handshake's session (or SetupIntent, in the custom flow). */
export async function observeHandshake(deps: Pick<Deps, 'stripe'>, handshake: Handshake): Promise<ObservedSetup | undefined> {
  if (handshake.checkoutSessionId) return observeCheckoutSession(await deps.stripe.retrieveCheckoutSessionWithCard(handshake.checkoutSessionId));
  if (handshake.setupIntentId) return observeSetupIntent(await deps.stripe.retrieveSetupIntentWithCard(handshake.setupIntentId));
  return undefined;
}

const CREATING_GIVE_UP_MS = 10 * 60_000;

export async function syncHandshake(deps: Deps, handshake: Handshake): Promise<SetupOutcome | undefined> {
  const observed = await observeHandshake(deps, handshake);
  if (!observed) {
    // getRequest died before Stripe answered: the customer never got a URL, so it never opens.
    if (handshake.state === 'creating' && deps.clock.now().getTime() - handshake.createdAt.getTime() > CREATING_GIVE_UP_MS) {
      await finishHandshake(deps.db, handshake.txId, 'failed', deps.clock.now(), 'The checkout session was never created');
    }
    return undefined;
  }
  const outcome = await applyCardSetupState(deps, handshake.txId, observed);
  if (outcome.kind === 'pending') await scheduleHandshakeCheck(deps.db, handshake.txId, deps.clock.now());
  return outcome;
}

/** A Checkout Session or SetupIntent id (or the txId in its metadata) to our handshake. */
export async function syncHandshakeByStripeObject(deps: Deps, stripeId: string, metadata: Record<string, string> | null | undefined): Promise<SetupOutcome | undefined> {
  const handshake = (await findHandshakeByStripeId(deps.db, stripeId)) ?? (metadata?.txId ? await findHandshake(deps.db, metadata.txId) : undefined);
  return handshake ? syncHandshake(deps, handshake) : undefined;
}

/** A charge's PaymentIntent, found even when the answer to its creation was lost. */
export async function syncCharge(deps: Deps, charge: Charge): Promise<Charge> {
  if (charge.paymentIntentId) return applyPaymentState(deps, charge.id, observePaymentIntent(await deps.stripe.retrievePaymentIntent(charge.paymentIntentId)));
  const since = Math.floor(charge.createdAt.getTime() / 1000) - 300;
  const found = (await deps.stripe.listPaymentIntents(charge.customerId, since)).find((pi) => pi.metadata?.charge_id === String(charge.id));
  if (found) return applyPaymentState(deps, charge.id, observePaymentIntent(found));
  if (charge.status !== 'created') return charge;
  if (deps.clock.now().getTime() - charge.createdAt.getTime() < IDEMPOTENCY_REPLAY_WINDOW_MS) {
    // Never reached Stripe, or Stripe has not listed it yet: the same idempotency key makes this
    // either the first attempt or a replay of the one Stripe already has.
    return submitCharge(deps, charge);
  }
  const now = deps.clock.now();
  await updateCharge(deps.db, charge.id, { status: 'failed', failureCode: 'not_submitted', failureMessage: 'The charge never reached Stripe', nextCheckAt: null }, now);
  return (await findCharge(deps.db, charge.id)) as Charge;
}

/** A PaymentIntent event: our charge by PaymentIntent id, or by the charge id we put in its metadata. */
export async function syncPaymentIntentById(deps: Deps, paymentIntentId: string, metadata: Record<string, string> | null | undefined): Promise<Charge | undefined> {
  let charge = await findChargeByPaymentIntent(deps.db, paymentIntentId);
  if (!charge && metadata?.charge_id && /^[0-9]+$/.test(metadata.charge_id)) {
    const candidate = await findCharge(deps.db, Number(metadata.charge_id));
    if (candidate && !candidate.paymentIntentId) charge = candidate;
  }
  if (!charge) return undefined;
  return applyPaymentState(deps, charge.id, observePaymentIntent(await deps.stripe.retrievePaymentIntent(paymentIntentId)));
}

/** Every refund Stripe holds for a PaymentIntent (charge.refunded lists none of its own). */
export async function syncRefundsOfPaymentIntent(deps: Deps, paymentIntentId: string): Promise<number> {
  const refunds = await deps.stripe.listRefunds(paymentIntentId);
  for (const refund of refunds) await syncStripeRefund(deps, observeRefund(refund));
  return refunds.length;
}

export async function syncRefundById(deps: Deps, stripeRefundId: string): Promise<Refund | undefined> {
  return syncStripeRefund(deps, observeRefund(await deps.stripe.retrieveRefund(stripeRefundId)));
}

/** A refund row whose Stripe state is unknown or unsettled. */
export async function syncRefundRow(deps: Deps, refund: Refund): Promise<Refund> {
  if (refund.stripeRefundId) return applyRefundState(deps, refund.id, observeRefund(await deps.stripe.retrieveRefund(refund.stripeRefundId)));
  const charge = await findCharge(deps.db, refund.chargeId);
  if (!charge?.paymentIntentId) return refund;
  const found = (await deps.stripe.listRefunds(charge.paymentIntentId)).find((r) => r.metadata?.refund_id === String(refund.id));
  if (found) return applyRefundState(deps, refund.id, observeRefund(found));
  if (deps.clock.now().getTime() - refund.createdAt.getTime() < IDEMPOTENCY_REPLAY_WINDOW_MS) return submitRefund(deps, refund, charge);
  await updateRefund(deps.db, refund.id, { status: 'failed', failureReason: 'The refund never reached Stripe', nextCheckAt: null }, deps.clock.now());
  return (await findRefund(deps.db, refund.id)) as Refund;
}
