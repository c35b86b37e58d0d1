/**
 * Whose customer, in which Stripe account: every payments row carries these three, and every
 * lookup by a caller's id takes them, so no query can return another owner's row.
 */
export interface CustomerKey {
  /** Who the customer belongs to: an installation of a billing system, a merchant (`owners.id`). */
  ownerId: string;
  /** Our row id of the Stripe account the customer lives in (`stripe_accounts.id`). */
  stripeAccount: number;
  /** The owner's own id for its customer (an account number, a customer id), as text. */
  customerRef: string;
}

/** Just the key of a row that carries one (a card setup, a card). */
export const customerKey = (k: CustomerKey): CustomerKey => ({ ownerId: k.ownerId, stripeAccount: k.stripeAccount, customerRef: k.customerRef });

/** The key as the columns of the cards, card_setups and charges tables. */
export const customerColumns = (key: CustomerKey) => ({ owner_id: key.ownerId, stripe_account: key.stripeAccount, customer_ref: key.customerRef });

export const customerKeyOf = (row: { owner_id: string; stripe_account: unknown; customer_ref: string }): CustomerKey => ({
  ownerId: row.owner_id,
  stripeAccount: Number(row.stripe_account),
  customerRef: row.customer_ref,
});
