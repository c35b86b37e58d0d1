/**
 * The test-control API beside /v1: no API key, JSON answers, JSON or form bodies.
 * It drives what a browser or the passage of time would otherwise do.
 */
import { checkFaultSpec } from './faults';
import type { EmulatorCore } from './emulator-core';
import { parseForm } from './form-parser';
import { EmulatorApiError, invalidRequest, type StripeErrorEnvelope } from './stripe-errors';

export interface ControlAnswer {
  status: number;
  body: object;
}

type Fields = Record<string, unknown>;

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

function optionalInt(fields: Fields, name: string): number | undefined {
  const s = optionalString(fields, name);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw invalidRequest(`${name} must be an integer.`, { param: name });
  return Number(s);
}

/** Answers a /_emulator request, or undefined when no control route matches. */
export function handleControl(core: EmulatorCore, method: string, pathname: string, fields: Fields): ControlAnswer | undefined {
  try {
    return route(core, method, pathname, fields);
  } catch (err) {
    if (err instanceof EmulatorApiError) return { status: err.status, body: err.envelope() satisfies StripeErrorEnvelope };
    throw err;
  }
}

function route(core: EmulatorCore, method: string, pathname: string, fields: Fields): ControlAnswer | undefined {
  const session = /^\/_emulator\/checkout\/sessions\/([^/]+)\/(complete|cancel)$/.exec(pathname);
  if (session && method === 'POST') {
    const id = decodeURIComponent(session[1]);
    if (session[2] === 'cancel') {
      const r = core.cancelCheckoutSession(id);
      return { status: 200, body: { redirect_url: r.redirectUrl, session: r.session } };
    }
    const card = optionalString(fields, 'card');
    if (card === undefined) throw invalidRequest('Missing required param: card.', { code: 'parameter_missing', param: 'card' });
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
      core.clock.advance(seconds);
      return { status: 200, body: { now: core.clock.now() } };
    }
    case 'GET /_emulator/clock':
      return { status: 200, body: { now: core.clock.now() } };
    case 'GET /_emulator/events':
      return { status: 200, body: { data: core.store.events } };
    default:
      return undefined;
  }
}
