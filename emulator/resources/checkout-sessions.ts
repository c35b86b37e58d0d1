/**
 * Checkout Sessions, setup mode only (payment and subscription mode answer 400 for now).
 * Creating a session creates its SetupIntent. Sessions expire lazily: any read past
 * `expires_at` (emulator clock) turns an open session into an expired one first.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute, type EmulatorRuntime } from '../api-routes';
import { newId } from '../ids';
import { listParams, mergeMetadata, p } from '../params';
import type { Store, StoredCheckoutSession } from '../store';
import { invalidRequest, notSupported, parameterMissing, resourceMissing } from '../stripe-errors';
import { isHttpUrl } from '../urls';
import { requireCustomerParam } from './lookups';
import { cancelSetupIntent, createSetupIntent } from './setup-intents';

const DAY = 24 * 60 * 60;
const MIN_EXPIRY = 30 * 60;

export function hostedPageUrl(runtime: EmulatorRuntime, id: string): string {
  return `${runtime.publicUrl}/c/pay/${id}`;
}

/** Stripe fills `{CHECKOUT_SESSION_ID}` in success_url and cancel_url when it redirects. */
export function fillTemplate(url: string, sessionId: string): string {
  return url.split('{CHECKOUT_SESSION_ID}').join(sessionId);
}

/** A session by id with lazy expiry applied; undefined when unknown. */
export function findSession(store: Store, id: string): StoredCheckoutSession | undefined {
  const stored = store.checkoutSessions.get(id);
  if (stored && stored.api.status === 'open' && store.now() >= stored.api.expires_at) expireSession(store, stored);
  return stored;
}

export function requireSessionPath(store: Store, id: string): StoredCheckoutSession {
  const stored = findSession(store, id);
  if (!stored) throw resourceMissing('checkout.session', id);
  return stored;
}

export function expireSession(store: Store, stored: StoredCheckoutSession): void {
  stored.api.status = 'expired';
  stored.api.url = null;
  stored.pendingAuthentication = null;
  const siId = stored.api.setup_intent;
  const si = typeof siId === 'string' ? store.setupIntents.get(siId) : undefined;
  if (si && si.api.status !== 'succeeded' && si.api.status !== 'canceled') cancelSetupIntent(store, si, 'abandoned');
  store.emit('checkout.session.expired', stored.api);
}

export function completeSession(store: Store, stored: StoredCheckoutSession, billingName: string | null): void {
  const session = stored.api;
  const customer = typeof session.customer === 'string' ? store.customers.get(session.customer) : undefined;
  const email = customer && !customer.deleted ? customer.email : session.customer_email;
  session.status = 'complete';
  session.url = null;
  session.customer_details = {
    address: null,
    business_name: null,
    email: email ?? null,
    individual_name: null,
    name: billingName,
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  };
  stored.pendingAuthentication = null;
  store.emit('checkout.session.completed', session);
}

export function serializeSession(stored: StoredCheckoutSession): Stripe.Checkout.Session {
  return structuredClone(stored.api);
}

function checkUrl(value: string | undefined, param: string): void {
  if (value === undefined) return;
  if (!isHttpUrl(value)) throw invalidRequest('Not a valid URL', { code: 'url_invalid', param });
}

const createParams = {
  mode: p.enumOf('payment', 'setup', 'subscription'),
  customer: p.string(),
  customer_email: p.string(),
  customer_creation: p.enumOf('always', 'if_required'),
  currency: p.string(),
  allowed_payment_method_types: p.arrayOf(p.string()),
  success_url: p.string(),
  cancel_url: p.string(),
  return_url: p.string(),
  client_reference_id: p.string(),
  metadata: p.metadata(),
  expires_at: p.integer(),
  locale: p.string(),
  ui_mode: p.string(),
  billing_address_collection: p.enumOf('auto', 'required'),
  setup_intent_data: p.object({ description: p.string(), metadata: p.metadata(), on_behalf_of: p.string() }),
  payment_method_options: p.opaque(),
  custom_text: p.opaque(),
  consent_collection: p.opaque(),
  line_items: p.opaque(),
  expand: p.expand(),
} as const;

const EXPANDABLE = ['customer', 'setup_intent', 'setup_intent.payment_method', 'setup_intent.customer'] as const;

