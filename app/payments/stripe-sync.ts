import { observeCheckoutSession, observePaymentIntent, observeRefund, observeSetupIntent, type ObservedPayment, type ObservedSetup } from '../stripe';
import { isAppError } from '../shared/app-error';
import { unixSeconds } from '../shared/clock';
import type { Deps } from '../shared/deps';
import { applyCardSetupState, type SetupOutcome } from './card-setup-state';
import { applyPaymentState, submitCharge } from './charge-state';
import { failUnsubmittedCharge, findCharge, findChargeByPaymentIntent, type Charge } from './charge-repository';
import { findActiveCard, type SavedCard } from './card-repository';
import type { CustomerKey } from './customer-key';
import {
  findCardSetup,
  findCardSetupByStripeId,
  findUnfinishedCardSetups,
  finishCardSetup,
  scheduleCardSetupCheck,
  type CardSetup,
} from './card-setup-repository';
import { failUnsubmittedRefund, findRefund, findRefundByStripeId, type Refund } from './refund-repository';
import { applyRefundState, submitRefund, syncStripeRefund } from './refund-state';
import { IDEMPOTENCY_REPLAY_WINDOW_MS } from './schedule';

/**
 * Re-reading from Stripe: webhooks and the reconciler treat what they hear as a hint, read the
 * object's current state, and hand it to the same apply functions the synchronous answers use.
 */

/** What Stripe says now about a card setup's session (or its SetupIntent, when it has no session). */
export async function observeCardSetup(deps: Pick<Deps, 'stripeAccounts'>, setup: CardSetup): Promise<ObservedSetup | undefined> {
  if (!setup.checkoutSessionId && !setup.setupIntentId) return undefined;
  const { gateway } = await deps.stripeAccounts.forAccount(setup.stripeAccount);
  if (setup.checkoutSessionId) return observeCheckoutSession(await gateway.retrieveCheckoutSessionWithCard(setup.checkoutSessionId));
  return observeSetupIntent(await gateway.retrieveSetupIntentWithCard(setup.setupIntentId as string));
}

const gatewayOf = async (deps: Pick<Deps, 'stripeAccounts'>, row: { stripeAccount: number }) =>
  (await deps.stripeAccounts.forAccount(row.stripeAccount)).gateway;

const CREATING_GIVE_UP_MS = 10 * 60_000;

export async function syncCardSetup(deps: Deps, setup: CardSetup): Promise<SetupOutcome | undefined> {
  let observed;
  try {
    observed = await observeCardSetup(deps, setup);
  } catch (err) {
    // An account without a key here can never be read again: its setups end at their expiry.
    const pastExpiry = setup.expiresAt !== null && deps.clock.now() >= setup.expiresAt;
    if (isAppError(err) && err.code === 'stripe_account_unknown' && pastExpiry) return applyCardSetupState(deps, setup.id, { status: 'expired' });
    throw err;
  }
  if (!observed) {
    // The service died before Stripe answered: the customer never got a URL, so it never opens.
    if (setup.state === 'creating' && deps.clock.now().getTime() - setup.createdAt.getTime() > CREATING_GIVE_UP_MS) {
      await finishCardSetup(deps.db, setup.id, 'failed', deps.clock.now(), 'The checkout session was never created');
    }
    return undefined;
  }
  const outcome = await applyCardSetupState(deps, setup.id, observed, setup);
  if (outcome.kind === 'pending') await scheduleCardSetupCheck(deps.db, setup, deps.clock.now());
  return outcome;
}

/** How many of an account's unfinished card setups a charge may read from Stripe. */
const UNFINISHED_SETUPS_READ = 3;

/**
 * The account's active card after reading its most recent unfinished card setups from Stripe,
 * newest first, until one turns out completed: a customer who just saved a card is charged even
 * before its webhook or its return page arrive. If no card is found and a read failed, that error is thrown:
 * whether a card was saved is then unknown, which "no saved card" would misstate.
 */
