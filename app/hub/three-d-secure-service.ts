import { authorizeWithChallenge, readAuthorization, type Money } from '../payments';
import type { ObservedAuthorization, StripeDoor } from '../stripe';
import { isAppError } from '../shared/app-error';
import type { HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { newTokenId } from './hub-ids';
import { paymentMethodFor, tokenCustomer, checkRawCardAllowed, type CardInput, type CustomerInput } from './token-service';
import { findTokenById, findTokenByPaymentIntent, insertToken, updateToken, type Token, type TokenStatus } from './token-repository';
import type { Vendor } from './vendor-repository';

/**
 * 3-D Secure tokens: an authorization (a PaymentIntent with manual capture and a requested
 * challenge) for `amount`. `review` until the customer is through the challenge, then `verified`
 * (authorized), `failed`, or `skipped` (the card has no 3-D Secure: authorized without it). A
 * charge captures it and the token is `used`; an authorization Stripe let lapse is `failed`.
 */

export interface ThreeDSecureToken {
  token: Token;
  authUrl: string | null;
}

/** What an authorization's state means for its token. */
function statusOf(observed: ObservedAuthorization): { status: TokenStatus; failure?: { code: string; message: string } } {
  switch (observed.status) {
    case 'requires_action':
    case 'processing':
      return { status: 'review' };
    case 'authorized':
      return { status: observed.threeDSecure === 'not_supported' ? 'skipped' : 'verified' };
    case 'captured':
      return { status: 'used' };
    case 'failed':
      return { status: observed.code === 'fraudulent' ? 'fraud' : 'failed', failure: { code: observed.code, message: observed.reason } };
    case 'canceled':
      return {
        status: 'failed',
        failure: {
          code: observed.reason ?? 'canceled',
          message: observed.reason === 'automatic' ? 'The authorization lapsed' : 'The authorization was canceled',
        },
      };
  }
}

/** The service's own page the customer comes back to from the challenge. */
export const threeDSecureReturnUrl = (hub: Hub, tokenId: string): string => `${hub.deps.config.publicBaseUrl}/api/v1/transactions/token/3ds/return/${tokenId}`;

export async function tokenizeWithThreeDSecure(
  hub: Hub,
  caller: HubCaller,
  vendor: Vendor,
  card: CardInput,
  customer: CustomerInput,
  request: { amount: Money; returnUrl: string; webhookUrl?: string | null },
): Promise<ThreeDSecureToken> {
  if (card.kind === 'raw') checkRawCardAllowed(hub, vendor);
  const door: StripeDoor = await hub.vendorDoors.doorFor(vendor);
  const tokenId = newTokenId();
  const stripeCustomer = await tokenCustomer(hub, caller, door, tokenId, customer);
  const now = hub.deps.clock.now();
  const base = {
    id: tokenId,
    ownerId: caller.ownerId,
    vendorId: vendor.id,
    stripeAccount: door.accountId,
    kind: '3ds' as const,
    customerRef: tokenId,
    paymentIntentId: null,
    amount: request.amount.minor,
    currency: request.amount.currency,
    returnUrl: request.returnUrl,
    webhookUrl: request.webhookUrl ?? null,
    createdAt: now,
  };
  let pm;
  try {
    pm = await paymentMethodFor(door, card, tokenId);
  } catch (err) {
    // A card Stripe declines outright is a failed token, as on /token.
    if (!isAppError(err) || err.kind !== 'payment_failed') throw err;
    const failed = await insertToken(hub.deps.db, {
      ...base,
      ...NO_CARD,
      status: err.code === 'fraudulent' ? 'fraud' : 'failed',
      failureCode: err.code ?? 'card_declined',
      failureMessage: err.message,
    });
    return { token: failed, authUrl: null };
  }
  // The row comes first: money is held only for a token we know, so a crash leaves a token to look at, not a stray hold.
  const card4 = { brand: pm.card?.brand ?? null, last4: pm.card?.last4 ?? null, expMonth: pm.card?.exp_month ?? null, expYear: pm.card?.exp_year ?? null };
  const pending = await insertToken(hub.deps.db, { ...base, ...card4, status: 'review', failureCode: null, failureMessage: null });
  let authorization;
  try {
    authorization = await authorizeWithChallenge(hub.deps, {
      customer: stripeCustomer,
      paymentMethodId: pm.id,
      amount: request.amount,
      returnUrl: threeDSecureReturnUrl(hub, tokenId),
      reference: `hub-token-${tokenId}`,
      metadata: { hub_token: tokenId, hub_merchant: caller.ownerId },
    });
  } catch (err) {
    const failure = isAppError(err) && err.kind === 'payment_failed';
    if (failure) {
      await updateToken(
        hub.deps.db,
        tokenId,
        ['review'],
        { status: err.code === 'fraudulent' ? 'fraud' : 'failed', failureCode: err.code ?? 'card_declined', failureMessage: err.message },
        hub.deps.clock.now(),
      );
      return { token: (await findTokenById(hub.deps.db, tokenId)) as Token, authUrl: null };
    }
    await updateToken(
      hub.deps.db,
      tokenId,
      ['review'],
      { status: 'failed', failureCode: 'not_authorized', failureMessage: 'The authorization could not be made' },
      hub.deps.clock.now(),
    );
    throw err;
  }
  const { paymentIntentId, observed } = authorization;
  const { status, failure } = statusOf(observed);
  await updateToken(
    hub.deps.db,
    tokenId,
    ['review'],
    { status, paymentIntentId, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null },
    hub.deps.clock.now(),
  );
  const token: Token = { ...pending, status, paymentIntentId, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null };
  hub.deps.logger.info({ merchantId: caller.ownerId, vendorId: vendor.id, tokenId, status, paymentIntentId }, 'hub 3-D Secure token created');
  return { token, authUrl: observed.status === 'requires_action' ? observed.authUrl : null };
}

const NO_CARD = { brand: null, last4: null, expMonth: null, expYear: null };

/** Which token states may follow which: used and failed are final; an authorization can still lapse. */
const MAY_MOVE_FROM = new Map<TokenStatus, readonly TokenStatus[]>([
  ['review', []],
  ['verified', ['review']],
  ['skipped', ['review']],
  ['failed', ['review', 'verified', 'skipped']],
  ['fraud', ['review']],
  ['used', ['review', 'verified', 'skipped']],
]);

/** Reads the token's authorization from Stripe and moves the token to what it says. */
export async function refreshThreeDSecureToken(hub: Hub, token: Token): Promise<Token> {
  if (token.kind !== '3ds' || !token.paymentIntentId) return token;
  const observed = await readAuthorization(hub.deps, token.stripeAccount, token.paymentIntentId);
  const { status, failure } = statusOf(observed);
  if (status === token.status) return token;
  const moved = await updateToken(
    hub.deps.db,
    token.id,
    MAY_MOVE_FROM.get(status) ?? [],
    { status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null },
    hub.deps.clock.now(),
  );
  // Someone else (a webhook, the customer's return) moved it first: what it is now is the answer.
  if (!moved) return (await findTokenById(hub.deps.db, token.id)) ?? token;
  hub.deps.logger.info({ tokenId: token.id, from: token.status, to: status }, 'hub 3-D Secure token moved');
  return { ...token, status, failureCode: failure?.code ?? null, failureMessage: failure?.message ?? null };
}

/** Back from the challenge: the token as Stripe says now, and where the customer goes next. */
export async function returnFromChallenge(hub: Hub, tokenId: string): Promise<{ redirectTo: string } | undefined> {
  const token = await findTokenById(hub.deps.db, tokenId);
  if (!token || token.kind !== '3ds' || !token.returnUrl) return undefined;
  const now = await refreshThreeDSecureToken(hub, token);
  const url = new URL(token.returnUrl);
  url.searchParams.set('token', now.id);
  url.searchParams.set('status', now.status);
  return { redirectTo: url.toString() };
}

/** The PaymentIntent events that move 3-D Secure tokens. */
export const THREE_D_SECURE_EVENTS: readonly string[] = [
  'payment_intent.amount_capturable_updated',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
];
const PAYMENT_INTENT_EVENTS = new Set(THREE_D_SECURE_EVENTS);

/** Webhooks move 3-D Secure tokens on their own: the customer's browser may never come back. */
export function hubStripeEventObserver(hub: Hub) {
  return async (stripeAccount: number, type: string, object: { id: string }): Promise<string | undefined> => {
    if (!PAYMENT_INTENT_EVENTS.has(type)) return undefined;
    const token = await findTokenByPaymentIntent(hub.deps.db, stripeAccount, object.id);
    if (!token) return undefined;
    const now = await refreshThreeDSecureToken(hub, token);
    return `hub token ${token.id}: ${now.status}`;
  };
}
