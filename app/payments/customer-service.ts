import { createHash } from 'node:crypto';
import type { StripeDoor } from '../stripe';
import type { Deps } from '../shared/deps';
import type { CustomerKey } from './customer-key';
import { findCustomer, insertCustomerIfAbsent, type Customer } from './customer-repository';

export interface CustomerDetails {
  email?: string;
  name?: string;
  /** Set on the Stripe customer as given (the owner's own names for it). */
  metadata: Record<string, string>;
}

/** Stripe caps idempotency keys at 255 characters: a long reference is hashed into the key. */
const keyPart = (text: string): string => (text.length <= 64 ? text : createHash('sha256').update(text).digest('hex'));

/**
 * The Stripe customer of an owner's customer in this Stripe account: ours if we have it, else
 * created once. Same key and details give the same idempotency key, so parallel first requests
 * and our own retries get one Stripe customer; Stripe keeps idempotency keys per account, so a new
 * account makes its own.
 */
export async function ensureCustomer(deps: Pick<Deps, 'db' | 'logger'>, door: StripeDoor, key: CustomerKey, details: CustomerDetails): Promise<Customer> {
  const known = await findCustomer(deps.db, key);
  if (known) return known;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([details.email ?? '', details.name ?? '']))
    .digest('hex')
    .slice(0, 16);
  const created = await door.gateway.createCustomer(
    { metadata: details.metadata, email: details.email, name: details.name },
    `${keyPart(key.ownerId)}-customer-${keyPart(key.customerRef)}-${fingerprint}`,
  );
  const stored = await insertCustomerIfAbsent(deps.db, { ...key, stripeCustomerId: created.id, email: details.email ?? null });
  if (stored.stripeCustomerId !== created.id) {
    deps.logger.warn(
      { ownerId: key.ownerId, customerRef: key.customerRef, kept: stored.stripeCustomerId, orphan: created.id },
      'a parallel request mapped the customer first; extra Stripe customer left unused',
    );
  }
  return stored;
}
