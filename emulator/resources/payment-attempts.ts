/**
 * One payment attempt of a PaymentIntent with a card, and what finishes it later: the 3-D Secure
 * challenge (the customer's time) and the settlement of a `processing` payment (the network's).
 *
 * An attempt applies the card's test-card `charge` behaviour: succeed, decline (402 with the
 * PaymentIntent), or 3DS — on-session a `requires_action` challenge, off-session a 402
 * `authentication_required`. A requested challenge (`request_three_d_secure: any | challenge`)
 * challenges every card whose issuer supports 3DS; Radar's block comes before any of it. An
 * approved attempt captures, or with manual capture holds the authorization (`requires_capture`);
 * in processing mode it stays `processing` until `settlePaymentIntent`.
 */
import type Stripe from 'stripe';
import type { EmulatorRuntime } from '../api-routes';
import type { Store, StoredPaymentIntent, StoredPaymentMethod } from '../store';
import { cardError, EmulatorApiError, invalidRequest } from '../stripe-errors';
import { DECLINES, testCardByKey, type CardDecline } from '../test-cards';
import { challengeAction, isRequested } from '../three-d-secure';
import { capturesManually, holdAuthorization } from './authorizations';
import { createCharge, settleCharge, type ChargeResult, type ThreeDSecureOutcome } from './charges';
import { requirePaymentIntentPath, serializePaymentIntent } from './lookups';
import { attachPaymentMethod, serializePaymentMethod } from './payment-methods';

export const AUTHENTICATION_REQUIRED: CardDecline = {
  code: 'authentication_required',
  declineCode: 'authentication_required',
  message: 'Your card was declined. This transaction requires authentication.',
};

export const PI_AUTHENTICATION_FAILED_MESSAGE =
  'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.';

const DOCS = 'https://stripe.com/docs/error-codes';

function docUrl(code: string): string {
  return `${DOCS}/${code.replace(/_/g, '-')}`;
}

export function paymentChallengeUrl(runtime: EmulatorRuntime, id: string): string {
  return `${runtime.publicUrl}/c/3ds/pi/${id}`;
}

export function unexpectedState(message: string): EmulatorApiError {
  return invalidRequest(message, { code: 'payment_intent_unexpected_state' });
}

export interface ConfirmInput {
  returnUrl?: string;
  offSession: boolean;
  setupFutureUsage?: 'on_session' | 'off_session';
  receiptEmail?: string | null;
  /** The confirmation asked for next actions Stripe.js can follow (`use_stripe_sdk: true`). */
  useStripeSdk?: boolean;
}

/** What the card does for this attempt, before any state changes. */
type Attempt = { kind: 'succeed'; threeDSecure: ThreeDSecureOutcome | null } | { kind: 'decline'; decline: CardDecline } | { kind: 'challenge' };

function decide(pm: StoredPaymentMethod, offSession: boolean, request: string | null | undefined): Attempt {
  const card = testCardByKey(pm.testCard);
  const behaviour = card.charge;
  // Radar screens the payment before anything reaches the issuer, 3DS included.
  if (behaviour.kind === 'decline' && behaviour.decline.blocked) return { kind: 'decline', decline: behaviour.decline };
  if (isRequested(request)) {
    // An issuer without 3DS cannot be asked: Stripe goes ahead without authentication.
    if (!card.threeDSecureSupported) {
      return behaviour.kind === 'decline' ? { kind: 'decline', decline: behaviour.decline } : { kind: 'succeed', threeDSecure: 'not_supported' };
    }
    return offSession ? { kind: 'decline', decline: AUTHENTICATION_REQUIRED } : { kind: 'challenge' };
  }
  switch (behaviour.kind) {
    case 'succeed':
      return { kind: 'succeed', threeDSecure: null };
    case 'decline':
      return { kind: 'decline', decline: behaviour.decline };
    case 'auth_on_setup_only':
      // Stripe: "all off-session payments succeed as if the card has been previously set up".
      return offSession ? { kind: 'succeed', threeDSecure: null } : { kind: 'challenge' };
    case 'auth_required_always':
    case '3ds_then':
      // Nobody is there to authenticate: the issuer's demand for 3DS is a decline.
      return offSession ? { kind: 'decline', decline: AUTHENTICATION_REQUIRED } : { kind: 'challenge' };
  }
}

/** The card's verdict after a passed 3DS challenge. */
function afterAuthentication(pm: StoredPaymentMethod): Attempt {
  const behaviour = testCardByKey(pm.testCard).charge;
  if (behaviour.kind === '3ds_then' && behaviour.after === 'decline') return { kind: 'decline', decline: behaviour.decline };
  if (behaviour.kind === 'decline') return { kind: 'decline', decline: behaviour.decline };
  return { kind: 'succeed', threeDSecure: 'authenticated' };
}

