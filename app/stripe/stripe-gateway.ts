import Stripe from 'stripe';
import { toAppError } from './stripe-errors';

/** The API version stripe-node 23 is built for; pinned so an account default cannot change shapes. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export type CheckoutSession = Stripe.Checkout.Session;
export type SetupIntent = Stripe.SetupIntent;
export type PaymentMethod = Stripe.PaymentMethod;
export type Customer = Stripe.Customer;

export interface StripeClientOptions {
  secretKey: string;
  /** Another Stripe-compatible host, e.g. the emulator at http://127.0.0.1:12111. */
  apiBase?: URL;
  timeoutMs: number;
  maxNetworkRetries: number;
}

export interface NewCustomer {
  aid: number;
  email?: string;
  name?: string;
}

export interface NewSetupCheckout {
  customerId: string;
  successUrl: string;
  cancelUrl: string;
  txId: string;
  aid: number;
  /** BillRun's `request_parameters` answer carries the full SetupIntent. */
  expandSetupIntent: boolean;
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
  createSetupIntent(input: { customerId: string; txId: string; aid: number }, idempotencyKey: string): Promise<SetupIntent>;
  retrieveSetupIntentWithCard(setupIntentId: string): Promise<SetupIntent>;
  createEphemeralKey(customerId: string, idempotencyKey: string): Promise<{ secret: string }>;
  /** A cheap authenticated read for readiness checks. */
  ping(): Promise<void>;
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

export function createStripeGateway(stripe: Stripe): StripeGateway {
  return {
    createCustomer: ({ aid, email, name }, idempotencyKey) =>
      call('customer creation', () =>
        stripe.customers.create(
          { metadata: { billrun_aid: String(aid) }, ...(email ? { email } : {}), ...(name ? { name } : {}) },
          { idempotencyKey },
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
            client_reference_id: input.txId,
            metadata: { txId: input.txId, billrun_aid: String(input.aid) },
            ...(input.expandSetupIntent ? { expand: ['setup_intent'] } : {}),
          },
          { idempotencyKey },
        ),
      ),

    retrieveCheckoutSessionWithCard: (sessionId) =>
      call('checkout session retrieval', () =>
        stripe.checkout.sessions.retrieve(sessionId, { expand: ['setup_intent.payment_method'] }),
      ),

    expireCheckoutSession: (sessionId, idempotencyKey) =>
      call('checkout session expiry', () => stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey })),

    createSetupIntent: ({ customerId, txId, aid }, idempotencyKey) =>
      call('setup intent creation', () =>
        stripe.setupIntents.create(
          {
            customer: customerId,
            usage: 'off_session',
            allowed_payment_method_types: ['card'],
            metadata: { txId, billrun_aid: String(aid) },
          },
          { idempotencyKey },
        ),
      ),

    retrieveSetupIntentWithCard: (setupIntentId) =>
      call('setup intent retrieval', () => stripe.setupIntents.retrieve(setupIntentId, { expand: ['payment_method'] })),

    createEphemeralKey: async (customerId, idempotencyKey) => {
      const key = await call('ephemeral key creation', () =>
        stripe.ephemeralKeys.create({ customer: customerId }, { apiVersion: STRIPE_API_VERSION, idempotencyKey }),
      );
      if (!key.secret) throw toAppError(new Error('ephemeral key without secret'), 'ephemeral key creation');
      return { secret: key.secret };
    },

    ping: async () => {
      await call('balance read', () => stripe.balance.retrieve());
    },
  };
}
