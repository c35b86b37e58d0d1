import Stripe from 'stripe';
import { AppError } from '../shared/app-error';
import { observedHttpClient, type StripeCallObserver } from './stripe-calls';
import { cardCreationError, toAppError } from './stripe-errors';

/** The API version stripe-node 23 is built for; pinned so an account default cannot change shapes. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export type CheckoutSession = Stripe.Checkout.Session;
export type SetupIntent = Stripe.SetupIntent;
export type PaymentMethod = Stripe.PaymentMethod;
export type Customer = Stripe.Customer;
export type PaymentIntent = Stripe.PaymentIntent;
export type Refund = Stripe.Refund;
export type StripeEvent = Stripe.Event;

export interface StripeClientOptions {
  secretKey: string;
  /** Another Stripe-compatible host, e.g. the emulator at http://127.0.0.1:12111. */
  apiBase?: URL;
  timeoutMs: number;
  maxNetworkRetries: number;
  /** Told of every HTTP attempt the client makes (metrics). */
  observe?: StripeCallObserver;
}

export interface NewCustomer {
  email?: string;
  name?: string;
  /** E.164, as the customer gave it. */
  phone?: string;
  /** Stripe's locale tags, exactly (`en-GB`, not `en-gb`), most preferred first: receipts and e-mails use them. */
  preferredLocales?: string[];
  metadata: Record<string, string>;
}

export interface NewSetupCheckout {
  customerId: string;
  successUrl: string;
  cancelUrl: string;
  /** Stripe's `client_reference_id`: the caller's id for this setup. */
  clientReferenceId: string;
  /** Set on the session and on its SetupIntent, so a setup_intent.succeeded event alone leads back. */
  metadata: Record<string, string>;
  /** Answer with the session's SetupIntent expanded. */
  expandSetupIntent: boolean;
}

/** Which Stripe account a key belongs to (the Account object has no livemode: the key says it). */
export interface StripeAccountIdentity {
  id: string;
}

export interface NewOffSessionPayment {
  amount: number;
  /** ISO code; sent lower-case as Stripe wants. */
  currency: string;
  customerId: string;
  paymentMethodId: string;
  description?: string;
  /** Stripe e-mails the receipt here once the payment succeeds. */
  receiptEmail?: string;
  metadata: Record<string, string>;
}

/** Raw card data, as the customer typed it. Never logged, never kept: only Stripe sees it. */
export interface NewCard {
  number: string;
  expMonth: number;
  expYear: number;
  cvc?: string;
  name?: string;
  email?: string;
  phone?: string;
}

export interface NewConfirmedSetup {
  customerId: string;
  paymentMethodId: string;
  metadata: Record<string, string>;
  /** Stripe's `payment_method_options.card.request_three_d_secure`; unset: Stripe's default (`automatic`). */
  requestThreeDSecure?: 'any' | 'challenge' | 'automatic';
}

export interface NewChallengedAuthorization {
  amount: number;
  /** ISO code; sent lower-case as Stripe wants. */
  currency: string;
  customerId: string;
  paymentMethodId: string;
  /** Where Stripe sends the customer after the challenge (`?payment_intent=pi_...` added). */
  returnUrl: string;
  metadata: Record<string, string>;
  receiptEmail?: string;
  description?: string;
}

export interface NewCapture {
  /** At most the authorized amount; the rest of the authorization is released. */
  amountToCapture: number;
  /** Merged into the PaymentIntent's metadata. */
  metadata?: Record<string, string>;
}

export interface NewRefund {
  paymentIntentId: string;
  amount: number;
  metadata: Record<string, string>;
  /** The requester's words: kept in the metadata, and sent as Stripe's `reason` when it is one of Stripe's. */
  reason?: string | null;
}

/** The reasons Stripe takes on a new refund (RefundCreateParams.Reason); any other text goes in the metadata only. */
const STRIPE_REFUND_REASONS = new Map<string, Stripe.RefundCreateParams.Reason>(
  (['duplicate', 'fraudulent', 'requested_by_customer'] as const).map((r) => [r, r]),
);

/**
 * Everything the service asks of Stripe. Only app/stripe/ touches the SDK; every write takes an
 * idempotency key derived from our own ids so our retries and restarts never act twice.
 */