export async function syncUnfinishedCardSetups(deps: Deps, customer: CustomerKey): Promise<SavedCard | undefined> {
  let failure: unknown;
  for (const setup of await findUnfinishedCardSetups(deps.db, customer, UNFINISHED_SETUPS_READ)) {
    try {
      if ((await syncCardSetup(deps, setup))?.kind === 'completed') break;
    } catch (err) {
      failure ??= err;
      deps.logger.warn(
        { cardSetupId: setup.id, customerRef: customer.customerRef, err: err instanceof Error ? err.message : String(err) },
        'could not read an unfinished card setup from Stripe',
      );
    }
  }
  const card = await findActiveCard(deps.db, customer);
  if (!card && failure !== undefined) throw failure;
  return card;
}

const CARD_SETUP_ID = /^[0-9]{1,15}$/;

/** A Checkout Session or SetupIntent id (or the card setup id in its metadata) to our card setup, in the event's Stripe account only. */
export async function syncCardSetupByStripeObject(
  deps: Deps,
  stripeAccount: number,
  stripeId: string,
  metadata: Record<string, string> | null | undefined,
  /** The setup of `stripeId` when the caller already looked (null: none), so it is not read again. */
  byStripeId?: CardSetup | null,
): Promise<SetupOutcome | undefined> {
  const byMetadata = async () => {
    const id = metadata?.card_setup_id;
    const found = id && CARD_SETUP_ID.test(id) ? await findCardSetup(deps.db, Number(id)) : undefined;
    return found?.stripeAccount === stripeAccount ? found : undefined;
  };
  const known = byStripeId === undefined ? await findCardSetupByStripeId(deps.db, stripeAccount, stripeId) : byStripeId;
  const setup = known ?? (await byMetadata());
  return setup ? syncCardSetup(deps, setup) : undefined;
}

/** A charge's PaymentIntent, found even when the answer to its creation was lost. */
export async function syncCharge(deps: Deps, charge: Charge): Promise<Charge> {
  const gateway = await gatewayOf(deps, charge);
  if (charge.paymentIntentId) {
    const pi = await gateway.retrievePaymentIntent(charge.paymentIntentId);
    // A capture whose answer was lost (or never sent): the authorization still waits, capture it.
    if (charge.kind === 'capture' && pi.status === 'requires_capture' && (charge.status === 'created' || charge.status === 'processing'))
      return submitCharge(deps, charge);
    return applyPaymentState(deps, charge.id, observePaymentIntent(pi), charge);
  }
  const since = unixSeconds(charge.createdAt) - 300;
  const found = (await gateway.listPaymentIntents(charge.customerId, since)).find((pi) => pi.metadata?.charge_id === String(charge.id));
  if (found) return bindAndCatchUp(deps, charge, observePaymentIntent(found));
  if (charge.status !== 'created') return charge;
  if (deps.clock.now().getTime() - charge.createdAt.getTime() < IDEMPOTENCY_REPLAY_WINDOW_MS) {
    // Stripe has no PaymentIntent for it: the same idempotency key makes this the first attempt
    // (or, if Stripe is only slow to list it, a replay of the one it has).
    return submitCharge(deps, charge);
  }
  const failed = await failUnsubmittedCharge(deps.db, charge.id, 'not_submitted', 'The charge never reached Stripe', deps.clock.now());
  return failed ?? ((await findCharge(deps.db, charge.id)) as Charge);
}

/**
 * Binds a PaymentIntent found by our metadata, then records refunds Stripe already holds for it
 * (made in the dashboard, or whose events came before the charge was bound and were ignored).
 */
async function bindAndCatchUp(deps: Deps, asRead: Charge, observed: ObservedPayment): Promise<Charge> {
  const charge = await applyPaymentState(deps, asRead.id, observed, asRead);
  if (charge.paymentIntentId === observed.paymentIntentId) await syncRefundsOfPaymentIntent(deps, charge.stripeAccount, observed.paymentIntentId);
  return charge;
}

const CHARGE_ID = /^[0-9]{1,15}$/;

/**
 * A PaymentIntent event: our charge by PaymentIntent id, or by the charge id in its metadata.
 * `hint` is the (signed) event's metadata: without a charge id there, a PaymentIntent we never
 * bound is not ours and Stripe is not asked.
 */
