/**
 * Raw card data, as a customer types it on the hosted page or the control API gets it, or as a
 * caller sends it to `POST /v1/payment_methods`: Stripe's `card_error` codes for a bad number,
 * expiry or CVC. What comes out is the card's identity (test-card row, brand, last4,
 * fingerprint) and its expiry — never the number or the CVC.
 */
import { lookupCardNumber, type CardDecline, type CardIdentity } from './test-cards';

export const CARD_ENTRY_DECLINES = {
  invalidExpiryMonth: { code: 'invalid_expiry_month', message: "Your card's expiration month is invalid.", param: 'exp_month' },
  invalidExpiryYear: { code: 'invalid_expiry_year', message: "Your card's expiration year is invalid.", param: 'exp_year' },
  invalidCvc: { code: 'invalid_cvc', message: "Your card's security code is invalid.", param: 'cvc' },
} as const satisfies Record<string, CardDecline>;

export interface RawCard {
  number: string;
  expMonth: number;
  expYear: number;
  cvc?: string;
}

export type CardEntryCheck = { ok: true; identity: CardIdentity } | { ok: false; decline: CardDecline };

/** A month 1–12 and a card that has not expired by the emulator clock (`now`, unix seconds). */
export function checkExpiry(expMonth: number, expYear: number, now: number): CardDecline | undefined {
  if (!Number.isInteger(expMonth) || expMonth < 1 || expMonth > 12) return CARD_ENTRY_DECLINES.invalidExpiryMonth;
  const today = new Date(now * 1000);
  // A card is valid through the last day of its expiry month.
  if (!Number.isInteger(expYear) || expYear * 12 + (expMonth - 1) < today.getUTCFullYear() * 12 + today.getUTCMonth()) {
    return CARD_ENTRY_DECLINES.invalidExpiryYear;
  }
  return undefined;
}

/** Number (Luhn), expiry, then CVC (3–4 digits when given), in the order Stripe reports them. */
export function checkRawCard(card: RawCard, now: number): CardEntryCheck {
  const found = lookupCardNumber(card.number);
  if (!found.ok) return found;
  const expiry = checkExpiry(card.expMonth, card.expYear, now);
  if (expiry) return { ok: false, decline: expiry };
  if (card.cvc !== undefined && !/^\d{3,4}$/.test(card.cvc)) return { ok: false, decline: CARD_ENTRY_DECLINES.invalidCvc };
  return { ok: true, identity: found.identity };
}
