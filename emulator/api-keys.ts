/** Secret keys as requests carry them: read from the Authorization header, masked for messages, hashed for lookup. */
import { createHash } from 'node:crypto';

/** The key from `Authorization: Bearer <key>` or Basic auth with the key as user name (as Stripe takes it). */
export function readApiKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space === -1) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme === 'basic') {
    // Stripe takes the key as the Basic user name, with an empty password.
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const user = decoded.split(':', 1)[0];
    return user || undefined;
  }
  return undefined;
}

/** `sk_test_****abcd`: never the whole key. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]{2,4}_(?:test|live)_/.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  return `${prefix}****${rest.length > 4 ? rest.slice(-4) : ''}`;
}

export function isLiveKey(key: string): boolean {
  return key.startsWith('sk_live_') || key.startsWith('rk_live_');
}

/** SHA-256 (hex) of a key: how accounts are found, in memory and in a state file, without keeping the key. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
