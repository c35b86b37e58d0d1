import Stripe from 'stripe';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';

export const TEST_KEY = 'sk_test_emulator_suite_1234';

export interface ClientOptions {
  key?: string;
  maxNetworkRetries?: number;
  timeout?: number;
}

/** The real stripe-node client, pointed at the emulator over HTTP. */
export function stripeClient(emulator: Emulator, opts: ClientOptions = {}): Stripe {
  return new Stripe(opts.key ?? TEST_KEY, {
    host: '127.0.0.1',
    port: emulator.port,
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: opts.maxNetworkRetries ?? 0,
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
  });
}

/** Starts one emulator for a test file; `get()` returns it inside tests. */
export function useEmulator(opts: EmulatorOptions = {}): () => Emulator {
  let emulator: Emulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator(opts);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  return () => {
    if (!emulator) throw new Error('emulator not started');
    return emulator;
  };
}

export async function createCustomer(stripe: Stripe, email = 'ada@example.com'): Promise<Stripe.Customer> {
  return stripe.customers.create({ email, name: 'Ada Lovelace' });
}

export async function createSetupSession(
  stripe: Stripe,
  customer: string,
  overrides: Partial<Stripe.Checkout.SessionCreateParams> = {},
): Promise<Stripe.Checkout.Session> {
  return stripe.checkout.sessions.create({
    mode: 'setup',
    customer,
    allowed_payment_method_types: ['card'],
    success_url: 'https://merchant.example/ok?session_id={CHECKOUT_SESSION_ID}',
    cancel_url: 'https://merchant.example/cancelled?session_id={CHECKOUT_SESSION_ID}',
    client_reference_id: 'order-42',
    metadata: { aid: 'A-1' },
    ...overrides,
  });
}

/** Catches the rejection of a promise that must fail, typed for assertions. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
