import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';
import type { KeyKind } from './hub-ids';

export interface Merchant {
  id: string;
  name: string;
  webhookSecretSealed: string;
  /** How its webhooks are sent: GET (the seed's empty signal) or POST with a JSON body. */
  webhookMethod: 'GET' | 'POST';
  createdAt: Date;
  disabledAt: Date | null;
}

interface MerchantRow {
  owner_id: string;
  name: string;
  webhook_secret_enc: string;
  webhook_method: 'GET' | 'POST' | null;
  created_at: Date | string;
  disabled_at: Date | string | null;
}

const toMerchant = (row: MerchantRow): Merchant => ({
  id: row.owner_id,
  name: row.name,
  webhookSecretSealed: row.webhook_secret_enc,
  webhookMethod: row.webhook_method === 'POST' ? 'POST' : 'GET',
  createdAt: toDate(row.created_at),
  disabledAt: row.disabled_at === null ? null : toDate(row.disabled_at),
});

const merchants = (db: Knex | Knex.Transaction) =>
  db('hub_merchants').join('owners', 'owners.id', 'hub_merchants.owner_id').select<MerchantRow[]>('hub_merchants.*', 'owners.name');

/** A merchant is an owner of the payments core (kind `merchant`) plus its Hub settings. */
export async function insertMerchant(
  trx: Knex.Transaction,
  m: { id: string; name: string; webhookSecretSealed: string; webhookMethod?: 'GET' | 'POST'; now: Date },
): Promise<void> {
  await trx('owners').insert({ id: m.id, kind: 'merchant', name: m.name, created_at: m.now });
  await trx('hub_merchants').insert({ owner_id: m.id, webhook_secret_enc: m.webhookSecretSealed, webhook_method: m.webhookMethod ?? 'GET', created_at: m.now });
}

export async function findMerchant(db: Knex | Knex.Transaction, id: string): Promise<Merchant | undefined> {
  const row = await merchants(db).where('hub_merchants.owner_id', id).first();
  return row ? toMerchant(row) : undefined;
}

export async function listMerchants(db: Knex): Promise<Merchant[]> {
  return (await merchants(db).orderBy('hub_merchants.created_at')).map(toMerchant);
}

export interface ApiKeyRecord {
  id: number;
  ownerId: string;
  kind: KeyKind;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiKeyRow {
  id: unknown;
  owner_id: string;
  kind: KeyKind;
  prefix: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const toApiKey = (row: ApiKeyRow): ApiKeyRecord => ({
  id: toSafeInt(row.id),
  ownerId: row.owner_id,
  kind: row.kind,
  prefix: row.prefix,
  createdAt: toDate(row.created_at),
  revokedAt: row.revoked_at === null ? null : toDate(row.revoked_at),
});

export async function insertApiKey(
  db: Knex | Knex.Transaction,
  k: { ownerId: string; kind: KeyKind; prefix: string; hash: string; now: Date },
): Promise<ApiKeyRecord> {
  const [row] = await db('hub_api_keys').insert({ owner_id: k.ownerId, kind: k.kind, prefix: k.prefix, key_hash: k.hash, created_at: k.now }).returning('*');
  return toApiKey(row as ApiKeyRow);
}

/** The live key with this hash, of a merchant that is not disabled. */
export async function findActiveKeyByHash(db: Knex, hash: string): Promise<ApiKeyRecord | undefined> {
  const row = await db<ApiKeyRow>('hub_api_keys')
    .join('hub_merchants', 'hub_merchants.owner_id', 'hub_api_keys.owner_id')
    .where({ 'hub_api_keys.key_hash': hash })
    .whereNull('hub_api_keys.revoked_at')
    .whereNull('hub_merchants.disabled_at')
    .first('hub_api_keys.*');
  return row ? toApiKey(row) : undefined;
}

export async function listApiKeys(db: Knex, ownerId: string): Promise<ApiKeyRecord[]> {
  return (await db<ApiKeyRow>('hub_api_keys').where({ owner_id: ownerId }).orderBy('id')).map(toApiKey);
}

export async function revokeApiKey(db: Knex, ownerId: string, id: number, now: Date): Promise<boolean> {
  const updated = await db('hub_api_keys').where({ id, owner_id: ownerId }).whereNull('revoked_at').update({ revoked_at: now });
  return updated > 0;
}
