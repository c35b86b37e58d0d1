/**
 * Stripe's idempotency layer for POSTs: keyed by (API key, Idempotency-Key). The first
 * request's fingerprint and full answer are kept for 24 h of emulator time; a replay gets the
 * same status and body, different parameters get an idempotency_error, and a duplicate that
 * arrives while the first is still running gets a 409.
 */
import type { EmulatorClock } from './clock';

const TTL_SECONDS = 24 * 60 * 60;

interface Entry {
  fingerprint: string;
  path: string;
  createdAt: number;
  answer: StoredAnswer | null;
}

export interface StoredAnswer {
  status: number;
  body: string;
  requestId: string;
}

export type IdempotencyCheck =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'in_flight' }
  | { kind: 'mismatch'; firstPath: string };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: EmulatorClock) {}

  /** Claims the key for this request, or says why it cannot run. */
  begin(apiKey: string, key: string, method: string, path: string, params: unknown): IdempotencyCheck {
    const id = this.id(apiKey, key);
    const now = this.clock.now();
    const fingerprint = `${method} ${path} ${stableStringify(params)}`;
    const existing = this.entries.get(id);
    if (existing && now - existing.createdAt < TTL_SECONDS) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch', firstPath: existing.path };
      if (existing.answer === null) return { kind: 'in_flight' };
      return { kind: 'replay', answer: existing.answer };
    }
    this.entries.set(id, { fingerprint, path, createdAt: now, answer: null });
    return { kind: 'new' };
  }

  finish(apiKey: string, key: string, answer: StoredAnswer): void {
    const entry = this.entries.get(this.id(apiKey, key));
    if (entry) entry.answer = answer;
  }

  /** The request did not run to an answer worth replaying (a 500): forget the key. */
  abandon(apiKey: string, key: string): void {
    this.entries.delete(this.id(apiKey, key));
  }

  private id(apiKey: string, key: string): string {
    return `${apiKey}\u0000${key}`;
  }
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
