import { createHash } from 'node:crypto';
import type { StripeDoor } from '../stripe';
import { inTransaction } from '../db';
import type { Deps } from '../shared/deps';
import { deactivateCardsOfStripeCustomer } from './card-repository';
import type { CustomerKey } from './customer-key';
import { findCustomer, insertCustomerIfAbsent, replaceStripeCustomer, type Customer } from './customer-repository';

export interface CustomerDetails {
  email?: string;
  name?: string;
  phone?: string;
  /** Stripe locales for its e-mails and receipts (`en-GB`, `id`, ...). */
  preferredLocales?: string[];
  /** Set on the Stripe customer as given (the owner's own names for it). */
  metadata: Record<string, string>;
}

/** Stripe caps idempotency keys at 255 characters: a long reference is hashed into the key. */
const keyPart = (text: string): string => (text.length <= 64 ? text : createHash('sha256').update(text).digest('hex'));

const fingerprintOf = (details: CustomerDetails): string =>
  createHash('sha256')
    .update(JSON.stringify([details.email ?? '', details.name ?? '']))
    .digest('hex')
    .slice(0, 16);

/**
 * The Stripe customer for a customer with no mapping yet, made at Stripe once: the same key and
 * details give the same idempotency key, so parallel first requests and retries get one.
 */
export async function createStripeCustomer(door: StripeDoor, key: CustomerKey, details: CustomerDetails): Promise<string> {
  const created = await door.gateway.createCustomer(
    { metadata: details.metadata, email: details.email, name: details.name, phone: details.phone, preferredLocales: details.preferredLocales },
    `${keyPart(key.ownerId)}-customer-${keyPart(key.customerRef)}-${fingerprintOf(details)}`,
  );
  return created.id;
}

/** A parallel request mapped the customer to another Stripe customer first: ours stays unused. */
export function warnUnusedStripeCustomer(deps: Pick<Deps, 'logger'>, key: CustomerKey, kept: string, orphan: string): void {
  deps.logger.warn(
    { ownerId: key.ownerId, customerRef: key.customerRef, kept, orphan },
    'a parallel request mapped the customer first; extra Stripe customer left unused',
  );
}

/**
 * The Stripe customer of a customer known to have no mapping yet, made at Stripe once and mapped;
 * a parallel request that mapped its own first wins (ours stays unused, and is logged).
 */
export async function createMappedCustomer(deps: Pick<Deps, 'db' | 'logger'>, door: StripeDoor, key: CustomerKey, details: CustomerDetails): Promise<Customer> {
  const created = await createStripeCustomer(door, key, details);
  const stored = await insertCustomerIfAbsent(deps.db, { ...key, stripeCustomerId: created, email: details.email ?? null });
  if (stored.stripeCustomerId !== created) warnUnusedStripeCustomer(deps, key, stored.stripeCustomerId, created);
  return stored;
}

/**
 * When the customer's Stripe customer is gone from its account (deleted in the Dashboard), a new
 * one takes its place and the cards saved for the old one stop being active (Stripe detached
 * them). Returns the new mapping, or undefined when the Stripe customer is still there.
 */
export async function replaceGoneCustomer(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  door: StripeDoor,
  key: CustomerKey,
  details: CustomerDetails,
): Promise<Customer | undefined> {
  const known = await findCustomer(deps.db, key);
  if (!known || (await door.gateway.customerState(known.stripeCustomerId)) === 'live') return undefined;
  const created = await door.gateway.createCustomer(
    { metadata: details.metadata, email: details.email, name: details.name, phone: details.phone, preferredLocales: details.preferredLocales },
    `${keyPart(key.ownerId)}-customer-${keyPart(key.customerRef)}-replaces-${known.stripeCustomerId}`,
  );
  const replaced = await inTransaction(deps.db, async (trx) => {
    const stored = await replaceStripeCustomer(trx, known, known.stripeCustomerId, created.id);
    if (stored.stripeCustomerId === created.id) await deactivateCardsOfStripeCustomer(trx, key, known.stripeCustomerId, deps.clock.now());
    return stored;
  });
  deps.logger.warn(
    { ownerId: key.ownerId, customerRef: key.customerRef, gone: known.stripeCustomerId, now: replaced.stripeCustomerId },
    'the Stripe customer was deleted at Stripe; a new one replaces it',
  );
  return replaced;
}

/** The languages Stripe uses for the customer's e-mails and receipts (`en-GB`, `ja`, ...). */
export async function setCustomerLanguages(deps: Pick<Deps, 'db' | 'stripeAccounts'>, key: CustomerKey, preferredLocales: string[]): Promise<void> {
  const customer = await findCustomer(deps.db, key);
  if (!customer) return;
  const { gateway } = await deps.stripeAccounts.forAccount(customer.stripeAccount);
  await gateway.setCustomerLocales(
    customer.stripeCustomerId,
    preferredLocales,
    `${keyPart(key.ownerId)}-customer-${keyPart(key.customerRef)}-locales-${preferredLocales.join('.')}`,
  );
}
