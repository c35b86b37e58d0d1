/**
 * PaymentMethods (cards only). Magic ids such as `pm_card_visa` make a fresh PaymentMethod each
 * time they are used, as on Stripe. The full card number and CVC are never kept: only the
 * test-card row (`testCard`), brand, last4 and a fingerprint.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute } from '../api-routes';
import { newId } from '../ids';
import { listParams, p } from '../params';
import type { Store, StoredPaymentMethod } from '../store';
import { cardError, invalidRequest, resourceMissing, resourceMissingParam } from '../stripe-errors';
import { isMagicId, lookupMagicId, testCardByKey, type CardDecline, type CardIdentity } from '../test-cards';
import { liveCustomer, requireCustomerParam, requireCustomerPath } from './lookups';

export interface CardDetails {
  expMonth: number;
  expYear: number;
  /** A CVC was entered (cvc_check 'pass'); magic ids have none ('unchecked'). */
  cvcProvided: boolean;
  name?: string | null;
  email?: string | null;
}

export function createCardPaymentMethod(store: Store, identity: CardIdentity, details: CardDetails): StoredPaymentMethod {
  const api: Stripe.PaymentMethod = {
    id: newId.paymentMethod(),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: details.email ?? null,
      name: details.name ?? null,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: identity.brand,
      checks: {
        address_line1_check: null,
        address_postal_code_check: null,
        cvc_check: details.cvcProvided ? 'pass' : 'unchecked',
      },
      country: identity.country,
      display_brand: identity.brand,
      exp_month: details.expMonth,
      exp_year: details.expYear,
      fingerprint: identity.fingerprint,
      funding: identity.funding,
      generated_from: null,
      last4: identity.last4,
      networks: { available: [identity.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: identity.card.threeDSecureSupported },
      wallet: null,
    },
    created: store.now(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
  const stored: StoredPaymentMethod = { api, testCard: identity.card.key, setupCompleted: false };
  // No event: Stripe has no payment_method.created; attaching sends payment_method.attached.
  store.paymentMethods.set(api.id, stored);
  return stored;
}

/** Magic ids get an expiry a few years ahead of the emulator clock, like Stripe's test PaymentMethods. */
export function defaultExpiry(store: Store): { expMonth: number; expYear: number } {
  return { expMonth: 12, expYear: new Date(store.now() * 1000).getUTCFullYear() + 3 };
}

/** Resolves a `payment_method` parameter: a stored id, or a magic id that makes a fresh one. */
export function resolvePaymentMethodParam(store: Store, id: string, param = 'payment_method'): StoredPaymentMethod {
  if (isMagicId(id)) {
    const identity = lookupMagicId(id);
    if (!identity) throw resourceMissingParam('PaymentMethod', id, param);
    return createCardPaymentMethod(store, identity, { ...defaultExpiry(store), cvcProvided: false });
  }
  const stored = store.paymentMethods.get(id);
  if (!stored) throw resourceMissingParam('PaymentMethod', id, param);
  return stored;
}

function resolvePaymentMethodPath(store: Store, id: string): StoredPaymentMethod {
  if (isMagicId(id)) {
    const identity = lookupMagicId(id);
    if (!identity) throw resourceMissing('payment_method', id);
    return createCardPaymentMethod(store, identity, { ...defaultExpiry(store), cvcProvided: false });
  }
  const stored = store.paymentMethods.get(id);
  if (!stored) throw resourceMissing('payment_method', id);
  return stored;
}

export function attachPaymentMethod(store: Store, pm: StoredPaymentMethod, customerId: string): void {
  if (pm.api.customer === customerId) return;
  pm.api.customer = customerId;
  store.emit('payment_method.attached', pm.api);
}

/**
 * The attach endpoint (and `payment_method` on customer create): Stripe validates the card with
 * the issuer, so cards that decline on setup decline here too. No 3DS happens on attach.
 */
export function attachCheckingCard(store: Store, pm: StoredPaymentMethod, customerId: string): void {
  if (pm.api.customer !== null && pm.api.customer !== customerId) {
    throw invalidRequest('The payment method you provided has already been attached to a customer.', {
      code: 'payment_method_unexpected_state',
    });
  }
  const setup = testCardByKey(pm.testCard).setup;
  if (setup.kind === 'decline') throw declineToCardError(setup.decline, { payment_method: serializePaymentMethod(pm) });
  attachPaymentMethod(store, pm, customerId);
}

export function declineToCardError(decline: CardDecline, extra: { setup_intent?: unknown; payment_method?: unknown } = {}) {
  return cardError({
    code: decline.code,
    ...(decline.declineCode ? { decline_code: decline.declineCode } : {}),
    message: decline.message,
    ...(decline.param ? { param: decline.param } : {}),
    ...extra,
  });
}

export function serializePaymentMethod(pm: StoredPaymentMethod): Stripe.PaymentMethod {
  return structuredClone(pm.api);
}

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/payment_methods/:id',
  params: { expand: p.expand() },
  expandable: ['customer'],
  handle: ({ store, path }) => ({ body: serializePaymentMethod(resolvePaymentMethodPath(store, path.id)) }),
});

