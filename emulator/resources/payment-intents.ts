/**
 * PaymentIntents (cards): create, retrieve, confirm, cancel, list. A confirmation is one payment
 * attempt (payment-attempts.ts); manual capture and its authorization live in authorizations.ts.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute } from '../api-routes';
import { checkChargeAmount, checkCurrency } from '../currencies';
import { newId } from '../ids';
import { inRange, listParams, mergeMetadata, p, type Infer, type MetadataInput } from '../params';
import type { Store, StoredPaymentIntent, StoredPaymentMethod } from '../store';
import { invalidRequest, notSupported } from '../stripe-errors';
import type { ThreeDSecureRequest } from '../three-d-secure';
import { isHttpUrl } from '../urls';
import { cancelPaymentIntent } from './authorizations';
import { requireCustomerParam, requirePaymentIntentPath, serializePaymentIntent } from './lookups';
import { confirmAttempt, unexpectedState } from './payment-attempts';
import { cardCaptureMethod, paymentIntentMethodOptions } from './payment-method-options';
import { resolvePaymentMethodParam } from './payment-methods';

function checkConfirmable(pi: StoredPaymentIntent): void {
  const status = pi.api.status;
  if (status === 'succeeded' || status === 'canceled' || status === 'processing' || status === 'requires_capture') {
    throw unexpectedState(`You cannot confirm this PaymentIntent because it has a status of ${status}.`);
  }
}

const MISSING_PAYMENT_METHOD =
  "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.";

/** A PaymentMethod attached to a customer can only pay for that customer. */
function checkPaymentMethodOwner(pm: StoredPaymentMethod, customer: string | null): void {
  const owner = typeof pm.api.customer === 'string' ? pm.api.customer : (pm.api.customer?.id ?? null);
  if (owner !== null && customer === null) {
    throw invalidRequest(
      'The provided PaymentMethod belongs to a Customer, but you did not provide a Customer. Please provide the Customer that the PaymentMethod belongs to.',
      { code: 'payment_method_unexpected_state', param: 'payment_method' },
    );
  }
  if (owner !== null && owner !== customer) {
    throw invalidRequest('The provided PaymentMethod is attached to a different Customer than the one on this PaymentIntent.', {
      code: 'payment_method_unexpected_state',
      param: 'payment_method',
    });
  }
}

/** The PaymentMethod a confirmation uses: the parameter, else the one already on the PaymentIntent. */
function confirmationPaymentMethod(store: Store, pi: StoredPaymentIntent, id: string | undefined): StoredPaymentMethod {
  const pmId = id ?? (typeof pi.api.payment_method === 'string' ? pi.api.payment_method : undefined);
  if (pmId === undefined) throw unexpectedState(MISSING_PAYMENT_METHOD);
  const pm = resolvePaymentMethodParam(store, pmId);
  checkPaymentMethodOwner(pm, typeof pi.api.customer === 'string' ? pi.api.customer : null);
  return pm;
}

function checkReceiptEmail(email: string | null | undefined): void {
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw invalidRequest(`Invalid email address: ${email}`, { code: 'email_invalid', param: 'receipt_email' });
  }
}

/** `off_session` is a boolean or, for recurring/one-off hints, an enum; both mean off-session. */
function isOffSession(value: string | undefined): boolean {
  return value !== undefined && value !== 'false';
}

function checkReturnUrl(value: string | undefined): void {
  if (value === undefined) return;
  if (!isHttpUrl(value)) throw invalidRequest('Not a valid URL', { code: 'url_invalid', param: 'return_url' });
}

/**
 * Stripe refuses to confirm a PaymentIntent that accepts the Dashboard's payment methods
 * (automatic_payment_methods on, redirects allowed: the default when no type is named) without a
 * return_url, even off-session with a card: a redirect-based method might need it.
 */
function checkRedirectReturnUrl(automatic: { enabled?: boolean | null; allow_redirects?: string | null } | null, returnUrl: string | null | undefined): void {
  if (!automatic?.enabled || automatic.allow_redirects === 'never' || returnUrl) return;
  throw invalidRequest(
    'A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.',
  );
}

function checkDescriptor(value: string | undefined, param: string): void {
  if (value !== undefined && value.length > 22) {
    throw invalidRequest(`The ${param} must be at most 22 characters.`, { param });
  }
}

const offSessionParam = p.enumOf('true', 'false', 'one_off', 'recurring');

const createParams = {
  amount: p.integer(),
  currency: p.string(),
  customer: p.string(),
  payment_method: p.string(),
  off_session: offSessionParam,
  confirm: p.boolean(),
  return_url: p.string(),
  metadata: p.metadata(),
  description: p.string(),
  receipt_email: p.string(),
  statement_descriptor: p.string(),
  statement_descriptor_suffix: p.string(),
  capture_method: p.enumOf('automatic', 'automatic_async', 'manual'),
  confirmation_method: p.enumOf('automatic', 'manual'),
  setup_future_usage: p.enumOf('on_session', 'off_session'),
  allowed_payment_method_types: p.arrayOf(p.string()),
  automatic_payment_methods: p.object({ enabled: p.boolean(), allow_redirects: p.enumOf('always', 'never') }),
  payment_method_options: paymentIntentMethodOptions,
  use_stripe_sdk: p.boolean(),
  expand: p.expand(),
} as const;

