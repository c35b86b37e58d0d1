/**
 * Manual capture: a PaymentIntent confirmed with `capture_method: manual` holds an authorization
 * (`requires_capture`, its charge `captured: false`) until it is captured — whole or in part, the
 * rest given back — canceled (all given back), or lapses after Stripe's window for online card
 * payments, 7 days (`payment_method_details.card.capture_before`), on the emulator clock.
 */
import type Stripe from 'stripe';
import { defineRoute, type ApiRoute } from '../api-routes';
import { checkChargeAmount, formatAmount } from '../currencies';
import { mergeMetadata, p } from '../params';
import type { Store, StoredCharge, StoredPaymentIntent } from '../store';
import { invalidRequest, notSupported } from '../stripe-errors';
import { requirePaymentIntentPath, serializePaymentIntent } from './lookups';
import { releaseAuthorizedAmount } from './refunds';

export type CancellationReason = Stripe.PaymentIntent.CancellationReason;

/** The top-level capture_method, or the card's `payment_method_options[card][capture_method]`, which wins for cards. */
export function capturesManually(pi: StoredPaymentIntent): boolean {
  return pi.api.capture_method === 'manual' || pi.api.payment_method_options?.card?.capture_method === 'manual';
}

/** An approved attempt of a manual-capture PaymentIntent: the amount waits to be captured. */
export function holdAuthorization(store: Store, pi: StoredPaymentIntent): void {
  pi.api.status = 'requires_capture';
  pi.api.amount_capturable = pi.api.amount;
  store.emit('payment_intent.amount_capturable_updated', pi.api);
}

function authorizedCharge(store: Store, pi: StoredPaymentIntent): StoredCharge {
  const ch = typeof pi.api.latest_charge === 'string' ? store.charges.get(pi.api.latest_charge) : undefined;
  if (!ch) throw new Error(`PaymentIntent ${pi.api.id} in requires_capture has no charge`);
  return ch;
}

/**
 * Cancels a PaymentIntent; one holding an authorization gives it all back first, as Stripe does
 * ("the remaining amount_capturable will automatically be refunded"): charge.refunded for a
 * cancel, charge.expired when the authorization lapsed (`automatic`).
 */
export function cancelPaymentIntent(store: Store, pi: StoredPaymentIntent, reason: CancellationReason | null): void {
  if (pi.api.status === 'requires_capture') {
    const ch = authorizedCharge(store, pi);
    releaseAuthorizedAmount(store, ch, pi.api.amount_capturable);
    pi.api.amount_capturable = 0;
    store.emit(reason === 'automatic' ? 'charge.expired' : 'charge.refunded', ch.api);
  }
  pi.api.status = 'canceled';
  pi.api.canceled_at = store.now();
  pi.api.cancellation_reason = reason;
  pi.api.next_action = null;
  store.emit('payment_intent.canceled', pi.api);
}

/**
 * When the authorization of a PaymentIntent in requires_capture lapses (unix seconds). A charge
 * without `capture_before` (a hand-edited state file) never lapses rather than failing every
 * request of its account.
 */
function captureBefore(store: Store, pi: StoredPaymentIntent): number {
  const ch = typeof pi.api.latest_charge === 'string' ? store.charges.get(pi.api.latest_charge) : undefined;
  return ch?.api.payment_method_details?.card?.capture_before ?? Number.POSITIVE_INFINITY;
}

/**
 * Cancels every authorization whose window has passed on the emulator clock. Called before each
 * /v1 request of the account (outside its request context: Stripe's automatic events name no
 * request) and whenever the clock moves. Returns how many lapsed.
 */
export function expireAuthorizations(store: Store): number {
  const now = store.now();
  let lapsed = 0;
  for (const pi of store.paymentIntents.values()) {
    if (pi.api.status !== 'requires_capture' || captureBefore(store, pi) > now) continue;
    cancelPaymentIntent(store, pi, 'automatic');
    lapsed++;
  }
  return lapsed;
}

