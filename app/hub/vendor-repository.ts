import type { Knex } from 'knex';
import { toDate } from '../db';

/** A merchant's Stripe account ("payment vendor"): its keys sealed, never readable through the API. */
export interface Vendor {
  id: string;
  ownerId: string;
  name: string;
  secretKeySealed: string;
  secretKeyHint: string;
  publishableKey: string | null;
  webhookSecretSealed: string | null;
  allowRawCardData: boolean;
  sandbox: boolean;
  createdAt: Date;
  disabledAt: Date | null;
}

interface VendorRow {
  id: string;
  owner_id: string;
  name: string;
  secret_key_enc: string;
  secret_key_hint: string;
  publishable_key: string | null;
  webhook_secret_enc: string | null;
  allow_raw_card_data: boolean;
  sandbox: boolean;
  created_at: Date | string;
  disabled_at: Date | string | null;
}

const toVendor = (row: VendorRow): Vendor => ({
  id: row.id,
  ownerId: row.owner_id,
  name: row.name,
  secretKeySealed: row.secret_key_enc,
  secretKeyHint: row.secret_key_hint,
  publishableKey: row.publishable_key,
  webhookSecretSealed: row.webhook_secret_enc,
  allowRawCardData: row.allow_raw_card_data,
  sandbox: row.sandbox,
  createdAt: toDate(row.created_at),
  disabledAt: row.disabled_at === null ? null : toDate(row.disabled_at),
});

export async function insertVendor(db: Knex | Knex.Transaction, v: Omit<Vendor, 'disabledAt'>): Promise<Vendor> {
  const [row] = await db('hub_vendors')
    .insert({
      id: v.id,
      owner_id: v.ownerId,
      name: v.name,
      secret_key_enc: v.secretKeySealed,
      secret_key_hint: v.secretKeyHint,
      publishable_key: v.publishableKey,
      webhook_secret_enc: v.webhookSecretSealed,
      allow_raw_card_data: v.allowRawCardData,
      sandbox: v.sandbox,
      created_at: v.createdAt,
    })
    .returning('*');
  return toVendor(row as VendorRow);
}

/** A merchant's vendor: another merchant's id is unknown. */
export async function findVendor(db: Knex | Knex.Transaction, ownerId: string, id: string): Promise<Vendor | undefined> {
  const row = await db<VendorRow>('hub_vendors').where({ owner_id: ownerId, id }).first();
  return row ? toVendor(row) : undefined;
}

export async function listVendors(db: Knex, ownerId?: string): Promise<Vendor[]> {
  const query = db<VendorRow>('hub_vendors').orderBy('created_at');
  return (await (ownerId ? query.where({ owner_id: ownerId }) : query)).map(toVendor);
}

export async function disableVendor(db: Knex, ownerId: string, id: string, now: Date): Promise<boolean> {
  return (await db('hub_vendors').where({ owner_id: ownerId, id }).whereNull('disabled_at').update({ disabled_at: now })) > 0;
}

/** A vendor by id alone: for its own webhook endpoint, where the path names it and its secret proves the sender. */
export async function findVendorById(db: Knex | Knex.Transaction, id: string): Promise<Vendor | undefined> {
  const row = await db<VendorRow>('hub_vendors').where({ id }).first();
  return row ? toVendor(row) : undefined;
}

export async function updateVendorWebhookSecret(db: Knex, ownerId: string, id: string, sealed: string): Promise<Vendor | undefined> {
  const [row] = await db('hub_vendors').where({ owner_id: ownerId, id }).whereNull('disabled_at').update({ webhook_secret_enc: sealed }).returning('*');
  return row ? toVendor(row as VendorRow) : undefined;
}
