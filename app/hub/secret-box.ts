import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

/**
 * Secrets at rest (vendors' Stripe keys, merchants' webhook secrets): AES-256-GCM with a random
 * 96-bit nonce per value, stored as `v1.<nonce>.<ciphertext>.<tag>` in base64url. A value changed
 * in the database, or read with another key, fails to open rather than decrypting to garbage.
 */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

const VERSION = 'v1';

/** A sealed value that does not open: changed in the database, or sealed with another key. */
export class SecretDoesNotOpen extends Error {}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the secret box key must be 32 bytes');
  return {
    seal(plain) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, nonce, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, nonce, body, tag] = sealed.split('.');
      if (version !== VERSION || !nonce || body === undefined || !tag) throw new Error('not a sealed secret');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDoesNotOpen('a sealed secret does not open with this key');
      }
    },
  };
}

const KEY_FILE = 'hub-encryption.key';

/**
 * The configured key, or in development the one kept in DATA_DIR (made on the first start, owner
 * read-only), so a newcomer's vendors survive a restart without configuring anything.
 */
export function loadEncryptionKey(configured: Buffer | undefined, dataDir: string): { key: Buffer; source: 'HUB_ENCRYPTION_KEY' | string } {
  if (configured) return { key: configured, source: 'HUB_ENCRYPTION_KEY' };
  // An in-memory database forgets its vendors at exit: a key for this run only, and no file.
  if (dataDir.startsWith('memory://')) return { key: randomBytes(32), source: 'a random key for this in-memory run' };
  const file = path.join(dataDir, KEY_FILE);
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key`);
    return { key, source: file };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, source: file };
}

/**
 * Start-up check: the key opens what the database holds (one merchant's webhook secret, one
 * vendor's key). A wrong HUB_ENCRYPTION_KEY (or a lost development key file) is said at start, in
 * a sentence, not as a failure of each merchant's first request.
 */
export async function checkSealedSecrets(db: Knex, box: SecretBox, keySource: string): Promise<void> {
  const merchant = await db('hub_merchants').first('webhook_secret_enc');
  const vendor = await db('hub_vendors').first('secret_key_enc');
  for (const sealed of [merchant?.webhook_secret_enc, vendor?.secret_key_enc]) {
    if (typeof sealed !== 'string') continue;
    try {
      box.open(sealed);
    } catch (err) {
      if (!(err instanceof SecretDoesNotOpen)) throw err;
      throw new SecretDoesNotOpen(
        `the Payment Hub's secrets in the database were sealed with another key than ${keySource === 'HUB_ENCRYPTION_KEY' ? 'HUB_ENCRYPTION_KEY' : `the one in ${keySource}`}: start with the key they were sealed with`,
      );
    }
  }
}
