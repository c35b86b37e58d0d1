/**
 * Refunds of succeeded card payments, whole or in parts up to the captured amount. A refund
 * counts against the charge's unrefunded amount from the moment it exists (pending too); a
 * failed or canceled one gives its amount back. Immediate mode (the default) succeeds at once;
 * pending mode leaves refunds `pending` until `settleRefund`.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute } from '../api-routes';
import { formatAmount } from '../currencies';
import { newId } from '../ids';
import { inRange, listParams, mergeMetadata, p, type MetadataInput } from '../params';
import type { Store, StoredCharge } from '../store';
import { invalidRequest, resourceMissing, resourceMissingParam } from '../stripe-errors';

export type RefundFailureReason = 'declined' | 'expired_or_canceled_card' | 'lost_or_stolen_card' | 'unknown';

export function requireRefundPath(store: Store, id: string): Stripe.Refund {
  const refund = store.refunds.get(id);
  if (!refund) throw resourceMissing('refund', id);
  return refund;
}

function chargeOf(store: Store, refund: Stripe.Refund): StoredCharge {
  const ch = typeof refund.charge === 'string' ? store.charges.get(refund.charge) : undefined;
  if (!ch) throw new Error(`Refund ${refund.id} has no charge`);
  return ch;
}

/**
 * amount_refunded counts pending and succeeded refunds, and what a partial capture or a release
 * gave back of an authorization; `refunded` is true once nothing of the amount is left.
 */
function adjustRefunded(ch: StoredCharge, delta: number): void {
  ch.api.amount_refunded += delta;
  ch.api.refunded = ch.api.amount_refunded >= ch.api.amount;
}

/** What can still be refunded: the amount less what was refunded or never captured. */
function unrefunded(ch: StoredCharge): number {
  return ch.api.amount - ch.api.amount_refunded;
}

/** The charge a create request refunds: the PaymentIntent's successful charge, or the charge named. */
function refundableCharge(store: Store, paymentIntent: string | undefined, charge: string | undefined): StoredCharge {
  if (paymentIntent === undefined && charge === undefined) {
    throw invalidRequest('One of the following params should be provided for this request: payment_intent or charge.', {
      code: 'parameter_missing',
    });
  }
  let ch: StoredCharge | undefined;
  if (paymentIntent !== undefined) {
    const pi = store.paymentIntents.get(paymentIntent);
    if (!pi) throw resourceMissingParam('payment_intent', paymentIntent, 'payment_intent');
    const latest = typeof pi.api.latest_charge === 'string' ? store.charges.get(pi.api.latest_charge) : undefined;
    if (pi.api.status !== 'succeeded' || !latest || latest.api.status !== 'succeeded') {
      throw invalidRequest(`This PaymentIntent (${pi.api.id}) does not have a successful charge to refund.`, {
        code: 'payment_intent_unexpected_state',
        param: 'payment_intent',
      });
    }
    if (charge !== undefined && charge !== latest.api.id) {
      throw invalidRequest(`The charge ${charge} does not belong to the PaymentIntent ${pi.api.id}.`, { param: 'charge' });
    }
    ch = latest;
  } else if (charge !== undefined) {
    ch = store.charges.get(charge);
    if (!ch) throw resourceMissingParam('charge', charge, 'charge');
    if (ch.api.status !== 'succeeded') {
      throw invalidRequest(`Charge ${ch.api.id} cannot be refunded because its status is ${ch.api.status}.`, {
        code: 'charge_not_refundable',
        param: 'charge',
      });
    }
    if (!ch.api.captured) {
      // Stripe would release the authorization; the emulator wants the PaymentIntent canceled for that.
      throw invalidRequest(`Charge ${ch.api.id} has not been captured. Cancel its PaymentIntent to release the authorization.`, {
        code: 'charge_not_refundable',
        param: 'charge',
      });
    }
  }
  if (!ch) throw new Error('unreachable: no charge');
  return ch;
}

interface RefundInit {
  amount: number;
  pending: boolean;
  reason: Stripe.Refund.Reason | null;
  metadata: Stripe.Metadata;
}

/** Adds a refund to a charge (its amount counts at once) and emits refund.created; the caller emits charge.refunded. */
function recordRefund(store: Store, ch: StoredCharge, init: RefundInit): Stripe.Refund {
  const { amount, pending } = init;
  const refund: Stripe.Refund = {
    id: newId.refund(),
    object: 'refund',
    amount,
    balance_transaction: null,
    charge: ch.api.id,
    created: store.now(),
    currency: ch.api.currency,
    customer: ch.api.customer,
    customer_account: null,
    destination_details: {
      type: 'card',
      card: { reference_status: pending ? 'pending' : 'available', reference_type: 'acquirer_reference_number', type: 'refund' },
    },
    metadata: init.metadata,
    payment_intent: ch.api.payment_intent,
    payment_method: ch.api.payment_method,
    ...(pending ? { pending_reason: 'processing' as const } : {}),
    reason: init.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: pending ? 'pending' : 'succeeded',
    transfer_reversal: null,
  };
  store.refunds.set(refund.id, refund);
  ch.refunds.push(refund.id);
  adjustRefunded(ch, amount);
  store.emit('refund.created', refund);
  return refund;
}