export interface StripeGateway {
  createCustomer(input: NewCustomer, idempotencyKey: string): Promise<Customer>;
  /** Sets the languages Stripe writes the customer's e-mails and receipts in. */
  setCustomerLocales(customerId: string, preferredLocales: string[], idempotencyKey: string): Promise<Customer>;
  createSetupCheckoutSession(input: NewSetupCheckout, idempotencyKey: string): Promise<CheckoutSession>;
  /** One call: the session with its SetupIntent and PaymentMethod expanded. */
  retrieveCheckoutSessionWithCard(sessionId: string): Promise<CheckoutSession>;
  expireCheckoutSession(sessionId: string, idempotencyKey: string): Promise<CheckoutSession>;
  createSetupIntent(input: { customerId: string; metadata: Record<string, string> }, idempotencyKey: string): Promise<SetupIntent>;
  retrieveSetupIntentWithCard(setupIntentId: string): Promise<SetupIntent>;
  cancelSetupIntent(setupIntentId: string, idempotencyKey: string): Promise<SetupIntent>;
  createEphemeralKey(customerId: string, idempotencyKey: string): Promise<{ secret: string }>;
  /**
   * Charges a saved card off-session. A decline is not an exception here: Stripe attaches the
   * PaymentIntent to its 402, and that PaymentIntent (with `last_payment_error`) is returned.
   */
  createOffSessionPayment(input: NewOffSessionPayment, idempotencyKey: string): Promise<PaymentIntent>;
  /** Confirms on-session (the customer is present) so a 3-D Secure challenge can be shown. */
  confirmOnSession(paymentIntentId: string, input: { paymentMethodId: string; returnUrl: string }, idempotencyKey: string): Promise<PaymentIntent>;
  retrievePaymentIntent(paymentIntentId: string): Promise<PaymentIntent>;
  /** The customer's PaymentIntents created since `createdGte` (unix s): finds one whose create answer was lost. */
  listPaymentIntents(customerId: string, createdGte: number): Promise<PaymentIntent[]>;
  /**
   * A card PaymentMethod from raw card data (needs Stripe's raw card data access). Bad data is
   * `invalid_input` with `details.field` (`number`, `exp_month`, `exp_year`, `cvc`); a decline at
   * creation is `payment_failed`. Neither the number nor the CVC is in any error, its details or cause.
   */
  createCardPaymentMethod(card: NewCard, idempotencyKey: string): Promise<PaymentMethod>;
  retrievePaymentMethod(paymentMethodId: string): Promise<PaymentMethod>;
  /**
   * Saves the card on the customer for off-session use by a SetupIntent confirmed at once, with
   * `payment_method` expanded. A decline is not an exception: the SetupIntent Stripe attaches to its
   * 402 (`requires_payment_method`, `last_setup_error`) is returned; reduce it with `observeConfirmedSetup`.
   */
  confirmOffSessionSetup(input: NewConfirmedSetup, idempotencyKey: string): Promise<SetupIntent>;
  /**
   * Authorizes `amount` (manual capture) with a 3-D Secure challenge requested, on-session, with
   * `latest_charge` expanded: usually `requires_action` with the challenge's URL; a card without 3-D
   * Secure support is authorized at once. A decline returns the PaymentIntent. Reduce with `observeAuthorization`.
   */
  createChallengedAuthorization(input: NewChallengedAuthorization, idempotencyKey: string): Promise<PaymentIntent>;
  /** Captures (part of) an authorization, `latest_charge` expanded; more than authorized is `invalid_input`. */
  capturePaymentIntent(paymentIntentId: string, input: NewCapture, idempotencyKey: string): Promise<PaymentIntent>;
  /** Cancels a PaymentIntent; an authorization is released in full. `latest_charge` expanded. */
  cancelPaymentIntent(paymentIntentId: string, idempotencyKey: string): Promise<PaymentIntent>;
  /** The PaymentIntent with `latest_charge` expanded, as `observeAuthorization` needs it. */
  retrievePaymentIntentWithCharge(paymentIntentId: string): Promise<PaymentIntent>;
  createRefund(input: NewRefund, idempotencyKey: string): Promise<Refund>;
  retrieveRefund(refundId: string): Promise<Refund>;
  listRefunds(paymentIntentId: string): Promise<Refund[]>;
  /** Verifies a webhook's signature on the raw body and parses it; throws `invalid_input` when it is not Stripe's. */
  verifyWebhook(rawBody: Buffer, signatureHeader: string | undefined): StripeEvent;
  /** A cheap authenticated read the service's key needs anyway (customers), for readiness checks. */
  ping(): Promise<void>;
  /** The Stripe account this key acts on (`GET /v1/account`). */
  retrieveAccount(): Promise<StripeAccountIdentity>;
  /** Whether this key's account holds the customer (`live`), held it (`deleted`, e.g. in the Dashboard) or never did (`missing`). */
  customerState(customerId: string): Promise<'live' | 'deleted' | 'missing'>;
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase;
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: options.maxNetworkRetries,
    timeout: options.timeoutMs,
    telemetry: false,
    appInfo: { name: 'stripe-payment-gateway' },
    ...(options.observe ? { httpClient: observedHttpClient(options.observe) } : {}),
    ...(base
      ? {
          host: base.hostname,
          port: base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80,
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

/**
 * Starts a stripe-node call with no stack frames captured while it is built. stripe-node 23 takes
 * `new Error().stack` on every request before sending it, to append the caller's frames to an error
 * it may throw later; formatting that stack cost a tenth of a millisecond a call here, more than
 * building the rest of the request. Errors we raise from Stripe's name the operation instead
 * (toAppError), and the limit is back before anything else runs (the call's first step is
 * synchronous).
 */
function startWithoutCallSite<T>(fn: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await startWithoutCallSite(fn);
  } catch (err) {
    throw toAppError(err, operation);
  }
}

/** A card decline carries the PaymentIntent in its final state: that is an answer, not a failure. */
async function paymentIntentOrDecline(operation: string, fn: () => Promise<PaymentIntent>): Promise<PaymentIntent> {
  try {
    return await startWithoutCallSite(fn);
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError && err.payment_intent) return err.payment_intent;
    throw toAppError(err, operation);
  }
}

/** A setup decline carries the SetupIntent in its final state: that is an answer too. */
async function setupIntentOrDecline(stripe: Stripe, operation: string, fn: () => Promise<SetupIntent>): Promise<SetupIntent> {
  let declined: SetupIntent;
  try {
    return await startWithoutCallSite(fn);
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeCardError && err.setup_intent)) throw toAppError(err, operation);
    declined = err.setup_intent;
  }
  // The SetupIntent in a 402 is not expanded; Stripe clears payment_method on a failed attempt, but
  // if one is left, answer it expanded as the success path does.
  const pmId = declined.payment_method;
  if (typeof pmId !== 'string') return declined;
  return call(operation, () => stripe.setupIntents.retrieve(declined.id, { expand: ['payment_method'] }));
}

