import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config';
import { unixSeconds } from '../shared/clock';

/**
 * BillRun's other way in: `POST /oauth2/token` with client credentials gives a Bearer token that
 * stands in for `_sig_`. Tokens are self-contained (HMAC over client id and expiry) so every
 * instance can check them without a table.
 */

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: null;
}

const TOKEN_PREFIX = 'pgw1';

const tokenKey = (config: Config): Buffer => createHmac('sha256', config.session.secret).update('billrun-oauth-token').digest();

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
const sameSecret = (a: string, b: string): boolean => timingSafeEqual(sha256(a), sha256(b));

export function checkClientCredentials(config: Config, clientId: string, clientSecret: string): boolean {
  let ok = false;
  for (const client of config.billrun.oauthClients) {
    const match = sameSecret(client.clientId, clientId) && sameSecret(client.clientSecret, clientSecret);
    ok = ok || match;
  }
  return ok;
}

export function issueToken(config: Config, clientId: string, now: Date): IssuedToken {
  const ttl = config.billrun.oauthTokenTtlS;
  const payload = Buffer.from(JSON.stringify({ cid: clientId, exp: unixSeconds(now) + ttl })).toString('base64url');
  const mac = createHmac('sha256', tokenKey(config)).update(`${TOKEN_PREFIX}.${payload}`).digest('base64url');
  return { access_token: `${TOKEN_PREFIX}.${payload}.${mac}`, token_type: 'Bearer', expires_in: ttl, scope: null };
}

/**
 * Node's base64 decoder skips characters outside the alphabet, padding and the unused bits of
 * the last character, so several texts decode to one MAC. Only the text we issued is accepted.
 */
const isCanonicalBase64url = (text: string): boolean => /^[A-Za-z0-9_-]+$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;

/** The client id a valid, unexpired token was issued to, or undefined. */
export function verifyToken(config: Config, token: string, now: Date): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return undefined;
  if (!isCanonicalBase64url(parts[1]) || !isCanonicalBase64url(parts[2])) return undefined;
  const expected = createHmac('sha256', tokenKey(config)).update(`${parts[0]}.${parts[1]}`).digest('base64url');
  // The exact text is compared (hashed first, so lengths do not leak through timing).
  if (!sameSecret(parts[2], expected)) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { cid?: unknown; exp?: unknown };
    if (typeof claims.cid !== 'string' || typeof claims.exp !== 'number') return undefined;
    if (claims.exp <= unixSeconds(now)) return undefined;
    // A client removed from the configuration loses its tokens at once.
    if (!config.billrun.oauthClients.some((c) => c.clientId === claims.cid)) return undefined;
    return claims.cid;
  } catch {
    return undefined;
  }
}
