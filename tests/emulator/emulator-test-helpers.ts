import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** A customer with a card saved through a setup-mode Checkout Session, as the service saves cards. */
export async function customerWithSavedCard(
  stripe: Stripe,
  emulator: Emulator,
  card = '4242424242424242',
): Promise<{ customer: Stripe.Customer; paymentMethod: string }> {
  const customer = await createCustomer(stripe);
  const session = await createSetupSession(stripe, customer.id);
  emulator.completeCheckoutSession(session.id, card);
  const si = await stripe.setupIntents.retrieve((await stripe.checkout.sessions.retrieve(session.id)).setup_intent as string);
  return { customer, paymentMethod: si.payment_method as string };
}

/** POSTs JSON to a control route. */
export async function control(emulator: Emulator, path: string, body: Record<string, unknown> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
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

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; data: { object: { id: string } } };
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Statuses to answer with, one per request, before falling back to 200. */
  answerNext(...statuses: number[]): void;
  close(): Promise<void>;
}

/** A small HTTP server standing in for the service's webhook route: records raw bodies and headers. */
export async function startWebhookReceiver(opts: { answerAfterMs?: number } = {}): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body, event: JSON.parse(body) });
      const status = statuses.shift() ?? 200;
      const answer = () => res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"received":true}');
      if (opts.answerAfterMs) setTimeout(answer, opts.answerAfterMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    answerNext: (...s) => void statuses.push(...s),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
