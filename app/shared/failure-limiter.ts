/**
 * Counts failed attempts per key (a client id, an address) in a sliding window, so credential
 * guessing is slowed to a few tries a minute while a locked-out key is free again as soon as
 * its oldest failure leaves the window. In memory, per process: good enough to turn "200 guesses
 * a second" into "a handful a minute"; several instances each keep their own counts.
 */
export interface FailureLimiterOptions {
  /** Failures allowed per key inside the window; the next attempt is refused. */
  maxFailures: number;
  windowMs: number;
  /** At most this many keys are remembered (keys come from requests); the oldest go first. */
  maxKeys?: number;
}

export interface FailureLimiter {
  /** Whether `key` may try now; when not, how many seconds until it may. */
  check(key: string, now: Date): { allowed: true } | { allowed: false; retryAfterS: number };
  /** The first of `keys` that may not try now, as seconds to wait; undefined when all may. */
  retryAfter(keys: readonly string[], now: Date): number | undefined;
  recordFailure(key: string, now: Date): void;
  /** A success forgets the key's failures. */
  reset(key: string): void;
}

export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const maxKeys = options.maxKeys ?? 10_000;
  // A Map keyed by request text: `constructor` or `__proto__` are keys like any other.
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number): number[] => {
    const times = (failures.get(key) ?? []).filter((t) => now - t < options.windowMs);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };

  return {
    check(key, now) {
      const times = recent(key, now.getTime());
      if (times.length < options.maxFailures) return { allowed: true };
      const freeAt = times[times.length - options.maxFailures] + options.windowMs;
      return { allowed: false, retryAfterS: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)) };
    },
    retryAfter(keys, now) {
      for (const key of keys) {
        const verdict = this.check(key, now);
        if (!verdict.allowed) return verdict.retryAfterS;
      }
      return undefined;
    },
    recordFailure(key, now) {
      const times = recent(key, now.getTime());
      times.push(now.getTime());
      // Only the last maxFailures matter for the decision; older ones need not be kept.
      failures.delete(key);
      failures.set(key, times.slice(-options.maxFailures));
      while (failures.size > maxKeys) {
        const oldest = failures.keys().next().value as string;
        failures.delete(oldest);
      }
    },
    reset(key) {
      failures.delete(key);
    },
  };
}
