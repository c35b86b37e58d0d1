/**
 * SetupIntents and the one place a card is applied to a SetupIntent (`attemptSetup`), used by
 * the API confirm, Checkout completion and the hosted pages alike.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute, type EmulatorRuntime } from '../api-routes';
import { newId } from '../ids';
import { listParams, mergeMetadata, p, type Infer, type MetadataInput } from '../params';
import type { Store, StoredPaymentMethod, StoredSetupIntent } from '../store';
import { invalidRequest, notSupported } from '../stripe-errors';
import { testCardByKey, type CardDecline, type SetupBehaviour } from '../test-cards';
import { challengeAction, isRequested } from '../three-d-secure';
import { requireCustomerParam, requireSetupIntentPath } from './lookups';
import { setupIntentMethodOptions } from './payment-method-options';
import { attachPaymentMethod, declineToCardError, resolvePaymentMethodParam, serializePaymentMethod } from './payment-methods';

export interface SetupIntentInit {
  customer: string | null;
  usage: 'on_session' | 'off_session';
  metadata?: MetadataInput;
  description?: string | null;
  allowedPaymentMethodTypes: string[] | null;
  automaticPaymentMethods: Stripe.SetupIntent.AutomaticPaymentMethods | null;
  checkoutSession: string | null;
  returnUrl: string | null;
}

export function createSetupIntent(store: Store, init: SetupIntentInit): StoredSetupIntent {
  const id = newId.setupIntent();
  const api: Stripe.SetupIntent = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: init.allowedPaymentMethodTypes,
    application: null,
    automatic_payment_methods: init.automaticPaymentMethods,
    cancellation_reason: null,
    client_secret: `${id}_secret_${newId.clientSecretSuffix()}`,
    created: store.now(),
    customer: init.customer,
    description: init.description ?? null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: mergeMetadata({}, init.metadata),
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    single_use_mandate: null,
    status: 'requires_payment_method',
    usage: init.usage,
  };
  const stored: StoredSetupIntent = { api, checkoutSession: init.checkoutSession, returnUrl: init.returnUrl };
  store.setupIntents.set(id, stored);
  store.emit('setup_intent.created', api);
  return stored;
}

export type SetupOutcome = { kind: 'succeeded' } | { kind: 'requires_action' } | { kind: 'declined'; decline: CardDecline };

/** What saving the card does, before any state changes: the card's setup behaviour, under a requested challenge. */
function setupVerdict(pm: StoredPaymentMethod, request: string | null | undefined): SetupBehaviour {
  const card = testCardByKey(pm.testCard);
  const behaviour = card.setup;
  // Radar screens the setup before the issuer sees it, 3DS included.
  if (behaviour.kind === 'decline' && behaviour.decline.blocked) return behaviour;
  if (isRequested(request) && card.threeDSecureSupported) return { kind: 'three_d_secure' };
  return behaviour;
}

export function challengeUrl(runtime: EmulatorRuntime, id: string): string {
  return `${runtime.publicUrl}/c/3ds/${id}`;
}

/** Applies a card to a SetupIntent according to its test-card setup behaviour. */
export function attemptSetup(store: Store, runtime: EmulatorRuntime, si: StoredSetupIntent, pm: StoredPaymentMethod, useStripeSdk = false): SetupOutcome {
  const behaviour = setupVerdict(pm, si.api.payment_method_options?.card?.request_three_d_secure);
  si.api.latest_attempt = null;
  switch (behaviour.kind) {
    case 'succeed':
      succeedSetup(store, si, pm);
      return { kind: 'succeeded' };
    case 'three_d_secure':
      si.api.status = 'requires_action';
      si.api.payment_method = pm.api.id;
      si.api.last_setup_error = null;
      si.api.next_action = (
        si.checkoutSession !== null
          ? // Checkout's own page runs the challenge and redirects to success_url itself.
            { type: 'redirect_to_url', redirect_to_url: { url: challengeUrl(runtime, si.api.id), return_url: si.returnUrl } }
          : challengeAction(challengeUrl(runtime, si.api.id), si.returnUrl, useStripeSdk)
      ) as Stripe.SetupIntent.NextAction;
      store.emit('setup_intent.requires_action', si.api);
      return { kind: 'requires_action' };
    case 'decline':
      declineSetup(store, si, pm, behaviour.decline);
      return { kind: 'declined', decline: behaviour.decline };
  }
}