export interface GatewayOptions {
  /** Every secret that may have signed a webhook: during a rotation Stripe signs with both. */
  webhookSecrets?: readonly string[];
  /** Prefixed to every idempotency key (the installation id), so deployments sharing a Stripe account never collide. */
  idempotencyPrefix?: string;
}

export function createStripeGateway(stripe: Stripe, options: GatewayOptions = {}): StripeGateway {
  const scoped = (key: string): string => (options.idempotencyPrefix ? `${options.idempotencyPrefix}-${key}` : key);
  return {
    setCustomerLocales: (customerId, preferredLocales, idempotencyKey) =>
      call('customer update', () => stripe.customers.update(customerId, { preferred_locales: preferredLocales }, { idempotencyKey: scoped(idempotencyKey) })),

    createCustomer: ({ metadata, email, name, phone, preferredLocales }, idempotencyKey) =>
      call('customer creation', () =>
        stripe.customers.create(
          {
            metadata,
            ...(email ? { email } : {}),
            ...(name ? { name } : {}),
            ...(phone ? { phone } : {}),
            // stripe-node drops an empty array anyway; leaving it out says the same.
            ...(preferredLocales && preferredLocales.length > 0 ? { preferred_locales: preferredLocales } : {}),
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    createSetupCheckoutSession: (input, idempotencyKey) =>
      call('checkout session creation', () =>
        stripe.checkout.sessions.create(
          {
            mode: 'setup',
            customer: input.customerId,
            // stripe-node 23 removed payment_method_types from create params; setup mode needs this or a currency.
            allowed_payment_method_types: ['card'],
            success_url: input.successUrl,
            cancel_url: input.cancelUrl,
            client_reference_id: input.clientReferenceId,
            metadata: input.metadata,
            setup_intent_data: { metadata: input.metadata },
            ...(input.expandSetupIntent ? { expand: ['setup_intent'] } : {}),
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    retrieveCheckoutSessionWithCard: (sessionId) =>
      call('checkout session retrieval', () => stripe.checkout.sessions.retrieve(sessionId, { expand: ['setup_intent.payment_method'] })),

    expireCheckoutSession: (sessionId, idempotencyKey) =>
      call('checkout session expiry', () => stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey: scoped(idempotencyKey) })),

    createSetupIntent: ({ customerId, metadata }, idempotencyKey) =>
      call('setup intent creation', () =>
        stripe.setupIntents.create(
          {
            customer: customerId,
            usage: 'off_session',
            allowed_payment_method_types: ['card'],
            metadata,
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    retrieveSetupIntentWithCard: (setupIntentId) =>
      call('setup intent retrieval', () => stripe.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] })),

    cancelSetupIntent: (setupIntentId, idempotencyKey) =>
      call('setup intent cancellation', () => stripe.setupIntents.cancel(setupIntentId, {}, { idempotencyKey: scoped(idempotencyKey) })),

    createEphemeralKey: async (customerId, idempotencyKey) => {
      const key = await call('ephemeral key creation', () =>
        stripe.ephemeralKeys.create({ customer: customerId }, { apiVersion: STRIPE_API_VERSION, idempotencyKey: scoped(idempotencyKey) }),
      );
      if (!key.secret) throw toAppError(new Error('ephemeral key without secret'), 'ephemeral key creation');
      return { secret: key.secret };
    },

    createOffSessionPayment: (input, idempotencyKey) =>
      paymentIntentOrDecline('payment', () =>
        stripe.paymentIntents.create(
          {
            amount: input.amount,
            currency: input.currency.toLowerCase(),
            customer: input.customerId,
            payment_method: input.paymentMethodId,
            // Cards only, as the setup paths: otherwise Stripe applies the Dashboard's payment
            // methods, some redirect-based, and refuses an off-session confirm without return_url.
            allowed_payment_method_types: ['card'],
            off_session: true,
            confirm: true,
            ...(input.description ? { description: input.description } : {}),
            ...(input.receiptEmail ? { receipt_email: input.receiptEmail } : {}),
            metadata: input.metadata,
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    confirmOnSession: (paymentIntentId, input, idempotencyKey) =>
      paymentIntentOrDecline('payment confirmation', () =>
        stripe.paymentIntents.confirm(
          paymentIntentId,
          { payment_method: input.paymentMethodId, return_url: input.returnUrl },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    retrievePaymentIntent: (paymentIntentId) => call('payment retrieval', () => stripe.paymentIntents.retrieve(paymentIntentId)),

    listPaymentIntents: (customerId, createdGte) =>
      call('payment listing', () =>
        stripe.paymentIntents.list({ customer: customerId, created: { gte: createdGte }, limit: 100 }).autoPagingToArray({ limit: 10000 }),
      ),

    createCardPaymentMethod: async (card, idempotencyKey) => {
      const billing = {
        ...(card.name ? { name: card.name } : {}),
        ...(card.email ? { email: card.email } : {}),
        ...(card.phone ? { phone: card.phone } : {}),
      };
      try {
        return await stripe.paymentMethods.create(
          {
            type: 'card',
            card: { number: card.number, exp_month: card.expMonth, exp_year: card.expYear, ...(card.cvc ? { cvc: card.cvc } : {}) },
            ...(Object.keys(billing).length > 0 ? { billing_details: billing } : {}),
          },
          { idempotencyKey: scoped(idempotencyKey) },
        );
      } catch (err) {
        throw cardCreationError(err, card.cvc);
      }
    },

    retrievePaymentMethod: (paymentMethodId) => call('payment method retrieval', () => stripe.paymentMethods.retrieve(paymentMethodId)),

    confirmOffSessionSetup: (input, idempotencyKey) =>
      setupIntentOrDecline(stripe, 'card setup', () =>
        stripe.setupIntents.create(
          {
            customer: input.customerId,
            payment_method: input.paymentMethodId,
            confirm: true,
            usage: 'off_session',
            // stripe-node 23 removed payment_method_types from create params.
            allowed_payment_method_types: ['card'],
            ...(input.requestThreeDSecure ? { payment_method_options: { card: { request_three_d_secure: input.requestThreeDSecure } } } : {}),
            expand: ['payment_method'],
            metadata: input.metadata,
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    createChallengedAuthorization: (input, idempotencyKey) =>
      paymentIntentOrDecline('authorization', () =>
        stripe.paymentIntents.create(
          {
            amount: input.amount,
            currency: input.currency.toLowerCase(),
            customer: input.customerId,
            payment_method: input.paymentMethodId,
            allowed_payment_method_types: ['card'],
            capture_method: 'manual',
            confirm: true,
            // On-session (no off_session): the customer is there to answer the challenge. No
            // setup_future_usage: the card is already saved, and this payment must not change that.
            return_url: input.returnUrl,
            payment_method_options: { card: { request_three_d_secure: 'challenge' } },
            ...(input.description ? { description: input.description } : {}),
            ...(input.receiptEmail ? { receipt_email: input.receiptEmail } : {}),
            metadata: input.metadata,
            expand: ['latest_charge'],
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    capturePaymentIntent: (paymentIntentId, input, idempotencyKey) =>
      call('capture', () =>
        stripe.paymentIntents.capture(
          paymentIntentId,
          { amount_to_capture: input.amountToCapture, ...(input.metadata ? { metadata: input.metadata } : {}), expand: ['latest_charge'] },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    cancelPaymentIntent: (paymentIntentId, idempotencyKey) =>
      call('payment cancellation', () =>
        stripe.paymentIntents.cancel(paymentIntentId, { expand: ['latest_charge'] }, { idempotencyKey: scoped(idempotencyKey) }),
      ),

    retrievePaymentIntentWithCharge: (paymentIntentId) =>
      call('payment retrieval', () => stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge'] })),

    createRefund: (input, idempotencyKey) =>
      call('refund', () =>
        stripe.refunds.create(
          {
            payment_intent: input.paymentIntentId,
            amount: input.amount,
            metadata: input.reason ? { ...input.metadata, reason: input.reason } : input.metadata,
            ...(input.reason && STRIPE_REFUND_REASONS.has(input.reason) ? { reason: STRIPE_REFUND_REASONS.get(input.reason) } : {}),
          },
          { idempotencyKey: scoped(idempotencyKey) },
        ),
      ),

    retrieveRefund: (refundId) => call('refund retrieval', () => stripe.refunds.retrieve(refundId)),

    listRefunds: (paymentIntentId) =>
      call('refund listing', () => stripe.refunds.list({ payment_intent: paymentIntentId, limit: 100 }).autoPagingToArray({ limit: 10000 })),

    verifyWebhook: (rawBody, signatureHeader) => {
      const secrets = options.webhookSecrets ?? [];
      if (secrets.length === 0) throw new AppError('forbidden', 'Webhooks are not configured (STRIPE_WEBHOOK_SECRET)');
      if (!signatureHeader) throw new AppError('invalid_input', 'Missing Stripe-Signature header');
      let failure: unknown;
      for (const secret of secrets) {
        try {
          return stripe.webhooks.constructEvent(rawBody, signatureHeader, secret);
        } catch (err) {
          failure = err;
        }
      }
      throw new AppError('invalid_input', 'Invalid webhook signature', { cause: failure });
    },

    ping: async () => {
      await call('customer listing', () => stripe.customers.list({ limit: 1 }));
    },

    retrieveAccount: async () => {
      const account = await call('account retrieval', () => stripe.accounts.retrieveCurrent());
      return { id: account.id };
    },

    customerState: async (customerId) => {
      try {
        // Stripe answers a deleted customer as `{ id, deleted: true }`, not as missing.
        const customer = await stripe.customers.retrieve(customerId);
        return customer.deleted ? 'deleted' : 'live';
      } catch (err) {
        const mapped = toAppError(err, 'customer retrieval');
        if (mapped.kind === 'not_found') return 'missing';
        throw mapped;
      }
    },
  };
}