/**
 * Gives back the part of an authorization that will never be captured (the rest after a
 * partial capture, or all of it on cancel or lapse). Stripe says it is "automatically
 * refunded": a succeeded refund with no reason, counted in the charge's amount_refunded.
 * The caller emits the charge's event (charge.refunded or charge.expired).
 */
export function releaseAuthorizedAmount(store: Store, ch: StoredCharge, amount: number): Stripe.Refund {
  return recordRefund(store, ch, { amount, pending: false, reason: null, metadata: {} });
}

const createParams = {
  payment_intent: p.string(),
  charge: p.string(),
  amount: p.integer(),
  reason: p.enumOf('duplicate', 'fraudulent', 'requested_by_customer'),
  metadata: p.metadata(),
  instructions_email: p.string(),
  expand: p.expand(),
} as const;

const EXPANDABLE = ['charge', 'payment_intent'] as const;

const create = defineRoute({
  method: 'POST',
  path: '/v1/refunds',
  params: createParams,
  expandable: EXPANDABLE,
  handle: ({ store, params }) => ({ body: refund(store, params) }),
});

interface RefundRequest {
  payment_intent?: string;
  charge?: string;
  amount?: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';
  metadata?: MetadataInput;
}

/** Refunds a succeeded charge (all of what is left without an amount), as POST /v1/refunds does. */
function refund(store: Store, params: RefundRequest): Stripe.Refund {
  const ch = refundableCharge(store, params.payment_intent, params.charge);
  const rest = unrefunded(ch);
  if (rest <= 0) {
    throw invalidRequest(`Charge ${ch.api.id} has already been refunded.`, { code: 'charge_already_refunded' });
  }
  const amount = params.amount ?? rest;
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param: 'amount' });
  if (amount > rest) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, ch.api.currency)}) is greater than unrefunded amount on charge (${formatAmount(rest, ch.api.currency)})`,
      { code: 'amount_too_large', param: 'amount' },
    );
  }
  const pending = store.modes.refunds === 'pending';
  const made = recordRefund(store, ch, { amount, pending, reason: params.reason ?? null, metadata: mergeMetadata({}, params.metadata) });
  if (!pending) store.emit('charge.refunded', ch.api);
  return structuredClone(made);
}

export type DashboardRefundRequest = Omit<RefundRequest, 'metadata'>;

/**
 * A refund someone made in the Stripe Dashboard: the same rules and events as POST /v1/refunds
 * (refund.created, charge.refunded), but no API request (the events' `request.id` is null, as
 * Stripe's are for Dashboard actions) and no metadata.
 */
export function dashboardRefund(store: Store, params: DashboardRefundRequest): Stripe.Refund {
  return refund(store, params);
}

/** Ends a pending refund (pending mode): succeeded, or failed with its amount given back to the charge. */
export function settleRefund(store: Store, id: string, outcome: 'succeeded' | 'failed', failureReason: RefundFailureReason = 'declined'): Stripe.Refund {
  const refund = requireRefundPath(store, id);
  if (refund.status !== 'pending') {
    throw invalidRequest(`This refund is not pending (status: ${refund.status}).`, { code: 'refund_unexpected_state' });
  }
  const ch = chargeOf(store, refund);
  delete refund.pending_reason;
  if (outcome === 'succeeded') {
    refund.status = 'succeeded';
    if (refund.destination_details?.card) refund.destination_details.card.reference_status = 'available';
    store.emit('refund.updated', refund);
    store.emit('charge.refunded', ch.api);
  } else {
    refund.status = 'failed';
    refund.failure_reason = failureReason;
    if (refund.destination_details?.card) refund.destination_details.card.reference_status = 'unavailable';
    adjustRefunded(ch, -refund.amount);
    store.emit('refund.failed', refund);
    store.emit('refund.updated', refund);
  }
  return structuredClone(refund);
}

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/refunds/:id',
  params: { expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => ({ body: structuredClone(requireRefundPath(store, path.id)) }),
});

const cancel = defineRoute({
  method: 'POST',
  path: '/v1/refunds/:id/cancel',
  params: { expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => {
    const refund = requireRefundPath(store, path.id);
    if (refund.status !== 'pending' && refund.status !== 'requires_action') {
      throw invalidRequest(
        `You can't cancel a refund with a status of \`${refund.status}\`. Only refunds with a status of \`pending\` or \`requires_action\` can be canceled.`,
        { code: 'refund_unexpected_state' },
      );
    }
    refund.status = 'canceled';
    delete refund.pending_reason;
    adjustRefunded(chargeOf(store, refund), -refund.amount);
    store.emit('refund.updated', refund);
    return { body: structuredClone(refund) };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/refunds',
  params: { ...listParams, payment_intent: p.string(), charge: p.string(), created: p.range() },
  list: true,
  expandable: EXPANDABLE,
  handle: ({ store, params }) => {
    const items = newestFirst(store.refunds.values())
      .filter((r) => params.payment_intent === undefined || r.payment_intent === params.payment_intent)
      .filter((r) => params.charge === undefined || r.charge === params.charge)
      .filter((r) => inRange(r.created, params.created))
      .map((r) => structuredClone(r));
    return { body: paginate(items, params, '/v1/refunds') };
  },
});

export const refundRoutes: ApiRoute[] = [create, retrieve, cancel, list];