function declineSetup(store: Store, si: StoredSetupIntent, pm: StoredPaymentMethod, decline: CardDecline): void {
  failSetup(store, si, {
    type: 'card_error',
    code: decline.code,
    ...(decline.declineCode ? { decline_code: decline.declineCode } : {}),
    message: decline.message,
    ...(decline.param ? { param: decline.param } : {}),
    payment_method: serializePaymentMethod(pm),
    payment_method_type: 'card',
  });
}

export const AUTHENTICATION_FAILED_MESSAGE = 'The latest attempt to set up the payment method has failed because authentication failed.';

/** The result of the 3DS challenge for a SetupIntent in requires_action. */
export function finishAuthentication(store: Store, si: StoredSetupIntent, result: 'pass' | 'fail'): 'succeeded' | 'failed' {
  const pmId = si.api.payment_method;
  const pm = typeof pmId === 'string' ? store.paymentMethods.get(pmId) : undefined;
  if (si.api.status !== 'requires_action' || !pm) {
    throw invalidRequest(`This SetupIntent is not awaiting authentication (status: ${si.api.status}).`, {
      code: 'setup_intent_unexpected_state',
    });
  }
  if (result === 'pass') {
    // A requested challenge on a card that declines: authenticated, then the issuer says no.
    const behaviour = testCardByKey(pm.testCard).setup;
    if (behaviour.kind === 'decline') {
      declineSetup(store, si, pm, behaviour.decline);
      return 'failed';
    }
    succeedSetup(store, si, pm);
    return 'succeeded';
  }
  failSetup(store, si, {
    type: 'invalid_request_error',
    code: 'setup_intent_authentication_failure',
    message: AUTHENTICATION_FAILED_MESSAGE,
    payment_method: serializePaymentMethod(pm),
    payment_method_type: 'card',
  });
  return 'failed';
}

function succeedSetup(store: Store, si: StoredSetupIntent, pm: StoredPaymentMethod): void {
  si.api.status = 'succeeded';
  si.api.payment_method = pm.api.id;
  si.api.next_action = null;
  si.api.last_setup_error = null;
  pm.setupCompleted = true;
  if (typeof si.api.customer === 'string') attachPaymentMethod(store, pm, si.api.customer);
  store.emit('setup_intent.succeeded', si.api);
}

function failSetup(store: Store, si: StoredSetupIntent, error: Stripe.SetupIntent.LastSetupError): void {
  si.api.status = 'requires_payment_method';
  si.api.payment_method = null;
  si.api.next_action = null;
  si.api.last_setup_error = error;
  store.emit('setup_intent.setup_failed', si.api);
}

export function cancelSetupIntent(store: Store, si: StoredSetupIntent, reason: Stripe.SetupIntent.CancellationReason | null): void {
  si.api.status = 'canceled';
  si.api.cancellation_reason = reason;
  si.api.next_action = null;
  store.emit('setup_intent.canceled', si.api);
}

export function serializeSetupIntent(si: StoredSetupIntent): Stripe.SetupIntent {
  return structuredClone(si.api);
}

function checkPaymentMethodTypes(types: string[] | undefined, param: string): void {
  types?.forEach((t, i) => {
    if (t !== 'card') throw notSupported(`${param}[${i}]=${t}`, `${param}[${i}]`);
  });
}

