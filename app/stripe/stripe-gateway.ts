import Stripe from 'stripe';
import { AppError } from '../shared/app-error';
import { toAppError } from './stripe-errors';

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
}

export interface NewCustomer {
  email?: string;
  name?: string;
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
  metadata: Record<string, string>;
}

export interface NewRefund {
  paymentIntentId: string;
  amount: number;
  metadata: Record<string, string>;
}

/**
 * Everything the service asks of Stripe. Only app/stripe/ touches the SDK; every write takes an
 * idempotency key derived from our own ids so our retries and restarts never act twice.
 */
export interface StripeGateway {
  createCustomer(input: NewCustomer, idempotencyKey: string): Promise<Customer>;
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
    ...(base
      ? {
          host: base.hostname,
          port: base.port ? Number(base.port) : base.protocol === 'https:' ? 443 : 80,
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toAppError(err, operation);
  }
}

/** A card decline carries the PaymentIntent in its final state: that is an answer, not a failure. */
async function paymentIntentOrDecline(operation: string, fn: () => Promise<PaymentIntent>): Promise<PaymentIntent> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeCardError && err.payment_intent) return err.payment_intent;
    throw toAppError(err, operation);
  }
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
    createCustomer: ({ metadata, email, name }, idempotencyKey) =>
      call('customer creation', () =>
        stripe.customers.create({ metadata, ...(email ? { email } : {}), ...(name ? { name } : {}) }, { idempotencyKey: scoped(idempotencyKey) }),
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

    createRefund: (input, idempotencyKey) =>
      call('refund', () =>
        stripe.refunds.create(
          { payment_intent: input.paymentIntentId, amount: input.amount, metadata: input.metadata },
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
