/**
 * Stripe's idempotency layer for POSTs: keyed by (API key, Idempotency-Key). The first
 * request's fingerprint and full answer are kept for 24 h of emulator time; a replay gets the
 * same status and body, different parameters get an idempotency_error, and a duplicate that
 * arrives while the first is still running gets a 409.
 *
 * Neither the API key nor the parameters are kept as sent: entries are scoped by a hash of the
 * key and compared by a hash of the request, so a state file (persistence.ts) holds neither.
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
  /** A hash of the API key: keys are per API key, and the key itself is never written down. */
  scope: string;
  key: string;
  fingerprint: string;
  path: string;
  createdAt: number;
  answer: StoredAnswer;
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
    const fingerprint = sha256(`${method} ${path} ${stableStringify(params)}`);
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

  /** Finished entries still within their 24 h; requests in flight are left out (they never answered). */
  saved(): SavedIdempotencyEntry[] {
    const now = this.clock.now();
    const out: SavedIdempotencyEntry[] = [];
    for (const [id, entry] of this.entries) {
      if (entry.answer === null || now - entry.createdAt >= TTL_SECONDS) continue;
      const cut = id.indexOf('\u0000');
      out.push({ scope: id.slice(0, cut), key: id.slice(cut + 1), fingerprint: entry.fingerprint, path: entry.path, createdAt: entry.createdAt, answer: { ...entry.answer } });
    }
    return out;
  }

  /** Replaces every entry with saved ones. */
  restore(saved: readonly SavedIdempotencyEntry[]): void {
    this.entries.clear();
    for (const e of saved) {
      this.entries.set(`${e.scope}\u0000${e.key}`, { fingerprint: e.fingerprint, path: e.path, createdAt: e.createdAt, answer: { ...e.answer } });
    }
  }

  private id(apiKey: string, key: string): string {
    return `${scopeOf(apiKey)}\u0000${key}`;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The API key's scope: a hash, never the key. */
function scopeOf(apiKey: string): string {
  return sha256(`emulator idempotency scope\u0000${apiKey}`).slice(0, 32);
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
