import { createMappedCustomer, saveCardOffSession, type Customer, type CustomerDetails, type CustomerKey } from '../payments';
import type { PaymentMethod, StripeDoor } from '../stripe';
import { AppError, isAppError } from '../shared/app-error';
import type { HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { validationFailed } from './hub-http';
import { newTokenId } from './hub-ids';
import { insertToken, type Token, type TokenStatus } from './token-repository';
import type { Vendor } from './vendor-repository';

/**
 * A card as the merchant sends it: raw data (only to vendors allowed to receive it, and in the
 * sandbox) or the id of a PaymentMethod made in the browser with Stripe.js. Raw data lives only
 * for the request: it goes to Stripe and nowhere else.
 */
export type CardInput =
  | { kind: 'raw'; number: string; expMonth: number; expYear: number; cvc?: string; name?: string; email?: string; phone?: string }
  | { kind: 'payment_method'; id: string };

export interface CustomerInput {
  email?: string;
  name?: string;
  phone?: string;
  preferredLocales?: string[];
}

/** Where Stripe's complaint about card data points, as the seed's field names. */
const CARD_FIELDS = new Map([
  ['number', 'credit_card.account_number'],
  ['exp_month', 'credit_card.exp_month'],
  ['exp_year', 'credit_card.exp_year'],
  ['cvc', 'credit_card.cvn'],
]);

/** Raw card data only where PCI allows it: a vendor flagged for it, or the sandbox. */
export function checkRawCardAllowed(hub: Hub, vendor: Vendor): void {
  if (vendor.allowRawCardData || vendor.sandbox || hub.sandbox) return;
  throw validationFailed([
    {
      field: 'credit_card',
      message:
        'This payment vendor does not accept raw card data (Stripe allows it only to accounts approved for PCI DSS SAQ D): create a PaymentMethod in the browser with Stripe.js and send its id as payment_method instead',
    },
  ]);
}

/** The Stripe PaymentMethod for the card: made from raw data, or the vendor's own by id. */
export async function paymentMethodFor(door: StripeDoor, card: CardInput, tokenId: string): Promise<PaymentMethod> {
  if (card.kind === 'payment_method') {
    try {
      const pm = await door.gateway.retrievePaymentMethod(card.id);
      if (pm.type !== 'card' || !pm.card) throw validationFailed([{ field: 'payment_method', message: 'is not a card' }]);
      return pm;
    } catch (err) {
      if (isAppError(err) && err.kind === 'not_found')
        throw validationFailed([{ field: 'payment_method', message: "is not a PaymentMethod of this vendor's Stripe account" }]);
      throw err;
    }
  }
  try {
    return await door.gateway.createCardPaymentMethod(
      { number: card.number, expMonth: card.expMonth, expYear: card.expYear, cvc: card.cvc, name: card.name, email: card.email, phone: card.phone },
      `hub-token-${tokenId}-pm`,
    );
  } catch (err) {
    if (isAppError(err) && err.kind === 'invalid_input') {
      const field = CARD_FIELDS.get(String(err.details?.field)) ?? 'credit_card';
      throw validationFailed([{ field, message: err.message }]);
    }
    throw err;
  }
}

/**
 * Each token is a customer of its own in the vendor's Stripe account (its reference is the token
 * id): a new token id has no mapping yet, so none is looked for.
 */
const tokenCustomerKey = (caller: HubCaller, door: StripeDoor, tokenId: string): CustomerKey => ({
  ownerId: caller.ownerId,
  stripeAccount: door.accountId,
  customerRef: tokenId,
});

const tokenCustomerDetails = (caller: HubCaller, tokenId: string, customer: CustomerInput): CustomerDetails => ({
  email: customer.email,
  name: customer.name,
  phone: customer.phone,
  preferredLocales: customer.preferredLocales,
  metadata: { hub_token: tokenId, hub_merchant: caller.ownerId },
});

/** The token's Stripe customer, made and mapped (for a token whose card is saved later). */
export async function tokenCustomer(hub: Hub, caller: HubCaller, door: StripeDoor, tokenId: string, customer: CustomerInput): Promise<Customer> {
  return createMappedCustomer(hub.deps, door, tokenCustomerKey(caller, door, tokenId), tokenCustomerDetails(caller, tokenId, customer));
}

const cardFields = (pm: PaymentMethod) => ({
  brand: pm.card?.brand ?? null,
  last4: pm.card?.last4 ?? null,
  expMonth: pm.card?.exp_month ?? null,
  expYear: pm.card?.exp_year ?? null,
});

/**
 * Tokenize: the card is saved on the token's customer and verified with Stripe (a SetupIntent
 * confirmed off-session). Verified: chargeable again and again; declined: failed; Radar's block: fraud.
 */
export async function tokenizeCard(hub: Hub, caller: HubCaller, vendor: Vendor, card: CardInput, customer: CustomerInput): Promise<Token> {
  if (card.kind === 'raw') checkRawCardAllowed(hub, vendor);
  const door = await hub.vendorDoors.doorFor(vendor);
  const tokenId = newTokenId();
  let pm: PaymentMethod;
  let status: TokenStatus;
  let failure: { code: string; message: string } | null = null;
  try {
    pm = await paymentMethodFor(door, card, tokenId);
  } catch (err) {
    // A card Stripe declines outright (before any setup) is a failed token, like a declined setup.
    if (!isAppError(err) || err.kind !== 'payment_failed') throw err;
    return insertToken(hub.deps.db, {
      ...emptyToken(tokenId, caller, vendor, door, hub.deps.clock.now()),
      status: err.code === 'fraudulent' ? 'fraud' : 'failed',
      failureCode: err.code ?? 'card_declined',
      failureMessage: err.message,
    });
  }
  // The token's Stripe customer is made with the card's setup, and mapped in the setup's statement.
  const saved = await saveCardOffSession(hub.deps, door, tokenCustomerKey(caller, door, tokenId), tokenCustomerDetails(caller, tokenId, customer), pm.id);
  switch (saved.outcome.kind) {
    case 'completed':
      status = 'verified';
      break;
    case 'failed':
      status = saved.declineCode === 'fraudulent' ? 'fraud' : 'failed';
      failure = {
        code: saved.declineCode ?? 'card_declined',
        message: saved.needsAuthentication ? `${saved.outcome.reason}: tokenize it with /api/v1/transactions/token/3ds` : saved.outcome.reason,
      };
      break;
    case 'pending':
    case 'expired':
    case 'cancelled':
      throw new AppError('upstream_failed', 'Stripe did not finish verifying the card; try again');
  }
  const token = await insertToken(hub.deps.db, {
    ...emptyToken(tokenId, caller, vendor, door, hub.deps.clock.now()),
    customerRef: tokenId,
    ...cardFields(pm),
    status,
    failureCode: failure?.code ?? null,
    failureMessage: failure?.message ?? null,
  });
  hub.deps.logger.info(
    { merchantId: caller.ownerId, vendorId: vendor.id, tokenId, status, last4: token.last4, declineCode: failure?.code },
    'hub card tokenized',
  );
  return token;
}

function emptyToken(id: string, caller: HubCaller, vendor: Vendor, door: StripeDoor, now: Date): Token {
  return {
    id,
    ownerId: caller.ownerId,
    vendorId: vendor.id,
    stripeAccount: door.accountId,
    kind: 'card',
    status: 'failed',
    customerRef: null,
    paymentIntentId: null,
    amount: null,
    currency: null,
    returnUrl: null,
    webhookUrl: null,
    brand: null,
    last4: null,
    expMonth: null,
    expYear: null,
    failureCode: null,
    failureMessage: null,
    createdAt: now,
    updatedAt: now,
  };
}
