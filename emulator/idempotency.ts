/**
 * Stripe's idempotency layer for POSTs, one per account (accounts.ts), keyed by Idempotency-Key.
 * The first request's fingerprint and full answer are kept for 24 h of emulator time; a replay
 * gets the same status and body, different parameters get an idempotency_error, and a duplicate
 * that arrives while the first is still running gets a 409.
 *
 * The parameters are not kept as sent: requests are compared by a hash, so a state file
 * (persistence.ts) does not hold them.
 */
import { createHash } from 'node:crypto';
import type { EmulatorClock } from './clock';

const TTL_SECONDS = 24 * 60 * 60;

interface Entry {
  /** SHA-256 of method, path and parameters. */
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

/** A finished entry as a state file keeps it. */
export interface SavedIdempotencyEntry {
  key: string;
  fingerprint: string;
  path: string;
  createdAt: number;
  answer: StoredAnswer;
}

export type IdempotencyCheck = { kind: 'new' } | { kind: 'replay'; answer: StoredAnswer } | { kind: 'in_flight' } | { kind: 'mismatch'; firstPath: string };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: EmulatorClock) {}

  /** Claims the key for this request, or says why it cannot run. */
  begin(key: string, method: string, path: string, params: unknown): IdempotencyCheck {
    const now = this.clock.now();
    const fingerprint = sha256(`${method} ${path} ${stableStringify(params)}`);
    const existing = this.entries.get(key);
    if (existing && now - existing.createdAt < TTL_SECONDS) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch', firstPath: existing.path };
      if (existing.answer === null) return { kind: 'in_flight' };
      return { kind: 'replay', answer: existing.answer };
    }
    this.entries.set(key, { fingerprint, path, createdAt: now, answer: null });
    return { kind: 'new' };
  }

  finish(key: string, answer: StoredAnswer): void {
    const entry = this.entries.get(key);
    if (entry) entry.answer = answer;
  }

  /** The request did not run to an answer worth replaying (a 500): forget the key. */
  abandon(key: string): void {
    this.entries.delete(key);
  }

  /** Finished entries still within their 24 h; requests in flight are left out (they never answered). */
  saved(): SavedIdempotencyEntry[] {
    const now = this.clock.now();
    const out: SavedIdempotencyEntry[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.answer === null || now - entry.createdAt >= TTL_SECONDS) continue;
      out.push({ key, fingerprint: entry.fingerprint, path: entry.path, createdAt: entry.createdAt, answer: { ...entry.answer } });
    }
    return out;
  }

  /** Replaces every entry with saved ones. */
  restore(saved: readonly SavedIdempotencyEntry[]): void {
    this.entries.clear();
    for (const e of saved) {
      this.entries.set(e.key, { fingerprint: e.fingerprint, path: e.path, createdAt: e.createdAt, answer: { ...e.answer } });
    }
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
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