function succeed(store: Store, pi: StoredPaymentIntent, pm: StoredPaymentMethod, threeDSecure: ThreeDSecureOutcome | null): void {
  const processing = store.modes.payments === 'processing';
  const manual = capturesManually(pi);
  const kind = processing ? 'pending' : manual ? 'authorized' : 'succeeded';
  const ch = createCharge(store, pi, pm, { kind }, threeDSecure);
  pi.api.payment_method = pm.api.id;
  pi.api.latest_charge = ch.api.id;
  pi.api.last_payment_error = null;
  pi.api.next_action = null;
  if (pi.api.setup_future_usage !== null && typeof pi.api.customer === 'string') {
    // Saving the card for later is part of a successful payment with setup_future_usage.
    pm.setupCompleted = true;
    attachPaymentMethod(store, pm, pi.api.customer);
  }
  if (processing) {
    pi.api.status = 'processing';
    pi.pendingCharge = ch.api.id;
    store.emit('payment_intent.processing', pi.api);
    return;
  }
  if (manual) return holdAuthorization(store, pi);
  pi.api.status = 'succeeded';
  pi.api.amount_received = pi.api.amount;
  store.emit('payment_intent.succeeded', pi.api);
}

/** A declined attempt: a failed Charge, the PaymentIntent back to requires_payment_method, and the 402 to answer with. */
function decline(store: Store, pi: StoredPaymentIntent, pm: StoredPaymentMethod, d: CardDecline, authenticated: boolean): EmulatorApiError {
  const result: ChargeResult = { kind: authenticated ? 'failed_after_authentication' : 'failed', decline: d };
  const ch = createCharge(store, pi, pm, result, authenticated ? 'authenticated' : null);
  failPayment(store, pi, ch.api.id, pm, d);
  return cardError({
    code: d.code,
    ...(d.declineCode ? { decline_code: d.declineCode } : {}),
    message: d.message,
    ...(d.param ? { param: d.param } : {}),
    charge: ch.api.id,
    payment_intent: serializePaymentIntent(pi),
    payment_method: serializePaymentMethod(pm),
  });
}

function failPayment(store: Store, pi: StoredPaymentIntent, chargeId: string, pm: StoredPaymentMethod, d: CardDecline): void {
  pi.api.status = 'requires_payment_method';
  pi.api.latest_charge = chargeId;
  pi.api.payment_method = null;
  pi.api.next_action = null;
  pi.api.last_payment_error = {
    type: 'card_error',
    charge: chargeId,
    code: d.code,
    ...(d.declineCode ? { decline_code: d.declineCode } : {}),
    doc_url: docUrl(d.code),
    message: d.message,
    ...(d.param ? { param: d.param } : {}),
    payment_method: serializePaymentMethod(pm),
    payment_method_type: 'card',
  };
  store.emit('payment_intent.payment_failed', pi.api);
}

function requireAction(store: Store, runtime: EmulatorRuntime, pi: StoredPaymentIntent, pm: StoredPaymentMethod, useStripeSdk: boolean): void {
  pi.api.status = 'requires_action';
  pi.api.payment_method = pm.api.id;
  pi.api.last_payment_error = null;
  pi.api.next_action = challengeAction(paymentChallengeUrl(runtime, pi.api.id), pi.returnUrl, useStripeSdk) as Stripe.PaymentIntent.NextAction;
  store.emit('payment_intent.requires_action', pi.api);
}

/** Stripe's confirm: one payment attempt. Declines throw the 402 after the state is saved and the events sent. */
export function confirmAttempt(store: Store, runtime: EmulatorRuntime, pi: StoredPaymentIntent, pm: StoredPaymentMethod, input: ConfirmInput): void {
  if (input.returnUrl !== undefined) pi.returnUrl = input.returnUrl;
  if (input.setupFutureUsage !== undefined) pi.api.setup_future_usage = input.setupFutureUsage;
  if (input.receiptEmail !== undefined) pi.api.receipt_email = input.receiptEmail;
  const request = pi.api.payment_method_options?.card?.request_three_d_secure;
  const attempt = decide(pm, input.offSession, request);
  runtime.log('payment attempt', {
    payment_intent: pi.api.id,
    brand: pm.api.card?.brand,
    last4: pm.api.card?.last4,
    outcome: attempt.kind,
    off_session: input.offSession,
    request_three_d_secure: request,
  });
  switch (attempt.kind) {
    case 'succeed':
      return succeed(store, pi, pm, attempt.threeDSecure);
    case 'decline':
      throw decline(store, pi, pm, attempt.decline, false);
    case 'challenge':
      return requireAction(store, runtime, pi, pm, input.useStripeSdk === true);
  }
}

