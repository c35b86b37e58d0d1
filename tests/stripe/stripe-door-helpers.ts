import { inspect } from 'node:util';
import { startEmulator, type Emulator, type LoggedRequest } from '../../emulator';
import { createStripeClient, createStripeGateway, type StripeGateway } from '../../app/stripe';
import { AppError } from '../../app/shared/app-error';

export const DOOR_KEY = 'sk_test_stripe_door_suite_1234';
/** The installation id every idempotency key is scoped with. */
export const PREFIX = 'inst-door';
/** A card that has not expired, whatever year the tests run in. */
export const EXP_YEAR = new Date().getUTCFullYear() + 3;

export interface Door {
  emulator: Emulator;
  gateway: StripeGateway;
}

/** One emulator per test file and the real gateway on it, over HTTP, with retries off. */
export function useDoor(): () => Door {
  let door: Door | undefined;
  beforeAll(async () => {
    const emulator = await startEmulator({ apiKey: DOOR_KEY });
    const stripe = createStripeClient({ secretKey: DOOR_KEY, apiBase: new URL(`http://127.0.0.1:${emulator.port}`), timeoutMs: 10000, maxNetworkRetries: 0 });
    door = { emulator, gateway: createStripeGateway(stripe, { idempotencyPrefix: PREFIX }) };
  });
  afterAll(async () => {
    await door?.emulator.close();
  });
  return () => {
    if (!door) throw new Error('door not started');
    return door;
  };
}

/** The one logged request to `method path` since the log was last cleared. */
export function onlyRequest(emulator: Emulator, method: string, path: string): LoggedRequest {
  const matching = emulator.requests().filter((r) => r.method === method && r.path === path);
  expect(matching).toHaveLength(1);
  return matching[0];
}

/** POSTs JSON to an emulator control route. */
export async function control(emulator: Emulator, path: string, body: Record<string, unknown> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${emulator.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** The AppError a call must fail with. */
export async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Everything a logger could write of an error: its JSON, its cause's JSON and util.inspect of the whole chain. */
export function everythingLoggable(err: AppError): string {
  return [
    JSON.stringify(err),
    JSON.stringify(err.cause),
    JSON.stringify(err.details),
    err.message,
    String(err.stack),
    inspect(err, { depth: null, showHidden: true }),
  ].join('\n');
}

let seq = 0;
/** A fresh id for idempotency keys and metadata, so tests never replay each other. */
export const unique = (label: string): string => `${label}-${Date.now().toString(36)}-${(seq += 1)}`;

/** A customer with `number` saved by a confirmed off-session setup, as the hub tokenizes a card. */
export async function savedCard(gateway: StripeGateway, number: string): Promise<{ customerId: string; paymentMethodId: string }> {
  const customer = await gateway.createCustomer({ email: 'card@example.com', metadata: {} }, unique('customer'));
  const pm = await gateway.createCardPaymentMethod({ number, expMonth: 12, expYear: EXP_YEAR, cvc: '123' }, unique('pm'));
  const si = await gateway.confirmOffSessionSetup({ customerId: customer.id, paymentMethodId: pm.id, metadata: {} }, unique('setup'));
  expect(si.status).toBe('succeeded');
  return { customerId: customer.id, paymentMethodId: pm.id };
}