const attach = defineRoute({
  method: 'POST',
  path: '/v1/payment_methods/:id/attach',
  params: { customer: p.string(), expand: p.expand() },
  required: ['customer'],
  expandable: ['customer'],
  handle: ({ store, path, params }) => {
    const pm = resolvePaymentMethodPath(store, path.id);
    const customer = requireCustomerParam(store, params.customer as string);
    attachCheckingCard(store, pm, customer.id);
    return { body: serializePaymentMethod(pm) };
  },
});

const detach = defineRoute({
  method: 'POST',
  path: '/v1/payment_methods/:id/detach',
  params: { expand: p.expand() },
  handle: ({ store, path }) => {
    const pm = resolvePaymentMethodPath(store, path.id);
    if (pm.api.customer === null) {
      throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', {
        code: 'payment_method_unexpected_state',
      });
    }
    const customerId = typeof pm.api.customer === 'string' ? pm.api.customer : pm.api.customer.id;
    pm.api.customer = null;
    const customer = liveCustomer(store, customerId);
    if (customer && customer.invoice_settings.default_payment_method === pm.api.id) {
      customer.invoice_settings.default_payment_method = null;
    }
    store.emit('payment_method.detached', pm.api);
    return { body: serializePaymentMethod(pm) };
  },
});

function listFor(store: Store, customerId: string | null, type: string | undefined): Stripe.PaymentMethod[] {
  const all = newestFirst([...store.paymentMethods.values()].map((pm) => pm.api));
  return all
    .filter((pm) => pm.customer === customerId)
    .filter((pm) => type === undefined || pm.type === type)
    .map((pm) => structuredClone(pm));
}

const list = defineRoute({
  method: 'GET',
  path: '/v1/payment_methods',
  params: { ...listParams, customer: p.string(), type: p.enumOf('card') },
  list: true,
  expandable: ['customer'],
  handle: ({ store, params }) => {
    if (params.customer !== undefined) requireCustomerParam(store, params.customer);
    // Without `customer`, Stripe lists PaymentMethods not attached to any customer.
    return { body: paginate(listFor(store, params.customer ?? null, params.type), params, '/v1/payment_methods') };
  },
});

const listForCustomer = defineRoute({
  method: 'GET',
  path: '/v1/customers/:id/payment_methods',
  params: { ...listParams, type: p.enumOf('card'), allow_redisplay: p.enumOf('always', 'limited', 'unspecified') },
  list: true,
  expandable: ['customer'],
  handle: ({ store, path, params }) => {
    const customer = requireCustomerPath(store, path.id);
    const url = `/v1/customers/${customer.id}/payment_methods`;
    return { body: paginate(listFor(store, customer.id, params.type), params, url) };
  },
});

export const paymentMethodRoutes: ApiRoute[] = [retrieve, attach, detach, list, listForCustomer];
