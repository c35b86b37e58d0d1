/**
 * PaymentIntents (cards, automatic capture). Confirming applies the PaymentMethod's test-card
 * `charge` behaviour: succeed, decline (402 with the PaymentIntent), or 3DS — on-session a
 * `requires_action` redirect to the emulator's challenge page, off-session a 402
 * `authentication_required`. In processing mode a payment that would succeed stays `processing`
 * until `settlePaymentIntent`.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute, type EmulatorRuntime } from '../api-routes';
import { checkChargeAmount, checkCurrency } from '../currencies';
import { newId } from '../ids';
import { inRange, listParams, mergeMetadata, p, type MetadataInput } from '../params';
import type { Store, StoredPaymentIntent, StoredPaymentMethod } from '../store';
import { cardError, EmulatorApiError, invalidRequest, notSupported, resourceMissing } from '../stripe-errors';
import { isHttpUrl } from '../urls';
import { DECLINES, testCardByKey, type CardDecline } from '../test-cards';
import { createCharge, settleCharge, type ChargeResult } from './charges';
import { requireCustomerParam } from './lookups';
import { attachPaymentMethod, resolvePaymentMethodParam, serializePaymentMethod } from './payment-methods';

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

export function serializePaymentIntent(pi: StoredPaymentIntent): Stripe.PaymentIntent {
  return structuredClone(pi.api);
}

export function requirePaymentIntentPath(store: Store, id: string): StoredPaymentIntent {
  const pi = store.paymentIntents.get(id);
  if (!pi) throw resourceMissing('payment_intent', id);
  return pi;
}

function unexpectedState(message: string): EmulatorApiError {
  return invalidRequest(message, { code: 'payment_intent_unexpected_state' });
}

interface ConfirmInput {
  returnUrl?: string;
  offSession: boolean;
  setupFutureUsage?: 'on_session' | 'off_session';
  receiptEmail?: string | null;
}

/** What the card does for this attempt, before any state changes. */
type Attempt = { kind: 'succeed' } | { kind: 'decline'; decline: CardDecline } | { kind: 'challenge' };

