/**
 * Completing a setup-mode Checkout Session with a card: the hosted page, the control API and
 * `Emulator.completeCheckoutSession` all come through here.
 */
import type Stripe from 'stripe';
import type { EmulatorRuntime } from './api-routes';
import type { Store, StoredCheckoutSession, StoredSetupIntent } from './store';
import { EmulatorApiError, invalidRequest, resourceMissing } from './stripe-errors';
import { checkRawCard } from './card-entry';
import { isMagicId, lookupMagicId, type CardIdentity } from './test-cards';
import { completeSession, fillTemplate, findSession, serializeSession } from './resources/checkout-sessions';
import { createCardPaymentMethod, declineToCardError, defaultExpiry, serializePaymentMethod } from './resources/payment-methods';
import { AUTHENTICATION_FAILED_MESSAGE, attemptSetup, finishAuthentication, serializeSetupIntent } from './resources/setup-intents';

export interface CardEntry {
  /** A test card number (spaces allowed) or a magic id such as pm_card_visa / tok_visa. */
  card: string;
  expMonth?: number;
  expYear?: number;
  cvc?: string;
  name?: string;
}

/** 'challenge' leaves a 3DS card waiting for the hosted challenge page. */
export type ThreeDSecureChoice = 'pass' | 'fail' | 'challenge';

export type CardSubmission =
  | { kind: 'completed'; redirectUrl: string; session: Stripe.Checkout.Session }
  | { kind: 'requires_authentication'; challengeUrl: string }
  | { kind: 'failed'; error: EmulatorApiError };

export function doneUrl(runtime: EmulatorRuntime, sessionId: string): string {
  return `${runtime.publicUrl}/c/done/${sessionId}`;
}

/** The session, open; otherwise a Stripe-like error (404 unknown, 400 not open). */
export function requireOpenSession(store: Store, id: string): StoredCheckoutSession {
  const stored = findSession(store, id);
  if (!stored) throw resourceMissing('checkout.session', id);
  if (stored.api.status !== 'open') {
    throw invalidRequest(`This Checkout Session is no longer open (status: ${stored.api.status}).`);
  }
  return stored;
}

function sessionSetupIntent(store: Store, stored: StoredCheckoutSession): StoredSetupIntent {
  const id = stored.api.setup_intent;
  const si = typeof id === 'string' ? store.setupIntents.get(id) : undefined;
  if (!si) throw new Error(`Checkout Session ${stored.api.id} has no SetupIntent`);
  return si;
}

function resolveCard(store: Store, entry: CardEntry): { identity: CardIdentity; expMonth: number; expYear: number } {
  const fallback = defaultExpiry(store);
  if (isMagicId(entry.card)) {
    const identity = lookupMagicId(entry.card);
    if (!identity) throw invalidRequest(`No such PaymentMethod: '${entry.card}'`, { code: 'resource_missing', param: 'card' });
    return { identity, expMonth: entry.expMonth ?? fallback.expMonth, expYear: entry.expYear ?? fallback.expYear };
  }
  const expMonth = entry.expMonth ?? fallback.expMonth;
  const expYear = entry.expYear ?? fallback.expYear;
  const checked = checkRawCard({ number: entry.card, expMonth, expYear, cvc: entry.cvc }, store.now());
  if (!checked.ok) throw declineToCardError(checked.decline);
  return { identity: checked.identity, expMonth, expYear };
}

function successRedirect(runtime: EmulatorRuntime, stored: StoredCheckoutSession): string {
  const url = stored.api.success_url;
  return url ? fillTemplate(url, stored.api.id) : doneUrl(runtime, stored.api.id);
}

function completed(store: Store, runtime: EmulatorRuntime, stored: StoredCheckoutSession, name: string | null): CardSubmission {
  completeSession(store, stored, name);
  return { kind: 'completed', redirectUrl: successRedirect(runtime, stored), session: serializeSession(stored) };
}

function authenticationFailed(si: StoredSetupIntent): EmulatorApiError {
  return new EmulatorApiError(402, {
    type: 'card_error',
    code: 'setup_intent_authentication_failure',
    message: AUTHENTICATION_FAILED_MESSAGE,
    setup_intent: serializeSetupIntent(si),
  });
}

