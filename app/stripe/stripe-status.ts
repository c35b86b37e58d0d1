import type Stripe from 'stripe';

/** A saved card as Stripe describes it: never more than brand, last 4 and expiry. */
export interface CardDetails {
  paymentMethodId: string;
  brand: string | null;
  last4: string;
  expMonth: number;
  expYear: number;
}

/**
 * What Stripe says about a card setup, reduced to the facts our state machine needs. The same
 * reduction serves the customer's return, webhooks and the reconciler, so they cannot disagree.
 */
export type ObservedSetup =
  { status: 'open' } | { status: 'expired' } | { status: 'failed'; reason: string } | { status: 'complete'; customerId: string | null; card: CardDetails };

/** The id of a Stripe reference, expanded or not. */
export const stripeId = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

function cardOf(pm: string | Stripe.PaymentMethod | null): CardDetails | null {
  if (!pm || typeof pm === 'string' || !pm.card) return null;
  return {
    paymentMethodId: pm.id,
    brand: pm.card.brand ?? null,
    last4: pm.card.last4,
    expMonth: pm.card.exp_month,
    expYear: pm.card.exp_year,
  };
}

// stripe-node 23 types statuses as open strings (`| OtherString`), so the known values are listed
// here: the switches below are exhaustive over them, and a status Stripe adds later is caught by
// the guard and treated as "not final yet" until someone maps it.
const SETUP_INTENT_STATUSES = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'canceled', 'succeeded'] as const;
type SetupIntentStatus = (typeof SETUP_INTENT_STATUSES)[number];
const CHECKOUT_SESSION_STATUSES = ['open', 'complete', 'expired'] as const;
type CheckoutSessionStatus = (typeof CHECKOUT_SESSION_STATUSES)[number];

const isOneOf = <T extends string>(values: readonly T[], v: string | null): v is T => v !== null && (values as readonly string[]).includes(v);

/** Reduces a SetupIntent whose `payment_method` is expanded. */
export function observeSetupIntent(si: Stripe.SetupIntent): ObservedSetup {
  if (!isOneOf(SETUP_INTENT_STATUSES, si.status)) return { status: 'open' };
  const status: SetupIntentStatus = si.status;
  switch (status) {
    case 'succeeded': {
      const card = cardOf(si.payment_method);
      if (!card) return { status: 'failed', reason: 'The saved payment method is not a card' };
      return { status: 'complete', customerId: stripeId(si.customer), card };
    }
    case 'canceled':
      return { status: 'failed', reason: 'The card setup was canceled at Stripe' };
    case 'requires_payment_method':
    case 'requires_confirmation':
    case 'requires_action':
    case 'processing':
      return { status: 'open' };
    default:
      return assertNever(status);
  }
}

