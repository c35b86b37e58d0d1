/**
 * The test-control API beside /v1: JSON answers, JSON or form bodies. It drives what a browser or
 * the passage of time would otherwise do. Calls about an object find it by id in whichever account
 * holds it; calls about an account (its events, its webhook endpoints) take that account's key in
 * the Authorization header, as /v1 does, and act on the default account without one.
 */
import type { Account } from './accounts';
import { checkFaultSpec } from './faults';
import type { EmulatorCore } from './emulator-core';
import { parseForm } from './form-parser';
import { EmulatorApiError, invalidRequest, type StripeErrorEnvelope } from './stripe-errors';

export interface ControlAnswer {
  status: number;
  body: object;
}

type Fields = Record<string, unknown>;

export interface ControlRequest {
  method: string;
  pathname: string;
  fields: Fields;
  /** The Authorization header, if any. */
  authorization: string | undefined;
}

export function parseControlBody(text: string, contentType: string | undefined): Fields {
  if (!text.trim()) return {};
  if (contentType?.includes('application/json') || text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalidRequest('Invalid JSON body.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidRequest('The JSON body must be an object.');
    return parsed as Fields;
  }
  return parseForm(text);
}

function optionalString(fields: Fields, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw invalidRequest(`${name} must be a string.`, { param: name });
  return String(v);
}

function choice<T extends string>(fields: Fields, name: string, allowed: readonly T[], fallback?: T): T {
  const v = optionalString(fields, name) ?? fallback;
  if (v === undefined) throw invalidRequest(`Missing required param: ${name}.`, { code: 'parameter_missing', param: name });
  if (!(allowed as readonly string[]).includes(v)) throw invalidRequest(`${name} must be one of ${allowed.join(', ')}.`, { param: name });
  return v as T;
}

function requiredString(fields: Fields, name: string): string {
  const v = optionalString(fields, name);
  if (v === undefined) throw invalidRequest(`Missing required param: ${name}.`, { code: 'parameter_missing', param: name });
  return v;
}

function optionalChoice<T extends string>(fields: Fields, name: string, allowed: readonly T[]): T | undefined {
  return optionalString(fields, name) === undefined ? undefined : choice(fields, name, allowed);
}

function optionalBoolean(fields: Fields, name: string): boolean | undefined {
  const v = fields[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalidRequest(`${name} must be true or false.`, { param: name });
}

function requiredCount(fields: Fields): number {
  const count = optionalInt(fields, 'count');
  if (count === undefined) throw invalidRequest('Missing required param: count.', { code: 'parameter_missing', param: 'count' });
  return count;
}

function optionalInt(fields: Fields, name: string): number | undefined {
  const s = optionalString(fields, name);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw invalidRequest(`${name} must be an integer.`, { param: name });
  return Number(s);
}

/** The account of the call's key, or the 401 a /v1 request with that header would get. */
function keyAccount(core: EmulatorCore, authorization: string | undefined): Account {
  const account = core.accounts.authenticate(authorization);
  if (account instanceof EmulatorApiError) throw account;
  return account;
}

/** The account named by the call's key; the default account when it names none. */
function namedAccount(core: EmulatorCore, authorization: string | undefined): Account {
  return authorization === undefined ? core.accounts.default() : keyAccount(core, authorization);
}

/** Answers a /_emulator request, or undefined when no control route matches. */
export async function handleControl(core: EmulatorCore, req: ControlRequest): Promise<ControlAnswer | undefined> {
  try {
    if (req.method === 'POST' && req.pathname === '/_emulator/webhooks/settle') {
      await core.webhooks.settle();
      return { status: 200, body: { settled: true } };
    }
    return route(core, req) ?? paymentRoute(core, req) ?? webhookRoute(core, req);
  } catch (err) {
    if (err instanceof EmulatorApiError) return { status: err.status, body: err.envelope() satisfies StripeErrorEnvelope };
    throw err;
  }
}

function route(core: EmulatorCore, { method, pathname, fields, authorization }: ControlRequest): ControlAnswer | undefined {
  const session = /^\/_emulator\/checkout\/sessions\/([^/]+)\/(complete|cancel)$/.exec(pathname);
  if (session && method === 'POST') {
    const id = decodeURIComponent(session[1]);
    if (session[2] === 'cancel') {
      const r = core.cancelCheckoutSession(id);
      return { status: 200, body: { redirect_url: r.redirectUrl, session: r.session } };
    }
    const card = requiredString(fields, 'card');
    const tds = optionalString(fields, 'three_d_secure') ?? 'pass';
    if (tds !== 'pass' && tds !== 'fail') throw invalidRequest('three_d_secure must be pass or fail.', { param: 'three_d_secure' });
    const r = core.completeCheckoutSession(id, card, {
      threeDSecure: tds,
      expMonth: optionalInt(fields, 'exp_month'),
      expYear: optionalInt(fields, 'exp_year'),
      cvc: optionalString(fields, 'cvc'),
      name: optionalString(fields, 'name'),
    });
    return { status: 200, body: { redirect_url: r.redirectUrl, session: r.session } };
  }

  switch (`${method} ${pathname}`) {
    case 'GET /_emulator/health':
      return { status: 200, body: { ok: true, now: core.clock.now() } };
    case 'GET /_emulator/requests':
      return { status: 200, body: { data: core.requestLog.list() } };
    case 'DELETE /_emulator/requests':
      core.requestLog.clear();
      return { status: 200, body: { deleted: true } };
    case 'POST /_emulator/faults': {
      const spec = checkFaultSpec(fields);
      core.faults.add(spec);
      return { status: 200, body: { fault: spec, pending: core.faults.list() } };
    }
    case 'GET /_emulator/faults':
      return { status: 200, body: { data: core.faults.list() } };
    case 'DELETE /_emulator/faults':
      core.faults.clear();
      return { status: 200, body: { deleted: true } };
    case 'POST /_emulator/clock/advance': {
      const raw = fields.seconds;
      const seconds = typeof raw === 'string' ? Number(raw) : raw;
      if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
        throw invalidRequest('seconds must be a number.', { code: 'parameter_missing', param: 'seconds' });
      }
      core.advanceClock(seconds);
      return { status: 200, body: { now: core.clock.now() } };
    }
    case 'GET /_emulator/clock':
      return { status: 200, body: { now: core.clock.now() } };
    case 'POST /_emulator/accounts/reset': {
      // The key is required: resetting "whatever the default is" by accident would wipe the wrong account.
      const previous = keyAccount(core, authorization);
      const current = core.resetAccount(previous);
      return { status: 200, body: { account_id: current.id, previous_account_id: previous.id } };
    }
    case 'GET /_emulator/events':
      return { status: 200, body: { data: namedAccount(core, authorization).store.events } };
    default:
      return undefined;
  }
}

function paymentRoute(core: EmulatorCore, { method, pathname, fields }: ControlRequest): ControlAnswer | undefined {
  const pi = /^\/_emulator\/payment_intents\/([^/]+)\/(three_d_secure|settle|expire_authorization)$/.exec(pathname);
  if (pi && method === 'POST') {
    const id = decodeURIComponent(pi[1]);
    if (pi[2] === 'expire_authorization') return { status: 200, body: { payment_intent: core.expireAuthorization(id) } };
    if (pi[2] === 'three_d_secure') {
      const r = core.authenticatePaymentIntent(id, choice(fields, 'result', ['pass', 'fail'] as const));
      return { status: 200, body: { redirect_url: r.redirectUrl, payment_intent: r.paymentIntent } };
    }
    return { status: 200, body: { payment_intent: core.settlePaymentIntent(id, choice(fields, 'outcome', ['succeeded', 'failed'] as const)) } };
  }
  const refund = /^\/_emulator\/refunds\/([^/]+)\/settle$/.exec(pathname);
  if (refund && method === 'POST') {
    const outcome = choice(fields, 'outcome', ['succeeded', 'failed'] as const);
    return { status: 200, body: { refund: core.settleRefund(decodeURIComponent(refund[1]), outcome) } };
  }
  switch (`${method} ${pathname}`) {
    case 'POST /_emulator/dashboard/refunds':
      return {
        status: 200,
        body: {
          refund: core.dashboardRefund({
            payment_intent: optionalString(fields, 'payment_intent'),
            charge: optionalString(fields, 'charge'),
            amount: optionalInt(fields, 'amount'),
            reason: optionalChoice(fields, 'reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const),
          }),
        },
      };
    case 'POST /_emulator/invoices/pay': {
      const invoice = core.payInvoice({
        customer: requiredString(fields, 'customer'),
        amount: Number(requiredString(fields, 'amount')),
        currency: requiredString(fields, 'currency'),
        description: optionalString(fields, 'description'),
      });
      return { status: 200, body: { invoice } };
    }
    case 'GET /_emulator/payment_mode':
      return { status: 200, body: { mode: core.modes.payments } };
    case 'POST /_emulator/payment_mode':
      core.modes.payments = choice(fields, 'mode', ['immediate', 'processing'] as const);
      return { status: 200, body: { mode: core.modes.payments } };
    case 'GET /_emulator/refund_mode':
      return { status: 200, body: { mode: core.modes.refunds } };
    case 'POST /_emulator/refund_mode':
      core.modes.refunds = choice(fields, 'mode', ['immediate', 'pending'] as const);
      return { status: 200, body: { mode: core.modes.refunds } };
    default:
      return undefined;
  }
}

function webhookRoute(core: EmulatorCore, { method, pathname, fields, authorization }: ControlRequest): ControlAnswer | undefined {
  const hooks = core.webhooks;
  switch (`${method} ${pathname}`) {
    case 'POST /_emulator/webhooks/endpoints': {
      const url = requiredString(fields, 'url');
      const events = fields.events;
      if (events !== undefined && (!Array.isArray(events) || !events.every((e) => typeof e === 'string'))) {
        throw invalidRequest('events must be an array of event types.', { param: 'events' });
      }
      return { status: 200, body: core.addWebhookEndpoint(namedAccount(core, authorization), url, events as string[] | undefined) };
    }
    case 'GET /_emulator/webhooks/deliveries':
      return { status: 200, body: { data: hooks.deliveries() } };
    case 'POST /_emulator/webhooks/pause':
      hooks.pause();
      return { status: 200, body: { paused: true } };
    case 'POST /_emulator/webhooks/release': {
      const order = choice(fields, 'order', ['fifo', 'reverse'] as const, 'fifo');
      hooks.release({ order, duplicate: optionalBoolean(fields, 'duplicate') ?? false });
      return { status: 200, body: { paused: false } };
    }
    case 'POST /_emulator/webhooks/duplicate': {
      const on = optionalBoolean(fields, 'on');
      if (on === undefined) throw invalidRequest('Missing required param: on.', { code: 'parameter_missing', param: 'on' });
      hooks.setDuplicate(on);
      return { status: 200, body: { duplicate: on } };
    }
    case 'POST /_emulator/webhooks/lose': {
      const type = optionalString(fields, 'type');
      hooks.lose(requiredCount(fields), type !== undefined ? { type } : {});
      return { status: 200, body: { ok: true } };
    }
    case 'POST /_emulator/webhooks/fail':
      hooks.failNextAttempts(requiredCount(fields));
      return { status: 200, body: { ok: true } };
    case 'POST /_emulator/webhooks/redeliver': {
      core.redeliverEvent(requiredString(fields, 'event'));
      return { status: 200, body: { ok: true } };
    }
    default:
      return undefined;
  }
}
