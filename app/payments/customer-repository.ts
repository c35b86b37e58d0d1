import type { Knex } from 'knex';
import { toSafeInt } from '../db';
import type { CustomerKey } from './customer-key';

/** An owner's customer in one Stripe account: our own mapping, never a search by e-mail. */
export interface Customer extends CustomerKey {
  id: number;
  stripeCustomerId: string;
  email: string | null;
}

interface CustomerRow {
  id: unknown;
  owner_id: string;
  stripe_account: unknown;
  external_ref: string;
  stripe_customer_id: string;
  email: string | null;
}

const toCustomer = (row: CustomerRow): Customer => ({
  id: toSafeInt(row.id),
  ownerId: row.owner_id,
  stripeAccount: toSafeInt(row.stripe_account),
  customerRef: row.external_ref,
  stripeCustomerId: row.stripe_customer_id,
  email: row.email,
});

const keyColumns = (key: CustomerKey) => ({ owner_id: key.ownerId, stripe_account: key.stripeAccount, external_ref: key.customerRef });

export async function findCustomer(db: Knex | Knex.Transaction, key: CustomerKey, options: { forUpdate?: boolean } = {}): Promise<Customer | undefined> {
  const query = db<CustomerRow>('customers').where(keyColumns(key)).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toCustomer(row) : undefined;
}

/**
 * Records the customer mapping unless one exists; returns the mapping that won, so two parallel
 * first requests agree on one Stripe customer.
 */
export async function insertCustomerIfAbsent(db: Knex, customer: Omit<Customer, 'id'>): Promise<Customer> {
  const inserted = await db('customers')
    .insert({ ...keyColumns(customer), stripe_customer_id: customer.stripeCustomerId, email: customer.email })
    .onConflict(['owner_id', 'stripe_account', 'external_ref'])
    .ignore()
    .returning('*');
  if (inserted.length > 0) return toCustomer(inserted[0] as CustomerRow);
  const stored = await findCustomer(db, customer);
  if (!stored) throw new Error(`customer ${customer.ownerId}/${customer.customerRef} vanished after insert`);
  return stored;
}

/** Points the mapping at a new Stripe customer, only if it still names `previous`; the mapping that holds afterwards is returned. */
export async function replaceStripeCustomer(trx: Knex.Transaction, customer: Customer, previous: string, next: string): Promise<Customer> {
  await trx('customers').where({ id: customer.id, stripe_customer_id: previous }).update({ stripe_customer_id: next });
  const stored = await findCustomer(trx, customer);
  if (!stored) throw new Error(`customer ${customer.ownerId}/${customer.customerRef} vanished while replaced`);
  return stored;
}