export async function syncPaymentIntentById(
  deps: Deps,
  stripeAccount: number,
  paymentIntentId: string,
  hint?: Record<string, string> | null,
  /** The charge bound to it when the caller already looked (null: none), so it is not read again. */
  boundAsRead?: Charge | null,
): Promise<Charge | undefined> {
  const gateway = await gatewayOf(deps, { stripeAccount });
  const bound = boundAsRead === undefined ? await findChargeByPaymentIntent(deps.db, { stripeAccount }, paymentIntentId) : boundAsRead;
  if (bound) return applyPaymentState(deps, bound.id, observePaymentIntent(await gateway.retrievePaymentIntent(paymentIntentId)), bound);
  if (hint !== undefined) {
    // The signed event names our charge: it must be an unbound charge of this account before Stripe is asked.
    const named = CHARGE_ID.test(hint?.charge_id ?? '') ? await findCharge(deps.db, Number(hint?.charge_id)) : undefined;
    if (!named || named.paymentIntentId || named.stripeAccount !== stripeAccount) return undefined;
  }
  let pi;
  try {
    pi = await gateway.retrievePaymentIntent(paymentIntentId);
  } catch (err) {
    // Not a PaymentIntent of this account (an event about another account's object): not ours.
    if (isAppError(err) && err.kind === 'not_found') return undefined;
    throw err;
  }
  const observed = observePaymentIntent(pi);
  const chargeId = observed.metadata.charge_id;
  if (!chargeId || !CHARGE_ID.test(chargeId)) return undefined;
  const candidate = await findCharge(deps.db, Number(chargeId));
  // Only a charge of this Stripe account: another account's PaymentIntent cannot claim our row.
  if (!candidate || candidate.paymentIntentId || candidate.stripeAccount !== stripeAccount) return undefined;
  return bindAndCatchUp(deps, candidate, observed);
}

/** Every refund Stripe holds for a PaymentIntent (charge.refunded lists none of its own). */
export async function syncRefundsOfPaymentIntent(deps: Deps, stripeAccount: number, paymentIntentId: string): Promise<number> {
  const refunds = await (await gatewayOf(deps, { stripeAccount })).listRefunds(paymentIntentId);
  for (const refund of refunds) await syncStripeRefund(deps, stripeAccount, observeRefund(refund));
  return refunds.length;
}

/** A refund event: only refunds of our charges are read back from Stripe. */
export async function syncRefundById(deps: Deps, stripeAccount: number, stripeRefundId: string, paymentIntentId: string | null): Promise<Refund | undefined> {
  const known = await findRefundByStripeId(deps.db, { stripeAccount }, stripeRefundId);
  const ours = known ?? (paymentIntentId ? await findChargeByPaymentIntent(deps.db, { stripeAccount }, paymentIntentId) : undefined);
  if (!ours) return undefined;
  return syncStripeRefund(deps, stripeAccount, observeRefund(await (await gatewayOf(deps, { stripeAccount })).retrieveRefund(stripeRefundId)));
}

/** A refund row whose Stripe state is unknown or unsettled. */
export async function syncRefundRow(deps: Deps, refund: Refund): Promise<Refund> {
  const gateway = await gatewayOf(deps, refund);
  if (refund.stripeRefundId) return applyRefundState(deps, refund.id, observeRefund(await gateway.retrieveRefund(refund.stripeRefundId)));
  const charge = await findCharge(deps.db, refund.chargeId);
  if (!charge?.paymentIntentId) return refund;
  const found = (await gateway.listRefunds(charge.paymentIntentId)).find((r) => r.metadata?.refund_id === String(refund.id));
  if (found) return applyRefundState(deps, refund.id, observeRefund(found));
  if (refund.status !== 'created') return refund;
  if (deps.clock.now().getTime() - refund.createdAt.getTime() < IDEMPOTENCY_REPLAY_WINDOW_MS) return submitRefund(deps, refund, charge);
  const failed = await failUnsubmittedRefund(deps.db, refund.id, 'The refund never reached Stripe', deps.clock.now());
  return failed ?? ((await findRefund(deps.db, refund.id)) as Refund);
}
