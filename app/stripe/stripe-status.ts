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
 * reduction serves OkPage, webhooks and the reconciler, so they cannot disagree.
 */
export type ObservedSetup =
  | { status: 'open' }
  | { status: 'expired' }
  | { status: 'failed'; reason: string }
  | { status: 'complete'; customerId: string | null; card: CardDetails };

const idOf = (v: string | { id: string } | null | undefined): string | null => (v == null ? null : typeof v === 'string' ? v : v.id);

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
      return { status: 'complete', customerId: idOf(si.customer), card };
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
      const sessionCustomer = idOf(session.customer);
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
