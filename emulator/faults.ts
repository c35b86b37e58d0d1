/** Injected faults for /v1 requests, consumed one per matching request, in the order added. */
import type { FaultSpec, FaultType } from './types';
import { invalidRequest } from './stripe-errors';

const TYPES: readonly FaultType[] = ['error_500', 'timeout', 'rate_limit_429', 'drop_after_acting'];

interface PendingFault {
  spec: FaultSpec;
  remaining: number;
}

export class FaultQueue {
  private pending: PendingFault[] = [];

  add(spec: FaultSpec): void {
    const checked = checkFaultSpec(spec);
    this.pending.push({ spec: checked, remaining: checked.count ?? 1 });
  }

  /** The first fault matching this request (of the account `accountId`), with one use consumed. */
  take(method: string, path: string, accountId: string): FaultSpec | undefined {
    const i = this.pending.findIndex(
      (f) =>
        (f.spec.method === undefined || f.spec.method.toUpperCase() === method.toUpperCase()) &&
        (f.spec.path === undefined || path.startsWith(f.spec.path)) &&
        (f.spec.account === undefined || f.spec.account === accountId),
    );
    if (i === -1) return undefined;
    const fault = this.pending[i];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.pending.splice(i, 1);
    return fault.spec;
  }

  list(): Array<FaultSpec & { remaining: number }> {
    return this.pending.map((f) => ({ ...f.spec, remaining: f.remaining }));
  }

  clear(): void {
    this.pending = [];
  }
}

/** Validates a FaultSpec from the control API (untrusted JSON) or from code. */
export function checkFaultSpec(input: unknown): FaultSpec {
  if (input === null || typeof input !== 'object') throw invalidRequest('A fault must be an object with a `type`.');
  const raw = input as Record<string, unknown>;
  const known = ['type', 'count', 'method', 'path', 'delayMs', 'delay_ms', 'account'];
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) throw invalidRequest(`Received unknown fault field: ${k}`, { param: k });
  }
  if (typeof raw.type !== 'string' || !TYPES.includes(raw.type as FaultType)) {
    throw invalidRequest(`Invalid fault type: must be one of ${TYPES.join(', ')}`, { param: 'type' });
  }
  const spec: FaultSpec = { type: raw.type as FaultType };
  const count = toNumber(raw.count, 'count');
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 1) throw invalidRequest('Fault count must be a positive integer.', { param: 'count' });
    spec.count = count;
  }
  const delay = toNumber(raw.delayMs ?? raw.delay_ms, 'delayMs');
  if (delay !== undefined) {
    if (delay < 0) throw invalidRequest('Fault delayMs must not be negative.', { param: 'delayMs' });
    spec.delayMs = delay;
  }
  if (raw.method !== undefined) {
    if (typeof raw.method !== 'string') throw invalidRequest('Fault method must be a string.', { param: 'method' });
    spec.method = raw.method.toUpperCase();
  }
  if (raw.path !== undefined) {
    if (typeof raw.path !== 'string' || !raw.path.startsWith('/v1')) {
      throw invalidRequest('Fault path must be a /v1 path prefix, e.g. /v1/checkout/sessions.', { param: 'path' });
    }
    spec.path = raw.path;
  }
  if (raw.account !== undefined) {
    if (typeof raw.account !== 'string' || !raw.account.startsWith('acct_')) {
      throw invalidRequest('Fault account must be an acct_ id.', { param: 'account' });
    }
    spec.account = raw.account;
  }
  return spec;
}

function toNumber(value: unknown, param: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalidRequest(`Fault ${param} must be a number.`, { param });
  return n;
}
