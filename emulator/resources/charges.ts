/**
 * Charges: made by PaymentIntent confirmations (one per attempt, succeeded or failed, or pending
 * while a PaymentIntent is `processing`), read through GET. `amount_refunded` and `refunded`
 * follow the refunds; the `refunds` list is only present when expanded, as on Stripe today.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute, type ListObject } from '../api-routes';
import { newId, randomAlnum } from '../ids';
import { inRange, listParams, p } from '../params';
import type { Store, StoredCharge, StoredPaymentIntent, StoredPaymentMethod } from '../store';
import { resourceMissing } from '../stripe-errors';
import type { CardDecline } from '../test-cards';
import { STATEMENT_DESCRIPTOR } from './accounts';

export type ChargeResult =
  | { kind: 'succeeded' }
  /** Manual capture: authorized, waiting for `capture` (status succeeded, captured false). */
  | { kind: 'authorized' }
  | { kind: 'pending' }
  | { kind: 'failed'; decline: CardDecline }
  /** 3DS passed, then the issuer declined: the charge records the authentication. */
  | { kind: 'failed_after_authentication'; decline: CardDecline };

const APPROVED: Stripe.Charge.Outcome = {
  advice_code: null,
  network_advice_code: null,
  network_decline_code: null,
  network_status: 'approved_by_network',
  reason: null,
  risk_level: 'normal',
  risk_score: 32,
  seller_message: 'Payment complete.',
  type: 'authorized',
};

/** How Stripe waits for a capture of an online card authorization: 7 days. */
export const AUTHORIZATION_WINDOW_SECONDS = 7 * 24 * 60 * 60;

/** What 3-D Secure did for a charge: challenged and passed, or requested on a card that cannot do it. */
export type ThreeDSecureOutcome = 'authenticated' | 'not_supported';

/** Radar's verdict on a blocked charge: it never reached the card network. */
const BLOCKED: Stripe.Charge.Outcome = {
  advice_code: null,
  network_advice_code: null,
  network_decline_code: null,
  network_status: 'not_sent_to_network',
  reason: 'highest_risk_level',
  risk_level: 'highest',
  risk_score: 95,
  seller_message: 'Stripe blocked this payment as too risky.',
  type: 'blocked',
};

function declinedOutcome(decline: CardDecline): Stripe.Charge.Outcome {
  if (decline.blocked) return BLOCKED;
  const blocked = decline.code === 'authentication_required';
  return {
    advice_code: decline.declineCode === 'insufficient_funds' ? 'try_again_later' : 'do_not_try_again',
    network_advice_code: null,
    network_decline_code: null,
    network_status: 'declined_by_network',
    reason: decline.declineCode ?? decline.code,
    risk_level: 'normal',
    risk_score: 32,
    seller_message: blocked
      ? 'The bank returned the decline code `authentication_required`.'
      : 'The bank did not return any further details with this decline.',
    type: 'issuer_declined',
  };
}

/** Records one payment attempt of `pi` with `pm` and emits charge.succeeded / charge.failed / charge.pending. */
function threeDSecureDetails(outcome: ThreeDSecureOutcome | null): Stripe.Charge.PaymentMethodDetails.Card.ThreeDSecure | null {
  switch (outcome) {
    case null:
      return null;
    case 'authenticated':
      return {
        authentication_flow: 'challenge',
        electronic_commerce_indicator: '05',
        exemption_indicator: null,
        result: 'authenticated',
        result_reason: null,
        transaction_id: null,
        version: '2.2.0',
      };
    case 'not_supported':
      // Requested, but the issuer does not take part: the payment went ahead unauthenticated.
      return {
        authentication_flow: null,
        electronic_commerce_indicator: null,
        exemption_indicator: null,
        result: 'not_supported',
        result_reason: 'card_not_enrolled',
        transaction_id: null,
        version: null,
      };
  }
}

/**
 * Records one payment attempt of `pi` with `pm` and emits charge.succeeded (also for a manual
 * capture's authorization, as Stripe does) / charge.failed / charge.pending.
 */