/** Stripe's confirm: validates state and the PaymentMethod, then runs `attemptSetup`; declines are 402 with the SetupIntent. */
interface SetupConfirmInput {
  paymentMethod: string | undefined;
  returnUrl: string | undefined;
  methodOptions: MethodOptionsInput | undefined;
  useStripeSdk: boolean | undefined;
}

type MethodOptionsInput = Infer<{ o: typeof setupIntentMethodOptions }>['o'];

function applyCardOptions(si: StoredSetupIntent, input: MethodOptionsInput | undefined): void {
  const request = input?.card?.request_three_d_secure;
  if (request === undefined) return;
  const card = si.api.payment_method_options?.card ?? { mandate_options: null, network: null, request_three_d_secure: 'automatic' };
  card.request_three_d_secure = request;
  si.api.payment_method_options = { ...si.api.payment_method_options, card };
}

function confirm(store: Store, runtime: EmulatorRuntime, si: StoredSetupIntent, input: SetupConfirmInput): void {
  const { paymentMethod, returnUrl } = input;
  if (si.api.status === 'succeeded' || si.api.status === 'canceled') {
    const why = si.api.status === 'succeeded' ? 'it has already succeeded' : 'it has a status of canceled';
    throw invalidRequest(`You cannot confirm this SetupIntent because ${why}.`, { code: 'setup_intent_unexpected_state' });
  }
  if (si.checkoutSession !== null) {
    throw invalidRequest('This SetupIntent was created by a Checkout Session and can only be confirmed through Checkout.', {
      code: 'setup_intent_unexpected_state',
    });
  }
  if (returnUrl !== undefined) si.returnUrl = returnUrl;
  const pmId = paymentMethod ?? (typeof si.api.payment_method === 'string' ? si.api.payment_method : undefined);
  if (pmId === undefined) {
    throw invalidRequest(
      'A payment method of type card was expected to be present, but this SetupIntent does not have a payment method and none was provided. Try again providing either the payment_method or payment_method_data parameters.',
      { code: 'setup_intent_unexpected_state', param: 'payment_method' },
    );
  }
  const pm = resolvePaymentMethodParam(store, pmId);
  if (pm.api.customer !== null && pm.api.customer !== si.api.customer) {
    throw invalidRequest('The provided PaymentMethod is attached to a different Customer than the one on this SetupIntent.', {
      code: 'payment_method_unexpected_state',
      param: 'payment_method',
    });
  }
  applyCardOptions(si, input.methodOptions);
  const outcome = attemptSetup(store, runtime, si, pm, input.useStripeSdk === true);
  runtime.log('setup attempt', { setup_intent: si.api.id, brand: pm.api.card?.brand, last4: pm.api.card?.last4, outcome: outcome.kind });
  if (outcome.kind === 'declined') {
    throw declineToCardError(outcome.decline, {
      setup_intent: serializeSetupIntent(si),
      payment_method: serializePaymentMethod(pm),
    });
  }
}

const createParams = {
  customer: p.string(),
  description: p.string(),
  usage: p.enumOf('on_session', 'off_session'),
  payment_method: p.string(),
  confirm: p.boolean(),
  allowed_payment_method_types: p.arrayOf(p.string()),
  automatic_payment_methods: p.object({ enabled: p.boolean(), allow_redirects: p.enumOf('always', 'never') }),
  payment_method_options: setupIntentMethodOptions,
  metadata: p.metadata(),
  return_url: p.string(),
  use_stripe_sdk: p.boolean(),
  expand: p.expand(),
} as const;

const EXPANDABLE = ['customer', 'payment_method'] as const;

