import { createHash, randomBytes } from 'node:crypto';

/** Ids and keys the Hub hands out: random, with a readable prefix; keys are kept only as hashes. */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters of base62 from a uniform source (rejection sampling: no modulo bias). */
function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export const newMerchantId = (): string => `mer_${randomBytes(8).toString('hex')}`;
/** 24 hex digits, the shape of the seed's `payment_vendor` ids. */
export const newVendorId = (): string => randomBytes(12).toString('hex');
export const newTokenId = (): string => `tok_${base62(24)}`;

export type KeyKind = 'public' | 'secret';

/** An API key: `hub_pk_...` (tokenization only, safe in a browser) or `hub_sk_...` (everything). 190 random bits. */
export function newApiKey(kind: KeyKind, livemode: boolean): { key: string; prefix: string; hash: string } {
  const key = `hub_${kind === 'public' ? 'pk' : 'sk'}_${livemode ? 'live' : 'test'}_${base62(32)}`;
  return { key, prefix: key.slice(0, 20), hash: hashApiKey(key) };
}

/** Keys are long random strings: one SHA-256 is enough to keep them useless if the table leaks. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** What an operator may see of a secret: its last 4 characters. */
export const secretHint = (secret: string): string => `...${secret.slice(-4)}`;