/**
 * Enters a card on the session's hosted page. Declines and failed authentication leave the
 * session open; invalid input, unknown or closed sessions throw.
 */
export function submitCard(store: Store, runtime: EmulatorRuntime, sessionId: string, entry: CardEntry, threeDSecure: ThreeDSecureChoice): CardSubmission {
  const stored = requireOpenSession(store, sessionId);
  const si = sessionSetupIntent(store, stored);
  let resolved: ReturnType<typeof resolveCard>;
  try {
    resolved = resolveCard(store, entry);
  } catch (err) {
    if (err instanceof EmulatorApiError && err.status === 402) return { kind: 'failed', error: err };
    throw err;
  }
  const customer = typeof stored.api.customer === 'string' ? store.customers.get(stored.api.customer) : undefined;
  const pm = createCardPaymentMethod(store, resolved.identity, {
    expMonth: resolved.expMonth,
    expYear: resolved.expYear,
    cvcProvided: entry.cvc !== undefined,
    name: entry.name ?? null,
    email: (customer && !customer.deleted ? customer.email : stored.api.customer_email) ?? null,
  });
  stored.pendingAuthentication = null;
  const outcome = attemptSetup(store, runtime, si, pm);
  runtime.log('checkout card submitted', {
    session: stored.api.id,
    brand: resolved.identity.brand,
    last4: resolved.identity.last4,
    outcome: outcome.kind,
  });
  switch (outcome.kind) {
    case 'succeeded':
      return completed(store, runtime, stored, entry.name ?? null);
    case 'declined':
      return {
        kind: 'failed',
        error: declineToCardError(outcome.decline, {
          setup_intent: serializeSetupIntent(si),
          payment_method: serializePaymentMethod(pm),
        }),
      };
    case 'requires_action':
      if (threeDSecure === 'challenge') {
        stored.pendingAuthentication = pm.api.id;
        return { kind: 'requires_authentication', challengeUrl: `${runtime.publicUrl}/c/3ds/${stored.api.id}` };
      }
      return authenticate(store, runtime, stored, si, threeDSecure, entry.name ?? null);
  }
}

/** The answer to the hosted 3DS challenge for a session's pending card. */
export function resolveSessionAuthentication(store: Store, runtime: EmulatorRuntime, sessionId: string, result: 'pass' | 'fail'): CardSubmission {
  const stored = requireOpenSession(store, sessionId);
  const si = sessionSetupIntent(store, stored);
  if (stored.pendingAuthentication === null || si.api.status !== 'requires_action') {
    throw invalidRequest('This Checkout Session has no card waiting for authentication.');
  }
  const pm = store.paymentMethods.get(stored.pendingAuthentication);
  stored.pendingAuthentication = null;
  return authenticate(store, runtime, stored, si, result, pm?.api.billing_details.name ?? null);
}

function authenticate(
  store: Store,
  runtime: EmulatorRuntime,
  stored: StoredCheckoutSession,
  si: StoredSetupIntent,
  result: 'pass' | 'fail',
  name: string | null,
): CardSubmission {
  const outcome = finishAuthentication(store, si, result);
  runtime.log('checkout 3ds', { session: stored.api.id, result });
  if (outcome === 'succeeded') return completed(store, runtime, stored, name);
  return { kind: 'failed', error: authenticationFailed(si) };
}

/** Where the hosted page's Cancel link goes. The session stays open, as on Stripe. */
export function cancelTarget(store: Store, runtime: EmulatorRuntime, sessionId: string): { redirectUrl: string; session: Stripe.Checkout.Session } {
  const stored = findSession(store, sessionId);
  if (!stored) throw resourceMissing('checkout.session', sessionId);
  const url = stored.api.cancel_url;
  const redirectUrl = url ? fillTemplate(url, stored.api.id) : `${runtime.publicUrl}/c/pay/${stored.api.id}`;
  return { redirectUrl, session: serializeSession(stored) };
}