const create = defineRoute({
  method: 'POST',
  path: '/v1/setup_intents',
  params: createParams,
  expandable: EXPANDABLE,
  handle: ({ store, runtime, params }) => {
    if (params.allowed_payment_method_types && params.automatic_payment_methods) {
      throw invalidRequest('You may only specify one of these parameters: allowed_payment_method_types, automatic_payment_methods.', {
        code: 'parameters_exclusive',
      });
    }
    checkPaymentMethodTypes(params.allowed_payment_method_types, 'allowed_payment_method_types');
    const customer = params.customer !== undefined ? requireCustomerParam(store, params.customer).id : null;
    if (params.return_url !== undefined && !params.confirm) {
      throw invalidRequest('You can only pass `return_url` when `confirm` is true.', { param: 'return_url' });
    }
    // A bad PaymentMethod id must fail before anything is created.
    const pm = params.payment_method !== undefined ? resolvePaymentMethodParam(store, params.payment_method) : undefined;
    const si = createSetupIntent(store, {
      customer,
      usage: params.usage ?? 'off_session',
      metadata: params.metadata,
      description: params.description,
      allowedPaymentMethodTypes: params.allowed_payment_method_types ?? null,
      automaticPaymentMethods: params.automatic_payment_methods
        ? { allow_redirects: params.automatic_payment_methods.allow_redirects, enabled: params.automatic_payment_methods.enabled ?? null }
        : null,
      checkoutSession: null,
      returnUrl: params.return_url ?? null,
    });
    if (pm) {
      si.api.payment_method = pm.api.id;
      si.api.status = 'requires_confirmation';
    }
    applyCardOptions(si, params.payment_method_options);
    if (params.confirm) {
      confirm(store, runtime, si, {
        paymentMethod: pm?.api.id,
        returnUrl: params.return_url,
        methodOptions: params.payment_method_options,
        useStripeSdk: params.use_stripe_sdk,
      });
    }
    return { body: serializeSetupIntent(si) };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/setup_intents/:id',
  params: { client_secret: p.string(), expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path }) => ({ body: serializeSetupIntent(requireSetupIntentPath(store, path.id)) }),
});

const confirmRoute = defineRoute({
  method: 'POST',
  path: '/v1/setup_intents/:id/confirm',
  params: {
    payment_method: p.string(),
    return_url: p.string(),
    payment_method_options: setupIntentMethodOptions,
    mandate_data: p.opaque(),
    use_stripe_sdk: p.boolean(),
    expand: p.expand(),
  },
  expandable: EXPANDABLE,
  handle: ({ store, runtime, path, params }) => {
    const si = requireSetupIntentPath(store, path.id);
    confirm(store, runtime, si, {
      paymentMethod: params.payment_method,
      returnUrl: params.return_url,
      methodOptions: params.payment_method_options,
      useStripeSdk: params.use_stripe_sdk,
    });
    return { body: serializeSetupIntent(si) };
  },
});

const cancel = defineRoute({
  method: 'POST',
  path: '/v1/setup_intents/:id/cancel',
  params: { cancellation_reason: p.enumOf('abandoned', 'duplicate', 'requested_by_customer'), expand: p.expand() },
  expandable: EXPANDABLE,
  handle: ({ store, path, params }) => {
    const si = requireSetupIntentPath(store, path.id);
    if (si.api.status === 'succeeded' || si.api.status === 'canceled') {
      throw invalidRequest(`You cannot cancel this SetupIntent because it has a status of ${si.api.status}.`, {
        code: 'setup_intent_unexpected_state',
      });
    }
    cancelSetupIntent(store, si, params.cancellation_reason ?? null);
    return { body: serializeSetupIntent(si) };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/setup_intents',
  params: { ...listParams, customer: p.string(), payment_method: p.string() },
  list: true,
  expandable: EXPANDABLE,
  handle: ({ store, params }) => {
    const items = newestFirst([...store.setupIntents.values()].map((si) => si.api))
      .filter((si) => params.customer === undefined || si.customer === params.customer)
      .filter((si) => params.payment_method === undefined || si.payment_method === params.payment_method)
      .map((si) => structuredClone(si));
    return { body: paginate(items, params, '/v1/setup_intents') };
  },
});

export const setupIntentRoutes: ApiRoute[] = [create, retrieve, confirmRoute, cancel, list];
