import type { Knex } from 'knex';
import { toDate, toSafeInt } from '../db';

/** A merchant's transaction: the Hub's fields around the core's charge (`charge_id`). */
export interface HubTransaction {
  id: number;
  ownerId: string;
  vendorId: string;
  tokenId: string;
  merchantRefCode: string;
  requestFingerprint: string;
  chargeId: number | null;
  amount: number;
  serviceCharge: number;
  total: number;
  currency: string;
  description: string;
  firstName: string;
  lastName: string;
  mobile: string;
  email: string;
  lang: string;
  sendEmail: boolean;
  paymentMethod: string | null;
  webhookUrl: string | null;
  /** Its token authorizes this transaction only (3-D Secure). */
  oneTimeToken: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface TransactionRow {
  id: unknown;
  owner_id: string;
  vendor_id: string;
  token_id: string;
  merchant_ref_code: string;
  request_fingerprint: string;
  charge_id: unknown;
  amount: unknown;
  service_charge: unknown;
  total: unknown;
  currency: string;
  description: string;
  first_name: string;
  last_name: string;
  mobile: string;
  email: string;
  lang: string;
  send_email: boolean;
  payment_method: string | null;
  webhook_url: string | null;
  one_time_token: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}

const toTransaction = (row: TransactionRow): HubTransaction => ({
  id: toSafeInt(row.id),
  ownerId: row.owner_id,
  vendorId: row.vendor_id,
  tokenId: row.token_id,
  merchantRefCode: row.merchant_ref_code,
  requestFingerprint: row.request_fingerprint,
  chargeId: row.charge_id == null ? null : toSafeInt(row.charge_id),
  amount: toSafeInt(row.amount),
  serviceCharge: toSafeInt(row.service_charge),
  total: toSafeInt(row.total),
  currency: row.currency,
  description: row.description,
  firstName: row.first_name,
  lastName: row.last_name,
  mobile: row.mobile,
  email: row.email,
  lang: row.lang,
  sendEmail: row.send_email,
  paymentMethod: row.payment_method,
  webhookUrl: row.webhook_url,
  oneTimeToken: row.one_time_token,
  createdAt: toDate(row.created_at),
  updatedAt: toDate(row.updated_at),
});

export type NewTransaction = Omit<HubTransaction, 'id' | 'chargeId' | 'createdAt' | 'updatedAt'>;

/**
 * Records the transaction unless the merchant already has one with this merchant_ref_code;
 * returns the row that holds the code (ours or the earlier one) and whether this call made it.
 */
export async function insertTransactionOnce(db: Knex, t: NewTransaction, now: Date): Promise<{ transaction: HubTransaction; created: boolean }> {
  const inserted = await db('hub_transactions')
    .insert({
      owner_id: t.ownerId,
      vendor_id: t.vendorId,
      token_id: t.tokenId,
      merchant_ref_code: t.merchantRefCode,
      request_fingerprint: t.requestFingerprint,
      amount: t.amount,
      service_charge: t.serviceCharge,
      total: t.total,
      currency: t.currency,
      description: t.description,
      first_name: t.firstName,
      last_name: t.lastName,
      mobile: t.mobile,
      email: t.email,
      lang: t.lang,
      send_email: t.sendEmail,
      payment_method: t.paymentMethod,
      webhook_url: t.webhookUrl,
      one_time_token: t.oneTimeToken,
      created_at: now,
      updated_at: now,
    })
    .onConflict(['owner_id', 'merchant_ref_code'])
    .ignore()
    .returning('*');
  if (inserted.length > 0) return { transaction: toTransaction(inserted[0] as TransactionRow), created: true };
  const existing = await findTransaction(db, t.ownerId, t.merchantRefCode);
  if (!existing) throw new Error(`transaction ${t.merchantRefCode} vanished after a conflicting insert`);
  return { transaction: existing, created: false };
}

/** A merchant's transaction by its merchant_ref_code: another merchant's is unknown. */
export async function findTransaction(db: Knex | Knex.Transaction, ownerId: string, merchantRefCode: string): Promise<HubTransaction | undefined> {
  const row = await db<TransactionRow>('hub_transactions').where({ owner_id: ownerId, merchant_ref_code: merchantRefCode }).first();
  return row ? toTransaction(row) : undefined;
}

/** Names the core charge of the transaction (the charge's own times say when it moved). */
export async function bindCharge(db: Knex, id: number, chargeId: number): Promise<void> {
  await db('hub_transactions').where({ id }).whereNull('charge_id').update({ charge_id: chargeId });
}