function decide(pm: StoredPaymentMethod, offSession: boolean): Attempt {
  const behaviour = testCardByKey(pm.testCard).charge;
  switch (behaviour.kind) {
    case 'succeed':
      return { kind: 'succeed' };
    case 'decline':
      return { kind: 'decline', decline: behaviour.decline };
    case 'auth_on_setup_only':
      // Stripe: "all off-session payments succeed as if the card has been previously set up".
      return offSession ? { kind: 'succeed' } : { kind: 'challenge' };
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
  return { kind: 'succeed' };
}

function succeed(store: Store, pi: StoredPaymentIntent, pm: StoredPaymentMethod, authenticated: boolean): void {
  const processing = store.modes.payments === 'processing';
  const ch = createCharge(store, pi, pm, { kind: processing ? 'pending' : 'succeeded' }, authenticated);
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
  pi.api.status = 'succeeded';
  pi.api.amount_received = pi.api.amount;
  store.emit('payment_intent.succeeded', pi.api);
}

/** A declined attempt: a failed Charge, the PaymentIntent back to requires_payment_method, and the 402 to answer with. */
function decline(store: Store, pi: StoredPaymentIntent, pm: StoredPaymentMethod, d: CardDecline, authenticated: boolean): EmulatorApiError {
  const ch = createCharge(store, pi, pm, { kind: authenticated ? 'failed_after_authentication' : 'failed', decline: d } satisfies ChargeResult, authenticated);
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

function requireAction(store: Store, runtime: EmulatorRuntime, pi: StoredPaymentIntent, pm: StoredPaymentMethod): void {
  pi.api.status = 'requires_action';
  pi.api.payment_method = pm.api.id;
  pi.api.last_payment_error = null;
  pi.api.next_action = {
    type: 'redirect_to_url',
    redirect_to_url: { url: paymentChallengeUrl(runtime, pi.api.id), return_url: pi.returnUrl },
  };
  store.emit('payment_intent.requires_action', pi.api);
}

function checkConfirmable(pi: StoredPaymentIntent): void {
  const status = pi.api.status;
  if (status === 'succeeded' || status === 'canceled' || status === 'processing') {
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

/** Stripe's confirm: one payment attempt. Declines throw the 402 after the state is saved and the events sent. */
function confirm(store: Store, runtime: EmulatorRuntime, pi: StoredPaymentIntent, pm: StoredPaymentMethod, input: ConfirmInput): void {
  if (input.returnUrl !== undefined) pi.returnUrl = input.returnUrl;
  if (input.setupFutureUsage !== undefined) pi.api.setup_future_usage = input.setupFutureUsage;
  if (input.receiptEmail !== undefined) pi.api.receipt_email = input.receiptEmail;
  const attempt = decide(pm, input.offSession);
  runtime.log('payment attempt', {
    payment_intent: pi.api.id,
    brand: pm.api.card?.brand,
    last4: pm.api.card?.last4,
    outcome: attempt.kind,
    off_session: input.offSession,
  });
  switch (attempt.kind) {
    case 'succeed':
      return succeed(store, pi, pm, false);
    case 'decline':
      throw decline(store, pi, pm, attempt.decline, false);
    case 'challenge':
      return requireAction(store, runtime, pi, pm);
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
    else succeed(store, pi, pm, true);
  }
  return { redirectUrl: returnRedirect(runtime, pi), paymentIntent: serializePaymentIntent(pi) };
}

/** Where the customer goes after the challenge: return_url with Stripe's query, or back to the challenge page. */
function returnRedirect(runtime: EmulatorRuntime, pi: StoredPaymentIntent): string {
  if (pi.returnUrl === null) return paymentChallengeUrl(runtime, pi.api.id);
  const u = new URL(pi.returnUrl);
  u.searchParams.set('payment_intent', pi.api.id);
  u.searchParams.set('payment_intent_client_secret', pi.api.client_secret ?? '');
  u.searchParams.set('redirect_status', pi.api.status === 'succeeded' || pi.api.status === 'processing' ? 'succeeded' : 'failed');
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
    settleCharge(store, ch, null);
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
  payment_method_options: p.opaque(),
  use_stripe_sdk: p.boolean(),
  expand: p.expand(),
} as const;

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
  captureMethod: 'automatic' | 'automatic_async';
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
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
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
    if (params.capture_method === 'manual') throw notSupported('capture_method=manual', 'capture_method');
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
      confirmationMethod: 'automatic',
      setupFutureUsage: params.setup_future_usage ?? null,
      allowedPaymentMethodTypes: params.allowed_payment_method_types ?? null,
      automaticPaymentMethods,
      returnUrl: params.return_url ?? null,
      paymentMethod: pmParam?.api.id ?? null,
    });
    if (params.confirm && pmParam) confirm(store, runtime, pi, pmParam, { offSession, returnUrl: params.return_url });
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
    payment_method_options: p.opaque(),
    mandate_data: p.opaque(),
    use_stripe_sdk: p.boolean(),
    expand: p.expand(),
  },
  expandable: EXPANDABLE,
  handle: ({ store, runtime, path, params }) => {
    const pi = requirePaymentIntentPath(store, path.id);
    checkConfirmable(pi);
    checkReturnUrl(params.return_url);
    checkRedirectReturnUrl(pi.api.automatic_payment_methods, params.return_url ?? pi.returnUrl);
    const pm = confirmationPaymentMethod(store, pi, params.payment_method);
    confirm(store, runtime, pi, pm, {
      returnUrl: params.return_url,
      offSession: isOffSession(params.off_session),
      setupFutureUsage: params.setup_future_usage,
      receiptEmail: params.receipt_email,
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
    pi.api.status = 'canceled';
    pi.api.canceled_at = store.now();
    pi.api.cancellation_reason = params.cancellation_reason ?? null;
    pi.api.next_action = null;
    store.emit('payment_intent.canceled', pi.api);
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