/** The test control: the authorization lapses now, whatever the clock says. */
export function expireAuthorization(store: Store, id: string): Stripe.PaymentIntent {
  const pi = requirePaymentIntentPath(store, id);
  if (pi.api.status !== 'requires_capture') {
    throw invalidRequest(`This PaymentIntent has no authorization to expire (status: ${pi.api.status}).`, { code: 'payment_intent_unexpected_state' });
  }
  cancelPaymentIntent(store, pi, 'automatic');
  return serializePaymentIntent(pi);
}

function checkDescriptor(value: string | undefined, param: string): void {
  if (value !== undefined && value.length > 22) throw invalidRequest(`The ${param} must be at most 22 characters.`, { param });
}

/** Captures `amount` of the authorization; the rest is given back (refund.created, charge.refunded). */
function capture(store: Store, pi: StoredPaymentIntent, amount: number): void {
  const ch = authorizedCharge(store, pi);
  const rest = pi.api.amount_capturable - amount;
  ch.api.captured = true;
  ch.api.amount_captured = amount;
  store.emit('charge.captured', ch.api);
  if (rest > 0) {
    releaseAuthorizedAmount(store, ch, rest);
    store.emit('charge.refunded', ch.api);
  }
  pi.api.amount_capturable = 0;
  pi.api.amount_received = amount;
  pi.api.status = 'succeeded';
  store.emit('payment_intent.succeeded', pi.api);
}

const captureRoute = defineRoute({
  method: 'POST',
  path: '/v1/payment_intents/:id/capture',
  params: {
    amount_to_capture: p.integer(),
    application_fee_amount: p.integer(),
    final_capture: p.boolean(),
    metadata: p.metadata(),
    statement_descriptor: p.string(),
    statement_descriptor_suffix: p.string(),
    transfer_data: p.opaque(),
    amount_details: p.opaque(),
    hooks: p.opaque(),
    payment_details: p.opaque(),
    expand: p.expand(),
  },
  expandable: ['customer', 'payment_method', 'latest_charge', 'latest_charge.refunds'],
  handle: ({ store, path, params }) => {
    const pi = requirePaymentIntentPath(store, path.id);
    if (params.application_fee_amount !== undefined) throw notSupported('application_fee_amount (Connect)', 'application_fee_amount');
    if (params.transfer_data !== undefined) throw notSupported('transfer_data (Connect)', 'transfer_data');
    if (params.final_capture === false) throw notSupported('final_capture=false (multicapture)', 'final_capture');
    if (pi.api.status !== 'requires_capture') {
      throw invalidRequest(
        `This PaymentIntent could not be captured because it has a status of ${pi.api.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
        { code: 'payment_intent_unexpected_state' },
      );
    }
    const amount = params.amount_to_capture ?? pi.api.amount_capturable;
    if (amount > pi.api.amount_capturable) {
      throw invalidRequest(
        `The payment could not be captured because the requested capture amount (${formatAmount(amount, pi.api.currency)}) is greater than the amount you can capture for this charge (${formatAmount(pi.api.amount_capturable, pi.api.currency)}).`,
        { code: 'amount_too_large', param: 'amount_to_capture' },
      );
    }
    if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param: 'amount_to_capture' });
    checkChargeAmount(amount, pi.api.currency, 'amount_to_capture');
    checkDescriptor(params.statement_descriptor, 'statement_descriptor');
    checkDescriptor(params.statement_descriptor_suffix, 'statement_descriptor_suffix');
    pi.api.metadata = mergeMetadata(pi.api.metadata, params.metadata);
    if (params.statement_descriptor !== undefined) pi.api.statement_descriptor = params.statement_descriptor;
    if (params.statement_descriptor_suffix !== undefined) pi.api.statement_descriptor_suffix = params.statement_descriptor_suffix;
    capture(store, pi, amount);
    return { body: serializePaymentIntent(pi) };
  },
});

export const authorizationRoutes: ApiRoute[] = [captureRoute];