const create = defineRoute({
  method: 'POST',
  path: '/v1/checkout/sessions',
  params: createParams,
  required: ['mode'],
  expandable: EXPANDABLE,
  handle: ({ store, runtime, params }) => {
    if (params.mode !== 'setup') throw notSupported(`mode=${params.mode}`, 'mode');
    const uiMode = params.ui_mode ?? 'hosted_page';
    if (uiMode !== 'hosted_page' && uiMode !== 'hosted') throw notSupported(`ui_mode=${uiMode}`, 'ui_mode');
    if (params.line_items !== undefined) {
      throw invalidRequest('You can not pass `line_items` in `setup` mode.', { param: 'line_items' });
    }
    if (params.customer_creation !== undefined) {
      throw invalidRequest('`customer_creation` can only be used in `payment` mode.', { param: 'customer_creation' });
    }
    if (params.return_url !== undefined) {
      throw invalidRequest('`return_url` can only be used with embedded or custom `ui_mode`.', { param: 'return_url' });
    }
    if (params.setup_intent_data?.on_behalf_of !== undefined) {
      throw notSupported('setup_intent_data[on_behalf_of]', 'setup_intent_data[on_behalf_of]');
    }
    if (params.customer !== undefined && params.customer_email !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', {
        code: 'parameters_exclusive',
      });
    }
    // Setup mode needs to know which payment methods to offer: a currency or an explicit list.
    if (params.currency === undefined && params.allowed_payment_method_types === undefined) {
      const err = parameterMissing('currency');
      err.body.message = 'Missing required param: currency. In `setup` mode, pass `currency` or `allowed_payment_method_types`.';
      throw err;
    }
    if (params.currency !== undefined && !/^[a-zA-Z]{3}$/.test(params.currency)) {
      throw invalidRequest(`Invalid currency: ${params.currency.toLowerCase()}. A currency is a three-letter ISO code such as usd.`, {
        param: 'currency',
      });
    }
    params.allowed_payment_method_types?.forEach((t, i) => {
      if (t !== 'card') throw notSupported(`allowed_payment_method_types[${i}]=${t}`, `allowed_payment_method_types[${i}]`);
    });
    checkUrl(params.success_url, 'success_url');
    checkUrl(params.cancel_url, 'cancel_url');
    if (params.client_reference_id !== undefined && params.client_reference_id.length > 200) {
      throw invalidRequest('client_reference_id must be at most 200 characters.', { param: 'client_reference_id' });
    }
    const created = store.now();
    if (params.expires_at !== undefined) {
      if (params.expires_at < created + MIN_EXPIRY) {
        throw invalidRequest('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', {
          param: 'expires_at',
        });
      }
      if (params.expires_at > created + DAY) {
        throw invalidRequest('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', {
          param: 'expires_at',
        });
      }
    }
    const customer = params.customer !== undefined ? requireCustomerParam(store, params.customer).id : null;

    const id = newId.checkoutSession();
    const si = createSetupIntent(store, {
      customer,
      usage: 'off_session',
      metadata: params.setup_intent_data?.metadata,
      description: params.setup_intent_data?.description,
      allowedPaymentMethodTypes: params.allowed_payment_method_types ?? null,
      automaticPaymentMethods: null,
      checkoutSession: id,
      returnUrl: null,
    });
    const session: Stripe.Checkout.Session = {
      id,
      object: 'checkout.session',
      adaptive_pricing: null,
      after_expiration: null,
      allow_promotion_codes: null,
      allowed_payment_method_types: params.allowed_payment_method_types ?? null,
      amount_subtotal: null,
      amount_total: null,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: params.billing_address_collection ?? null,
      cancel_url: params.cancel_url ?? null,
      client_reference_id: params.client_reference_id ?? null,
      client_secret: null,
      collected_information: null,
      consent: null,
      consent_collection: null,
      created,
      currency: params.currency?.toLowerCase() ?? null,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer,
      customer_account: null,
      customer_creation: null,
      customer_details: params.customer_email
        ? {
            address: null,
            business_name: null,
            email: params.customer_email,
            individual_name: null,
            name: null,
            phone: null,
            tax_exempt: 'none',
            tax_ids: null,
          }
        : null,
      customer_email: params.customer_email ?? null,
      discounts: null,
      expires_at: params.expires_at ?? created + DAY,
      integration_identifier: null,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: params.locale ?? null,
      managed_payments: null,
      metadata: mergeMetadata({}, params.metadata),
      mode: 'setup',
      origin_context: null,
      payment_intent: null,
      payment_link: null,
      payment_method_collection: 'always',
      payment_method_configuration_details: null,
      payment_method_options: {},
      payment_method_types: ['card'],
      payment_status: 'no_payment_required',
      permissions: null,
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: si.api.id,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      submit_type: null,
      subscription: null,
      success_url: params.success_url ?? null,
      total_details: null,
      ui_mode: uiMode,
      url: hostedPageUrl(runtime, id),
      wallet_options: null,
    };
    const stored: StoredCheckoutSession = { api: session, pendingAuthentication: null };
    // Stripe has no checkout.session.created event; completion and expiry are the ones it sends.
    store.checkoutSessions.set(id, stored);
    return { body: serializeSession(stored) };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/checkout/sessions/:id',
  params: { expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => ({ body: serializeSession(requireSessionPath(store, path.id)) }),
});

const expire = defineRoute({
  method: 'POST',
  path: '/v1/checkout/sessions/:id/expire',
  params: { expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => {
    const stored = requireSessionPath(store, path.id);
    if (stored.api.status !== 'open') {
      throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${stored.api.status}".`);
    }
    expireSession(store, stored);
    return { body: serializeSession(stored) };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/checkout/sessions',
  params: { ...listParams, customer: p.string(), status: p.enumOf('open', 'complete', 'expired'), setup_intent: p.string() },
  list: true,
  expandable: EXPANDABLE,
  handle: ({ store, params }) => {
    const all = [...store.checkoutSessions.keys()].map((id) => findSession(store, id)).filter((s) => s !== undefined);
    const items = newestFirst(all.map((s) => s.api))
      .filter((s) => params.customer === undefined || s.customer === params.customer)
      .filter((s) => params.status === undefined || s.status === params.status)
      .filter((s) => params.setup_intent === undefined || s.setup_intent === params.setup_intent)
      .map((s) => structuredClone(s));
    return { body: paginate(items, params, '/v1/checkout/sessions') };
  },
});

export const checkoutSessionRoutes: ApiRoute[] = [create, retrieve, expire, list];