export function createCharge(
  store: Store,
  pi: StoredPaymentIntent,
  pm: StoredPaymentMethod,
  result: ChargeResult,
  threeDSecure: ThreeDSecureOutcome | null,
): StoredCharge {
  const card = pm.api.card;
  const authorized = result.kind === 'succeeded' || result.kind === 'authorized';
  const succeeded = result.kind === 'succeeded';
  const failed = result.kind === 'failed' || result.kind === 'failed_after_authentication';
  const decline = failed ? result.decline : undefined;
  const created = store.now();
  const authenticated = threeDSecure === 'authenticated';
  const api: Stripe.Charge = {
    id: newId.charge(),
    object: 'charge',
    amount: pi.api.amount,
    amount_captured: succeeded ? pi.api.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: structuredClone(pm.api.billing_details),
    calculated_statement_descriptor: `${STATEMENT_DESCRIPTOR}${pi.api.statement_descriptor_suffix ? `* ${pi.api.statement_descriptor_suffix}` : ''}`.slice(
      0,
      22,
    ),
    captured: succeeded,
    created,
    currency: pi.api.currency,
    customer: pi.api.customer,
    description: pi.api.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: decline?.code ?? null,
    failure_message: decline?.message ?? null,
    fraud_details: {},
    livemode: false,
    metadata: structuredClone(pi.api.metadata),
    on_behalf_of: null,
    outcome: decline ? declinedOutcome(decline) : result.kind === 'pending' ? null : APPROVED,
    paid: authorized,
    payment_intent: pi.api.id,
    payment_method: pm.api.id,
    payment_method_details: {
      type: 'card',
      card: {
        amount_authorized: authorized ? pi.api.amount : null,
        authorization_code: authorized ? randomAlnum(6).toUpperCase() : null,
        ...(result.kind === 'authorized' ? { capture_before: created + AUTHORIZATION_WINDOW_SECONDS } : {}),
        brand: card?.brand ?? null,
        checks: card?.checks ?? null,
        country: card?.country ?? null,
        electronic_commerce_indicator: authenticated ? '05' : null,
        exp_month: card?.exp_month ?? 12,
        exp_year: card?.exp_year ?? 2030,
        fingerprint: card?.fingerprint ?? null,
        funding: card?.funding ?? null,
        installments: null,
        last4: card?.last4 ?? null,
        mandate: null,
        network: card?.brand ?? null,
        network_transaction_id: authorized ? randomAlnum(15) : null,
        regulated_status: 'unregulated',
        three_d_secure: threeDSecureDetails(threeDSecure),
        transaction_link_id: null,
        wallet: null,
      },
    },
    receipt_email: pi.api.receipt_email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: pi.api.statement_descriptor,
    statement_descriptor_suffix: pi.api.statement_descriptor_suffix,
    status: authorized ? 'succeeded' : result.kind === 'pending' ? 'pending' : 'failed',
    transfer_data: null,
    transfer_group: null,
  };
  const stored: StoredCharge = { api, refunds: [] };
  store.charges.set(api.id, stored);
  store.emit(authorized ? 'charge.succeeded' : failed ? 'charge.failed' : 'charge.pending', api);
  return stored;
}

/** A pending charge settles (processing mode): succeeded (captured, or only authorized for a manual capture), or failed with a decline. */
export function settleCharge(store: Store, ch: StoredCharge, decline: CardDecline | null, capture = true): void {
  if (decline === null) {
    ch.api.status = 'succeeded';
    ch.api.paid = true;
    ch.api.captured = capture;
    ch.api.amount_captured = capture ? ch.api.amount : 0;
    ch.api.outcome = APPROVED;
    const card = ch.api.payment_method_details?.card;
    if (card) {
      card.amount_authorized = ch.api.amount;
      if (!capture) card.capture_before = store.now() + AUTHORIZATION_WINDOW_SECONDS;
    }
    store.emit('charge.succeeded', ch.api);
    return;
  }
  ch.api.status = 'failed';
  ch.api.failure_code = decline.code;
  ch.api.failure_message = decline.message;
  ch.api.outcome = declinedOutcome(decline);
  store.emit('charge.failed', ch.api);
}

export function serializeCharge(ch: StoredCharge): Stripe.Charge {
  return structuredClone(ch.api);
}

/** The `refunds` list of a charge, newest first, as `expand: ['refunds']` shows it. */
export function chargeRefundList(store: Store, ch: StoredCharge): ListObject<Stripe.Refund> & { total_count: number } {
  const data = ch.refunds
    .map((id) => store.refunds.get(id))
    .filter((r): r is Stripe.Refund => r !== undefined)
    .reverse()
    .map((r) => structuredClone(r));
  return { object: 'list', data, has_more: false, total_count: data.length, url: `/v1/charges/${ch.api.id}/refunds` };
}

/** The expand hook for fields a Charge only has when expanded. */
export function expandChargeField(store: Store, parent: Record<string, unknown>, field: string): unknown {
  if (parent.object !== 'charge' || field !== 'refunds' || typeof parent.id !== 'string') return undefined;
  const ch = store.charges.get(parent.id);
  return ch ? chargeRefundList(store, ch) : undefined;
}

export function requireChargePath(store: Store, id: string): StoredCharge {
  const ch = store.charges.get(id);
  if (!ch) throw resourceMissing('charge', id);
  return ch;
}

const EXPANDABLE = ['customer', 'payment_intent', 'refunds'] as const;

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/charges/:id',
  params: { expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => ({ body: serializeCharge(requireChargePath(store, path.id)) }),
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/charges',
  params: { ...listParams, customer: p.string(), payment_intent: p.string(), created: p.range() },
  list: true,
  expandable: EXPANDABLE,
  handle: ({ store, params }) => {
    const items = newestFirst([...store.charges.values()].map((c) => c.api))
      .filter((c) => params.customer === undefined || c.customer === params.customer)
      .filter((c) => params.payment_intent === undefined || c.payment_intent === params.payment_intent)
      .filter((c) => inRange(c.created, params.created))
      .map((c) => structuredClone(c));
    return { body: paginate(items, params, '/v1/charges') };
  },
});

export const chargeRoutes: ApiRoute[] = [retrieve, list];
