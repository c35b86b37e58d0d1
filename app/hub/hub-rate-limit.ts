import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { dbKind, type Db } from '../db';
import type { Logger } from '../shared/logger';

/** Requests a Hub key may make per minute; counted for all instances together on PostgreSQL. */
export interface HubRateLimiter {
  take(key: string): Promise<{ allowed: true } | { allowed: false; retryAfterS: number }>;
}

export function createHubRateLimiter(db: Db, perMinute: number, logger: Logger): HubRateLimiter {
  if (perMinute <= 0) return { take: async () => ({ allowed: true }) };
  const options = { points: perMinute, duration: 60, keyPrefix: 'hub' };
  // If the store fails, a per-process count stands in rather than refusing or waving everything through.
  const memory = new RateLimiterMemory(options);
  const limiter: RateLimiterAbstract =
    dbKind(db) === 'postgres'
      ? new RateLimiterPostgres({
          ...options,
          storeClient: db,
          storeType: 'knex',
          tableName: 'hub_rate_limits',
          tableCreated: true,
          clearExpiredByTimeout: false,
          insuranceLimiter: memory,
        })
      : memory;
  return {
    async take(key) {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (err) {
        if (err instanceof RateLimiterRes) return { allowed: false, retryAfterS: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limit store failed; request allowed');
        return { allowed: true };
      }
    },
  };
}
