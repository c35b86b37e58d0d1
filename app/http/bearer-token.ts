import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether the request's `Authorization: Bearer ...` is `token`, compared in constant time. */
export function hasBearerToken(req: Request, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
  // Compared as digests: equal length whatever was sent, and no early exit on the first wrong byte.
  return timingSafeEqual(digest(given), digest(token));
}
