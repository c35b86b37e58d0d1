import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { createFailureLimiter } from '../shared/failure-limiter';
import { hashApiKey, type KeyKind } from './hub-ids';
import type { HubRateLimiter } from './hub-rate-limit';
import { findActiveKeyByHash } from './merchant-repository';

/** Who is calling: the merchant and which of its keys it used. */
export interface HubCaller {
  ownerId: string;
  keyKind: KeyKind;
}

declare module 'express-serve-static-core' {
  interface Request {
    hubCaller?: HubCaller;
  }
}

/** Wrong keys allowed per address in a minute before 429: a guesser gets nowhere, a misconfigured client still sees 401s first. */
const BAD_KEY_LIMIT = { maxFailures: 30, windowMs: 60_000 };
const KEY = /^hub_(pk|sk)_(test|live)_[0-9A-Za-z]{32}$/;

/**
 * `Authorization: Bearer <key>`: the key's hash must be a live key of an enabled merchant.
 * `secret` routes refuse a public key (it sits in browsers).
 */
export function createHubAuth(deps: Pick<Deps, 'db' | 'clock'>, limiter: HubRateLimiter): (need: KeyKind) => RequestHandler {
  const badKeys = createFailureLimiter(BAD_KEY_LIMIT);
  return (need) =>
    async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
      const now = deps.clock.now();
      const address = req.ip ?? 'unknown';
      const retryAfterS = badKeys.retryAfter([address], now);
      if (retryAfterS !== undefined)
        return next(new AppError('forbidden', 'Too many requests with a wrong key; try again later', { code: 'rate_limited_here', details: { retryAfterS } }));
      const match = /^Bearer ([^\s]+)$/.exec(req.get('authorization') ?? '');
      const key = match && KEY.test(match[1]) ? await findActiveKeyByHash(deps.db, hashApiKey(match[1])) : undefined;
      if (!key) {
        badKeys.recordFailure(address, now);
        return next(new AppError('unauthorized', 'Unauthorized'));
      }
      // Per key, so one busy (or broken) client cannot starve the others.
      const verdict = await limiter.take(`key:${key.id}`);
      if (!verdict.allowed) {
        return next(
          new AppError('forbidden', 'Too many requests for this key; slow down', { code: 'rate_limited_here', details: { retryAfterS: verdict.retryAfterS } }),
        );
      }
      if (need === 'secret' && key.kind !== 'secret')
        return next(new AppError('forbidden', 'This endpoint needs the secret key; the public key may only create and check tokens'));
      req.hubCaller = { ownerId: key.ownerId, keyKind: key.kind };
      next();
    };
}

export const callerOf = (req: Request): HubCaller => {
  if (!req.hubCaller) throw new Error('hub route without authentication');
  return req.hubCaller;
};
