import { createHash } from 'node:crypto';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { findActiveCard } from './card-repository';
import { findChargeByPaymentIntent, findChargeByReference, insertChargeOnce, recordChargeOnActiveCard, type Channel, type Charge } from './charge-repository';
import { submitCharge } from './charge-state';
import type { CustomerKey } from './customer-key';
import type { Money } from './money';
import { nextChargeCheck } from './schedule';
import { syncCharge, syncUnfinishedCardSetups } from './stripe-sync';

export interface ChargeRequest {
  channel: Channel;
  /** The caller's id for this charge (a bill): the same reference is charged once per owner. */
  reference: string;
  /** Whose customer is charged (the owner is the customer's). */
  customer: CustomerKey;
  amount: Money;
  /** Shown at Stripe and on the receipt; part of what makes a repeated reference the same charge. */
  description?: string;
  /** Stripe e-mails its receipt here. */
  receiptEmail?: string;
}

const fingerprint = (parts: unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

/**
 * Charges the account's active card off-session, once per reference. A repeated request (same
 * reference, same content) answers the recorded charge; one still unsettled is looked up at Stripe
 * first (syncCharge), so a repeat can never create a second PaymentIntent, even after Stripe's 24 h
 * idempotency window. An account without an active card but with a card setup still open has its
 * newest setups read from Stripe first (syncUnfinishedCardSetups): the card saved a moment ago is
 * charged rather than refused while its webhook and the customer's return are still on their way.
 */
export async function chargeSavedCard(deps: Deps, request: ChargeRequest): Promise<Charge> {
  const { customer } = request;
  // A numeric reference enters the fingerprint as a number, the shape it had before owners, so earlier charges still replay.
  const print = fingerprint([
    /^[0-9]{1,15}$/.test(customer.customerRef) ? Number(customer.customerRef) : customer.customerRef,
    request.amount.minor,
    request.amount.currency,
    // Only when given, so charges made without them keep the fingerprint they had.
    ...(request.description !== undefined || request.receiptEmail !== undefined ? [request.description ?? null, request.receiptEmail ?? null] : []),
  ]);
  const now = deps.clock.now();
  const fields = {
    channel: request.channel,
    reference: request.reference,
    requestFingerprint: print,
    ownerId: customer.ownerId,
    stripeAccount: customer.stripeAccount,
    customerRef: customer.customerRef,
    amount: request.amount.minor,
    currency: request.amount.currency,
    description: request.description,
    receiptEmail: request.receiptEmail,
    nextCheckAt: nextChargeCheck('created', now),
    now,
  };
  // The usual case in one statement: the reference's charge, or a new one on the active card.
  const recorded = await recordChargeOnActiveCard(deps.db, fields);
  if (recorded) return recorded.created ? submitCharge(deps, recorded.charge) : replayCharge(deps, recorded.charge, print);

  const known = await findChargeByReference(deps.db, customer.ownerId, request.reference);
  if (known) return replayCharge(deps, known, print);

  const card = (await findActiveCard(deps.db, customer)) ?? (await syncUnfinishedCardSetups(deps, customer));
  if (!card) throw new AppError('invalid_input', 'The account has no saved card', { code: 'no_card' });
  const { charge, created } = await insertChargeOnce(deps.db, {
    ...fields,
    stripeAccount: card.stripeAccount,
    cardId: card.id,
    customerId: card.customerId,
    paymentMethodId: card.paymentMethodId,
  });
  return created ? submitCharge(deps, charge) : replayCharge(deps, charge, print);
}

async function replayCharge(deps: Deps, charge: Charge, print: string): Promise<Charge> {
  if (charge.requestFingerprint !== print) {
    throw new AppError('conflict', 'This reference was already used for a different charge', { code: 'reference_reused' });
  }
  return charge.status === 'created' ? syncCharge(deps, charge) : charge;
}

export interface CaptureRequest {
  channel: Channel;
  reference: string;
  customer: CustomerKey;
  /** The authorization (a PaymentIntent with manual capture) of this customer to capture. */
  paymentIntentId: string;
  /** At most what was authorized, in its currency. */
  amount: Money;
  description?: string;
}

/**
 * Captures an authorization once per reference: a charge of kind `capture` is recorded first,
 * then captured at Stripe (again on a replay or by the reconciler while Stripe still holds it
 * uncaptured). The amount must be the authorization's currency and at most what it holds.
 */
export async function captureAuthorization(deps: Deps, request: CaptureRequest): Promise<Charge> {
  const { customer } = request;
  const print = fingerprint(['capture', request.paymentIntentId, request.amount.minor, request.amount.currency, request.description ?? null]);
  const known = await findChargeByReference(deps.db, customer.ownerId, request.reference);
  if (known) return replayCharge(deps, known, print);

  const { gateway } = await deps.stripeAccounts.forAccount(customer.stripeAccount);
  const pi = await gateway.retrievePaymentIntent(request.paymentIntentId);
  if (pi.status !== 'requires_capture') throw new AppError('conflict', 'The authorization cannot be captured any more', { code: 'not_capturable' });
  if (pi.currency.toUpperCase() !== request.amount.currency) {
    throw new AppError('invalid_input', `The authorization is in ${pi.currency.toUpperCase()}, not ${request.amount.currency}`, { code: 'currency' });
  }
  if (request.amount.minor > pi.amount_capturable)
    throw new AppError('invalid_input', 'The amount exceeds what the authorization holds', { code: 'amount_too_large' });
  const now = deps.clock.now();
  const { charge, created } = await insertChargeOnce(deps.db, {
    kind: 'capture',
    channel: request.channel,
    reference: request.reference,
    requestFingerprint: print,
    ownerId: customer.ownerId,
    stripeAccount: customer.stripeAccount,
    customerRef: customer.customerRef,
    cardId: null,
    customerId: typeof pi.customer === 'string' ? pi.customer : (pi.customer?.id ?? ''),
    paymentMethodId: typeof pi.payment_method === 'string' ? pi.payment_method : (pi.payment_method?.id ?? ''),
    paymentIntentId: pi.id,
    amount: request.amount.minor,
    currency: request.amount.currency,
    description: request.description,
    nextCheckAt: nextChargeCheck('created', now),
    now,
  });
  return created ? submitCharge(deps, charge) : replayCharge(deps, charge, print);
}

/** An owner's charge by its PaymentIntent id or its reference; another owner's is simply not found. */
export async function readCharge(deps: Pick<Deps, 'db'>, ownerId: string, id: { paymentIntentId: string } | { reference: string }): Promise<Charge> {
  const charge =
    'reference' in id ? await findChargeByReference(deps.db, ownerId, id.reference) : await findChargeByPaymentIntent(deps.db, { ownerId }, id.paymentIntentId);
  if (!charge) throw new AppError('not_found', 'Unknown charge');
  return charge;
}