/** Reduces a setup-mode Checkout Session whose `setup_intent.payment_method` is expanded. */
export function observeCheckoutSession(session: Stripe.Checkout.Session): ObservedSetup {
  if (!isOneOf(CHECKOUT_SESSION_STATUSES, session.status)) return { status: 'open' };
  const status: CheckoutSessionStatus = session.status;
  switch (status) {
    case 'open':
      return { status: 'open' };
    case 'expired':
      return { status: 'expired' };
    case 'complete': {
      const si = session.setup_intent;
      if (!si || typeof si === 'string') return { status: 'failed', reason: 'The session carries no SetupIntent' };
      const observed = observeSetupIntent(si);
      if (observed.status !== 'complete') return observed;
      // The session's customer is the one we asked for; the SetupIntent's must agree.
      const sessionCustomer = stripeId(session.customer);
      if (observed.customerId !== null && sessionCustomer !== null && observed.customerId !== sessionCustomer) {
        return { status: 'failed', reason: 'The SetupIntent belongs to another customer' };
      }
      return { ...observed, customerId: sessionCustomer ?? observed.customerId };
    }
    default:
      return assertNever(status);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unhandled Stripe status: ${String(value)}`);
}

const PAYMENT_INTENT_STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'canceled',
  'succeeded',
] as const;
type PaymentIntentStatus = (typeof PAYMENT_INTENT_STATUSES)[number];
const REFUND_STATUSES = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] as const;
type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Our charge states: `created` means no attempt has settled yet. */
export type ChargeStatus = 'created' | 'requires_action' | 'processing' | 'succeeded' | 'failed' | 'canceled';

export interface ObservedPayment {
  paymentIntentId: string;
  status: ChargeStatus;
  /** What the PaymentIntent charges, to check it really is the charge it claims to be. */
  amount: number;
  currency: string;
  customerId: string | null;
  paymentMethodId: string | null;
  /** Decline or error code (`insufficient_funds`, `authentication_required`, ...). */
  failureCode: string | null;
  failureMessage: string | null;
  metadata: Record<string, string>;
}

/** Reduces a PaymentIntent to our charge state. */
export function observePaymentIntent(pi: Stripe.PaymentIntent): ObservedPayment {
  const base = {
    paymentIntentId: pi.id,
    amount: pi.amount,
    currency: pi.currency.toUpperCase(),
    customerId: stripeId(pi.customer),
    paymentMethodId: stripeId(pi.payment_method),
    metadata: pi.metadata ?? {},
    failureCode: null,
    failureMessage: null,
  };
  if (!isOneOf(PAYMENT_INTENT_STATUSES, pi.status)) return { ...base, status: 'processing' };
  const status: PaymentIntentStatus = pi.status;
  const error = pi.last_payment_error;
  switch (status) {
    case 'succeeded':
      return { ...base, status: 'succeeded' };
    case 'processing':
    case 'requires_capture':
      return { ...base, status: 'processing' };
    case 'requires_action':
      return { ...base, status: 'requires_action' };
    case 'canceled':
      return { ...base, status: 'canceled', failureCode: pi.cancellation_reason ?? 'canceled', failureMessage: 'The payment was canceled' };
    case 'requires_confirmation':
      return { ...base, status: 'created' };
    case 'requires_payment_method': {
      if (!error) return { ...base, status: 'created' };
      const code = error.decline_code ?? error.code ?? 'card_declined';
      // Off-session and the bank wants the customer: not a decline, the customer must come back.
      if (error.code === 'authentication_required' || error.decline_code === 'authentication_required') {
        return { ...base, status: 'requires_action', failureCode: 'authentication_required', failureMessage: error.message ?? 'The card needs authentication' };
      }
      return { ...base, status: 'failed', failureCode: code, failureMessage: error.message ?? 'The card was declined' };
    }
    default:
      return assertNever(status);
  }
}

export interface ObservedRefund {
  refundId: string;
  paymentIntentId: string | null;
  amount: number;
  status: RefundStatus;
  failureReason: string | null;
  /** Stripe's reason (e.g. `requested_by_customer`, chosen in the Dashboard), else the one we sent in the metadata. */
  reason: string | null;
  metadata: Record<string, string>;
}

export function observeRefund(refund: Stripe.Refund): ObservedRefund {
  const status: RefundStatus = isOneOf(REFUND_STATUSES, refund.status) ? refund.status : 'pending';
  return {
    refundId: refund.id,
    paymentIntentId: stripeId(refund.payment_intent),
    amount: refund.amount,
    status,
    failureReason: refund.failure_reason ?? null,
    reason: refund.metadata?.reason ?? refund.reason ?? null,
    metadata: (refund.metadata as Record<string, string> | null) ?? {},
  };
}

/** A card saved by a server-confirmed off-session SetupIntent (`confirmOffSessionSetup`). */
export type ObservedConfirmedSetup =
  | { status: 'succeeded'; card: CardDetails; customerId: string | null }
  /** `code` is the decline code when there is one (`fraudulent` is Radar's block), else Stripe's error code. */
  | { status: 'failed'; code: string; reason: string }
  | { status: 'requires_action'; nextActionUrl: string | null }
  | { status: 'pending' };

/** Where the customer answers a 3-D Secure challenge: the redirect, or the page Stripe.js would open. */
function nextActionUrl(action: Stripe.PaymentIntent.NextAction | Stripe.SetupIntent.NextAction | null): string | null {
  if (!action) return null;
  if (action.type === 'redirect_to_url') return action.redirect_to_url?.url ?? null;
  if (action.type === 'use_stripe_sdk') {
    const url = action.use_stripe_sdk?.['stripe_js'];
    return typeof url === 'string' ? url : null;
  }
  return null;
}

/**
 * Reduces a SetupIntent confirmed by the server (`confirmOffSessionSetup`), `payment_method`
 * expanded. A decline leaves it `requires_payment_method` with `last_setup_error`: that is failed,
 * not open, because nobody will confirm it again.
 */
export function observeConfirmedSetup(si: Stripe.SetupIntent): ObservedConfirmedSetup {
  if (!isOneOf(SETUP_INTENT_STATUSES, si.status)) return { status: 'pending' };
  const status: SetupIntentStatus = si.status;
  switch (status) {
    case 'succeeded': {
      if (typeof si.payment_method === 'string') throw new Error(`observeConfirmedSetup needs payment_method expanded (${si.id})`);
      const card = cardOf(si.payment_method);
      if (!card) return { status: 'failed', code: 'payment_method_not_card', reason: 'The saved payment method is not a card' };
      return { status: 'succeeded', card, customerId: stripeId(si.customer) };
    }
    case 'requires_payment_method': {
      const error = si.last_setup_error;
      if (!error) return { status: 'pending' };
      // The JSON may carry an empty decline_code; either way the error code is the next best.
      return { status: 'failed', code: error.decline_code || error.code || 'card_declined', reason: error.message ?? 'The card was declined' };
    }
    case 'canceled':
      return { status: 'failed', code: si.cancellation_reason ?? 'canceled', reason: 'The card setup was canceled at Stripe' };
    case 'requires_action':
      return { status: 'requires_action', nextActionUrl: nextActionUrl(si.next_action) };
    case 'requires_confirmation':
    case 'processing':
      return { status: 'pending' };
    default:
      return assertNever(status);
  }
}

/** How the authorization's 3-D Secure went: `not_supported` is a card whose issuer has none (chargeable, no liability shift). */
export type ThreeDSecureOutcome = 'authenticated' | 'not_supported' | 'attempted' | 'none';

/** A manual-capture PaymentIntent with a requested challenge (`createChallengedAuthorization`). */
export type ObservedAuthorization =
  | { status: 'requires_action'; authUrl: string | null }
  | { status: 'authorized'; amountCapturable: number; threeDSecure: ThreeDSecureOutcome; card: CardDetails | null }
  | { status: 'captured'; amountReceived: number }
  /** `code` is the decline code when there is one, else Stripe's error code (`payment_intent_authentication_failure`). */
  | { status: 'failed'; code: string; reason: string }
  /** `reason` is Stripe's `cancellation_reason`: `automatic` when the authorization lapsed. */
  | { status: 'canceled'; reason: string | null }
  | { status: 'processing' };

const THREE_D_SECURE_RESULTS = ['authenticated', 'attempt_acknowledged', 'not_supported', 'exempted', 'data_share_only', 'failed', 'processing_error'] as const;
type ThreeDSecureResult = (typeof THREE_D_SECURE_RESULTS)[number];

function threeDSecureOf(charge: Stripe.Charge | null): ThreeDSecureOutcome {
  const result = charge?.payment_method_details?.card?.three_d_secure?.result ?? null;
  if (!isOneOf(THREE_D_SECURE_RESULTS, result)) return 'none';
  const known: ThreeDSecureResult = result;
  switch (known) {
    case 'authenticated':
      return 'authenticated';
    case 'attempt_acknowledged':
      return 'attempted';
    case 'not_supported':
      return 'not_supported';
    // No authentication took place (an exemption, data only) or it did not succeed: nothing to claim.
    case 'exempted':
    case 'data_share_only':
    case 'failed':
    case 'processing_error':
      return 'none';
    default:
      return assertNever(known);
  }
}

/** The card that was authorized: the expanded PaymentMethod, else what the charge says of it. */
function authorizedCard(pi: Stripe.PaymentIntent, charge: Stripe.Charge | null): CardDetails | null {
  const fromPaymentMethod = typeof pi.payment_method === 'string' ? null : cardOf(pi.payment_method);
  if (fromPaymentMethod) return fromPaymentMethod;
  const card = charge?.payment_method_details?.card;
  const paymentMethodId = stripeId(pi.payment_method) ?? charge?.payment_method ?? null;
  if (!card || !paymentMethodId) return null;
  return { paymentMethodId, brand: card.brand ?? null, last4: card.last4 ?? '', expMonth: card.exp_month, expYear: card.exp_year };
}

/**
 * Reduces an authorization, `latest_charge` expanded (the 3-D Secure outcome is on the charge;
 * every gateway call that answers one expands it). Throws when an authorized PaymentIntent comes
 * without its charge, rather than report a challenge as `none`.
 */
export function observeAuthorization(pi: Stripe.PaymentIntent): ObservedAuthorization {
  if (!isOneOf(PAYMENT_INTENT_STATUSES, pi.status)) return { status: 'processing' };
  const status: PaymentIntentStatus = pi.status;
  switch (status) {
    case 'requires_action':
      return { status: 'requires_action', authUrl: nextActionUrl(pi.next_action) };
    case 'requires_capture': {
      if (typeof pi.latest_charge === 'string') throw new Error(`observeAuthorization needs latest_charge expanded (${pi.id})`);
      const charge = pi.latest_charge;
      return { status: 'authorized', amountCapturable: pi.amount_capturable, threeDSecure: threeDSecureOf(charge), card: authorizedCard(pi, charge) };
    }
    case 'succeeded':
      return { status: 'captured', amountReceived: pi.amount_received };
    case 'canceled':
      return { status: 'canceled', reason: pi.cancellation_reason ?? null };
    case 'requires_payment_method': {
      const error = pi.last_payment_error;
      // Confirmed at creation, so no error means no attempt was made at all: nothing will authorize it.
      if (!error) return { status: 'failed', code: 'requires_payment_method', reason: 'The authorization was not attempted' };
      return { status: 'failed', code: error.decline_code || error.code || 'card_declined', reason: error.message ?? 'The card was declined' };
    }
    case 'requires_confirmation':
    case 'processing':
      return { status: 'processing' };
    default:
      return assertNever(status);
  }
}