type MethodOptionsInput = Infer<{ o: typeof paymentIntentMethodOptions }>['o'];

/** The card options a PaymentIntent shows, after `payment_method_options` of a create or confirm. */
function cardOptions(
  current: Stripe.PaymentIntent.PaymentMethodOptions.Card | undefined,
  input: MethodOptionsInput | undefined,
): Stripe.PaymentIntent.PaymentMethodOptions.Card {
  const card: Stripe.PaymentIntent.PaymentMethodOptions.Card = current
    ? structuredClone(current)
    : { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' };
  const given = input?.card;
  if (given === undefined) return card;
  if (given === null) return { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' };
  if (given.request_three_d_secure !== undefined) card.request_three_d_secure = given.request_three_d_secure satisfies ThreeDSecureRequest;
  const capture = cardCaptureMethod(given.capture_method);
  if (capture === 'manual') card.capture_method = 'manual';
  else if (capture === null) delete card.capture_method;
  return card;
}

const EXPANDABLE = ['customer', 'payment_method', 'latest_charge', 'latest_charge.refunds'] as const;

interface PaymentIntentInit {
  amount: number;
  currency: string;
  customer: string | null;
  metadata?: MetadataInput;
  description: string | null;
  receiptEmail: string | null;
  statementDescriptor: string | null;
  statementDescriptorSuffix: string | null;
  captureMethod: 'automatic' | 'automatic_async' | 'manual';
  cardOptions: Stripe.PaymentIntent.PaymentMethodOptions.Card;
  confirmationMethod: 'automatic' | 'manual';
  setupFutureUsage: 'on_session' | 'off_session' | null;
  allowedPaymentMethodTypes: string[] | null;
  automaticPaymentMethods: Stripe.PaymentIntent.AutomaticPaymentMethods | null;
  returnUrl: string | null;
  paymentMethod: string | null;
}

function createPaymentIntent(store: Store, init: PaymentIntentInit): StoredPaymentIntent {
  const id = newId.paymentIntent();
  const api: Stripe.PaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: init.allowedPaymentMethodTypes,
    amount: init.amount,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: init.automaticPaymentMethods,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: init.captureMethod,
    client_secret: `${id}_secret_${newId.clientSecretSuffix()}`,
    confirmation_method: init.confirmationMethod,
    created: store.now(),
    currency: init.currency,
    customer: init.customer,
    customer_account: null,
    description: init.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: mergeMetadata({}, init.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: init.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: { card: init.cardOptions },
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: init.receiptEmail,
    review: null,
    setup_future_usage: init.setupFutureUsage,
    shipping: null,
    source: null,
    statement_descriptor: init.statementDescriptor,
    statement_descriptor_suffix: init.statementDescriptorSuffix,
    status: init.paymentMethod !== null ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
  const stored: StoredPaymentIntent = { api, returnUrl: init.returnUrl, pendingCharge: null };
  store.paymentIntents.set(id, stored);
  store.emit('payment_intent.created', api);
  return stored;
}

const create = defineRoute({
  method: 'POST',
  path: '/v1/payment_intents',
  params: createParams,
  required: ['amount', 'currency'],
  expandable: EXPANDABLE,
  handle: ({ store, runtime, params }) => {
    // Everything that can be refused is checked before the PaymentIntent exists: a 400 leaves nothing behind.
    const currency = checkCurrency(params.currency as string);
    checkChargeAmount(params.amount as number, currency);
    if (params.confirmation_method === 'manual') throw notSupported('confirmation_method=manual', 'confirmation_method');
    if (params.allowed_payment_method_types && params.automatic_payment_methods) {
      throw invalidRequest('You may only specify one of these parameters: allowed_payment_method_types, automatic_payment_methods.', {
        code: 'parameters_exclusive',
      });
    }
    params.allowed_payment_method_types?.forEach((t, i) => {
      if (t !== 'card') throw notSupported(`allowed_payment_method_types[${i}]=${t}`, `allowed_payment_method_types[${i}]`);
    });
    if (params.return_url !== undefined && !params.confirm) {
      throw invalidRequest('You can only pass `return_url` when `confirm` is true.', { param: 'return_url' });
    }
    const offSession = isOffSession(params.off_session);
    if (params.off_session !== undefined && !params.confirm) {
      throw invalidRequest('You can only pass `off_session` when `confirm` is true.', { param: 'off_session' });
    }
    checkReturnUrl(params.return_url);
    checkDescriptor(params.statement_descriptor, 'statement_descriptor');
    checkDescriptor(params.statement_descriptor_suffix, 'statement_descriptor_suffix');
    checkReceiptEmail(params.receipt_email);
    const methodOptions = cardOptions(undefined, params.payment_method_options);
    const customer = params.customer !== undefined ? requireCustomerParam(store, params.customer).id : null;
    if (params.confirm && params.payment_method === undefined) throw unexpectedState(MISSING_PAYMENT_METHOD);
    const pmParam = params.payment_method !== undefined ? resolvePaymentMethodParam(store, params.payment_method) : undefined;
    if (pmParam) checkPaymentMethodOwner(pmParam, customer);
    // Without either parameter, Stripe turns automatic payment methods on (API versions since 2023-08-16).
    const automaticPaymentMethods =
      params.allowed_payment_method_types !== undefined
        ? null
        : {
            enabled: params.automatic_payment_methods?.enabled ?? true,
            allow_redirects: params.automatic_payment_methods?.allow_redirects ?? ('always' as const),
          };
    if (params.confirm) checkRedirectReturnUrl(automaticPaymentMethods, params.return_url);

    const pi = createPaymentIntent(store, {
      amount: params.amount as number,
      currency,
      customer,
      metadata: params.metadata,
      description: params.description ?? null,
      receiptEmail: params.receipt_email ?? null,
      statementDescriptor: params.statement_descriptor ?? null,
      statementDescriptorSuffix: params.statement_descriptor_suffix ?? null,
      captureMethod: params.capture_method ?? 'automatic_async',
      cardOptions: methodOptions,
      confirmationMethod: 'automatic',
      setupFutureUsage: params.setup_future_usage ?? null,
      allowedPaymentMethodTypes: params.allowed_payment_method_types ?? null,
      automaticPaymentMethods,
      returnUrl: params.return_url ?? null,
      paymentMethod: pmParam?.api.id ?? null,
    });
    if (params.confirm && pmParam) {
      confirmAttempt(store, runtime, pi, pmParam, { offSession, returnUrl: params.return_url, useStripeSdk: params.use_stripe_sdk });
    }
    return { body: serializePaymentIntent(pi) };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/payment_intents/:id',
  params: { client_secret: p.string(), expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => ({ body: serializePaymentIntent(requirePaymentIntentPath(store, path.id)) }),
});

const confirmRoute = defineRoute({
  method: 'POST',
  path: '/v1/payment_intents/:id/confirm',
  params: {
    payment_method: p.string(),
    return_url: p.string(),
    off_session: offSessionParam,
    receipt_email: p.emptyableString(),
    setup_future_usage: p.enumOf('on_session', 'off_session'),
    payment_method_options: paymentIntentMethodOptions,
    capture_method: p.enumOf('automatic', 'automatic_async', 'manual'),
    mandate_data: p.opaque(),
    use_stripe_sdk: p.boolean(),
    expand: p.expand(),
  },
  expandable: EXPANDABLE,
  handle: ({ store, runtime, path, params }) => {
    const pi = requirePaymentIntentPath(store, path.id);
    checkConfirmable(pi);
    checkReturnUrl(params.return_url);
    checkReceiptEmail(params.receipt_email);
    checkRedirectReturnUrl(pi.api.automatic_payment_methods, params.return_url ?? pi.returnUrl);
    const methodOptions = cardOptions(pi.api.payment_method_options?.card, params.payment_method_options);
    const pm = confirmationPaymentMethod(store, pi, params.payment_method);
    pi.api.payment_method_options = { ...pi.api.payment_method_options, card: methodOptions };
    if (params.capture_method !== undefined) pi.api.capture_method = params.capture_method;
    confirmAttempt(store, runtime, pi, pm, {
      returnUrl: params.return_url,
      offSession: isOffSession(params.off_session),
      setupFutureUsage: params.setup_future_usage,
      receiptEmail: params.receipt_email,
      useStripeSdk: params.use_stripe_sdk,
    });
    return { body: serializePaymentIntent(pi) };
  },
});

const CANCELABLE: readonly string[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action'];

const cancel = defineRoute({
  method: 'POST',
  path: '/v1/payment_intents/:id/cancel',
  params: { cancellation_reason: p.enumOf('duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'), expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path, params }) => {
    const pi = requirePaymentIntentPath(store, path.id);
    if (!CANCELABLE.includes(pi.api.status)) {
      throw unexpectedState(
        `You cannot cancel this PaymentIntent because it has a status of ${pi.api.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
      );
    }
    cancelPaymentIntent(store, pi, params.cancellation_reason ?? null);
    return { body: serializePaymentIntent(pi) };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/payment_intents',
  params: { ...listParams, customer: p.string(), created: p.range() },
  list: true,
  expandable: EXPANDABLE,
  handle: ({ store, params }) => {
    const items = newestFirst([...store.paymentIntents.values()].map((pi) => pi.api))
      .filter((pi) => params.customer === undefined || pi.customer === params.customer)
      .filter((pi) => inRange(pi.created, params.created))
      .map((pi) => structuredClone(pi));
    return { body: paginate(items, params, '/v1/payment_intents') };
  },
});

export const paymentIntentRoutes: ApiRoute[] = [create, retrieve, confirmRoute, cancel, list];