export interface AuthenticationResult {
  redirectUrl: string;
  paymentIntent: Stripe.PaymentIntent;
}

/**
 * The outcome of the 3DS challenge of a PaymentIntent in requires_action: the hosted page, the
 * control API and `Emulator.authenticatePaymentIntent` come through here. A decline after a
 * passed challenge (4000008400001629) is an outcome, not an error: the customer is sent back.
 */
export function authenticatePaymentIntent(store: Store, runtime: EmulatorRuntime, id: string, result: 'pass' | 'fail'): AuthenticationResult {
  const pi = requirePaymentIntentPath(store, id);
  const pmId = pi.api.payment_method;
  const pm = typeof pmId === 'string' ? store.paymentMethods.get(pmId) : undefined;
  if (pi.api.status !== 'requires_action' || !pm) {
    throw unexpectedState(`This PaymentIntent is not awaiting authentication (status: ${pi.api.status}).`);
  }
  runtime.log('payment 3ds', { payment_intent: id, result });
  if (result === 'fail') {
    pi.api.status = 'requires_payment_method';
    pi.api.payment_method = null;
    pi.api.next_action = null;
    pi.api.last_payment_error = {
      type: 'invalid_request_error',
      code: 'payment_intent_authentication_failure',
      doc_url: docUrl('payment_intent_authentication_failure'),
      message: PI_AUTHENTICATION_FAILED_MESSAGE,
      payment_method: serializePaymentMethod(pm),
      payment_method_type: 'card',
    };
    store.emit('payment_intent.payment_failed', pi.api);
  } else {
    const verdict = afterAuthentication(pm);
    if (verdict.kind === 'decline') decline(store, pi, pm, verdict.decline, true);
    else succeed(store, pi, pm, 'authenticated');
  }
  return { redirectUrl: returnRedirect(runtime, pi), paymentIntent: serializePaymentIntent(pi) };
}

/** Whether the customer's payment went through, as `redirect_status` tells the return_url. */
export function paymentWentThrough(pi: StoredPaymentIntent): boolean {
  const status = pi.api.status;
  return status === 'succeeded' || status === 'processing' || status === 'requires_capture';
}

/** Where the customer goes after the challenge: return_url with Stripe's query, or back to the challenge page. */
function returnRedirect(runtime: EmulatorRuntime, pi: StoredPaymentIntent): string {
  if (pi.returnUrl === null) return paymentChallengeUrl(runtime, pi.api.id);
  const u = new URL(pi.returnUrl);
  u.searchParams.set('payment_intent', pi.api.id);
  u.searchParams.set('payment_intent_client_secret', pi.api.client_secret ?? '');
  u.searchParams.set('redirect_status', paymentWentThrough(pi) ? 'succeeded' : 'failed');
  return u.toString();
}

/** Ends the `processing` state of a PaymentIntent confirmed in processing mode. */
export function settlePaymentIntent(store: Store, id: string, outcome: 'succeeded' | 'failed'): Stripe.PaymentIntent {
  const pi = requirePaymentIntentPath(store, id);
  const ch = pi.pendingCharge !== null ? store.charges.get(pi.pendingCharge) : undefined;
  if (pi.api.status !== 'processing' || !ch) {
    throw unexpectedState(`This PaymentIntent is not processing (status: ${pi.api.status}).`);
  }
  pi.pendingCharge = null;
  if (outcome === 'succeeded') {
    const manual = capturesManually(pi);
    settleCharge(store, ch, null, !manual);
    if (manual) return holdAndSerialize(store, pi);
    pi.api.status = 'succeeded';
    pi.api.amount_received = pi.api.amount;
    store.emit('payment_intent.succeeded', pi.api);
  } else {
    settleCharge(store, ch, DECLINES.generic);
    const pm = ch.api.payment_method !== null ? store.paymentMethods.get(ch.api.payment_method) : undefined;
    if (!pm) throw new Error(`Charge ${ch.api.id} has no PaymentMethod`);
    failPayment(store, pi, ch.api.id, pm, DECLINES.generic);
  }
  return serializePaymentIntent(pi);
}

function holdAndSerialize(store: Store, pi: StoredPaymentIntent): Stripe.PaymentIntent {
  holdAuthorization(store, pi);
  return serializePaymentIntent(pi);
}
