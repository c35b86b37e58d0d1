import { createHash } from 'node:crypto';
import type { CheckoutSession, ObservedSetup, StripeDoor } from '../stripe';
import { isUniqueViolation } from '../db';
import { AppError, isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import {
  applyCardSetupState,
  findCustomer,
  findHandshake,
  finishHandshake,
  insertCustomerIfAbsent,
  insertHandshake,
  markHandshakeOpen,
  observeHandshake,
  settledOutcome,
  type Customer,
  type CustomerKey,
  type Handshake,
  type HandshakeFlow,
  type SavedCard,
  type SetupOutcome,
} from '../payments';
import { newTxId } from './billrun-txid';
import { withQueryParam } from './billrun-wire';

export interface CardSetupRequest {
  aid: number;
  instanceName: string;
  requestT: string;
  flow: HandshakeFlow;
  /** Validated client pages (iframe and custom flows). */
  okPage?: string;
  failPage?: string;
  /** Validated tenant return URL (redirect flow), else the configured default. */
  returnUrl?: string;
  requestParameters: boolean;
  customer: { email?: string; firstName?: string; lastName?: string };
  /** Redirect flow: a hash of the browser session that asked, checked again by OkPage. */
  browserBinding?: string;
}

export type CardSetupStart =
  | { kind: 'checkout'; txId: string; url: string; session: CheckoutSession }
  | { kind: 'custom'; txId: string; setupIntentClientSecret: string; ephemeralKey: string; customerId: string; okPage: string };

/** How long a custom-flow (SetupIntent) card setup stays open: as long as a Checkout session's default. */
const CUSTOM_FLOW_LIFETIME_MS = 24 * 60 * 60_000;

/** On the session and its SetupIntent, so a setup_intent.succeeded event alone leads back to the handshake. */
const setupMetadata = (txId: string, aid: number): Record<string, string> => ({ txId, billrun_aid: String(aid) });

const MESSAGES = {
  unknownTx: 'Unknown transaction',
  otherGateway: 'The transaction belongs to another payment gateway',
  otherBrowser: 'This card setup was started in another browser',
  notFinished: 'The card setup is not completed yet',
  cancelled: 'The card setup was cancelled',
  expired: 'The card setup has expired',
  alreadyCompleted: 'The card setup is already completed',
} as const;

/** Every BillRun row belongs to this owner: the one BillRun installation the service serves. */
export const BILLRUN_OWNER = 'billrun';

/** A BillRun account as a customer of the core: the aid is BillRun's reference for it. */
export const billrunCustomer = (aid: number, door: Pick<StripeDoor, 'accountId'>): CustomerKey => ({
  ownerId: BILLRUN_OWNER,
  stripeAccount: door.accountId,
  customerRef: String(aid),
});

/** The Stripe customer for a BillRun account in this Stripe account: ours if we have it, else created once. */
async function ensureCustomer(deps: Deps, door: StripeDoor, aid: number, customer: CardSetupRequest['customer']): Promise<Customer> {
  const key = billrunCustomer(aid, door);
  const known = await findCustomer(deps.db, key);
  if (known) return known;
  const name = [customer.firstName, customer.lastName].filter((p) => p && p.trim()).join(' ') || undefined;
  // Same aid and details -> same key: parallel first requests and our own retries get one customer.
  // (Stripe keeps idempotency keys per account, so a new account makes its own customer.)
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([customer.email ?? '', name ?? '']))
    .digest('hex')
    .slice(0, 16);
  const created = await door.gateway.createCustomer(
    { metadata: { billrun_aid: String(aid) }, email: customer.email, name },
    `billrun-customer-${aid}-${fingerprint}`,
  );
  const stored = await insertCustomerIfAbsent(deps.db, { ...key, stripeCustomerId: created.id, email: customer.email ?? null });
  if (stored.stripeCustomerId !== created.id) {
    deps.logger.warn(
      { aid, kept: stored.stripeCustomerId, orphan: created.id },
      'a parallel request mapped the account first; extra Stripe customer left unused',
    );
  }
  return stored;
}

async function insertNewHandshake(deps: Deps, request: CardSetupRequest, account: Customer, returnUrl: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const txId = newTxId();
    try {
      await insertHandshake(deps.db, {
        txId,
        ownerId: account.ownerId,
        stripeAccount: account.stripeAccount,
        customerRef: account.customerRef,
        instanceName: request.instanceName,
        flow: request.flow,
        requestT: request.requestT,
        customerId: account.stripeCustomerId,
        okPage: request.okPage ?? null,
        failPage: request.failPage ?? null,
        returnUrl,
        browserBinding: request.browserBinding ?? null,
        createdAt: deps.clock.now(),
      });
      return txId;
    } catch (err) {
      // 10^19 ids make a collision near impossible; retry once rather than fail a customer.
      if (attempt >= 2 || !isUniqueViolation(err)) throw err;
    }
  }
}

/**
 * getRequest: maps the account to a Stripe customer, records the handshake, then opens a
 * setup-mode Checkout Session (or a SetupIntent + ephemeral key for the custom flow).
 * Stripe calls: customer (first time only) + session.
 */
export async function startCardSetup(deps: Deps, request: CardSetupRequest): Promise<CardSetupStart> {
  const door = await deps.stripeAccounts.defaultAccount();
  try {
    return await startCardSetupIn(deps, door, request);
  } catch (err) {
    // "No such customer": the key may now act on another Stripe account (swapped key, reset
    // emulator). Ask Stripe again; in a new account the aid gets a new customer there.
    if (!isAppError(err) || err.kind !== 'not_found') throw err;
    const current = await deps.stripeAccounts.refreshDefault();
    if (current.accountId === door.accountId) throw err;
    deps.logger.warn(
      { aid: request.aid, from: door.stripeAccountId, to: current.stripeAccountId },
      'the Stripe account changed: the account gets a customer in the new one',
    );
    return startCardSetupIn(deps, current, request);
  }
}

async function startCardSetupIn(deps: Deps, door: StripeDoor, request: CardSetupRequest): Promise<CardSetupStart> {
  const account = await ensureCustomer(deps, door, request.aid, request.customer);
  const returnUrl = request.returnUrl ?? deps.config.billrun.defaultReturnUrl;
  const txId = await insertNewHandshake(deps, request, account, returnUrl);
  const log = deps.logger.child({ txId, aid: request.aid, flow: request.flow });

  try {
    if (request.flow === 'custom') {
      const okPage = withQueryParam(request.okPage as string, 'txId', txId);
      const si = await door.gateway.createSetupIntent(
        { customerId: account.stripeCustomerId, metadata: setupMetadata(txId, request.aid) },
        `billrun-setupintent-${txId}`,
      );
      const key = await door.gateway.createEphemeralKey(account.stripeCustomerId, `billrun-ephemeralkey-${txId}`);
      // A SetupIntent never expires at Stripe: the handshake gets a Checkout session's lifetime so an
      // abandoned one is closed (and no longer read) instead of waiting forever; a late success still
      // arrives by webhook and overrules the local expiry.
      const now = deps.clock.now();
      await markHandshakeOpen(deps.db, txId, { setupIntentId: si.id }, new Date(now.getTime() + CUSTOM_FLOW_LIFETIME_MS), now);
      log.info({ setupIntentId: si.id }, 'card setup started (custom flow)');
      return {
        kind: 'custom',
        txId,
        setupIntentClientSecret: si.client_secret as string,
        ephemeralKey: key.secret,
        customerId: account.stripeCustomerId,
        okPage,
      };
    }

    const base = deps.config.publicBaseUrl;
    const name = encodeURIComponent(request.instanceName);
    const successUrl =
      request.flow === 'iframe' ? withQueryParam(request.okPage as string, 'txId', txId) : `${base}/paymentgateways/OkPage?name=${name}&txId=${txId}`;
    const cancelUrl =
      request.flow === 'iframe' ? withQueryParam(request.failPage as string, 'txId', txId) : `${base}/paymentgateways/failPage?name=${name}&txId=${txId}`;
    const session = await door.gateway.createSetupCheckoutSession(
      {
        customerId: account.stripeCustomerId,
        successUrl,
        cancelUrl,
        clientReferenceId: txId,
        metadata: setupMetadata(txId, request.aid),
        expandSetupIntent: request.requestParameters,
      },
      `billrun-checkout-${txId}`,
    );
    if (!session.url) throw new AppError('upstream_failed', 'Stripe returned a session without a URL');
    await markHandshakeOpen(deps.db, txId, { checkoutSessionId: session.id }, new Date(session.expires_at * 1000), deps.clock.now());
    log.info({ checkoutSessionId: session.id }, 'card setup started');
    return { kind: 'checkout', txId, url: session.url, session };
  } catch (err) {
    await finishHandshake(deps.db, txId, 'failed', deps.clock.now(), err instanceof Error ? err.message : 'failed');
    throw err;
  }
}

/** A handshake of BillRun's: card setups of other owners (Payment Hub merchants) are unknown here. */
async function findBillrunHandshake(deps: Deps, txId: string): Promise<Handshake | undefined> {
  const handshake = await findHandshake(deps.db, txId);
  return handshake?.ownerId === BILLRUN_OWNER ? handshake : undefined;
}

export interface HandshakeLookup {
  txId: string;
  /** The `name` the caller sent, when it sent one. */
  name?: string;
  /** Hash of the caller's browser session, when it has one. */
  browserBinding?: string;
}

/** Finds the handshake and checks the caller may act on it. */
async function loadHandshake(deps: Deps, lookup: HandshakeLookup): Promise<Handshake> {
  const handshake = await findBillrunHandshake(deps, lookup.txId);
  if (!handshake) throw new AppError('not_found', MESSAGES.unknownTx);
  if (lookup.name !== undefined && lookup.name !== handshake.instanceName) throw new AppError('forbidden', MESSAGES.otherGateway);
  // A redirect-flow txId travels in the customer's address bar; only that browser may use it.
  if (handshake.flow === 'redirect' && (!lookup.browserBinding || lookup.browserBinding !== handshake.browserBinding)) {
    throw new AppError('forbidden', MESSAGES.otherBrowser);
  }
  return handshake;
}

async function observe(deps: Deps, handshake: Handshake): Promise<ObservedSetup> {
  return (await observeHandshake(deps, handshake)) ?? { status: 'open' };
}

export interface ConfirmedCard {
  card: SavedCard;
  handshake: Handshake;
}

/** Raises the error a client sees for every outcome but a saved card. */
function requireCompleted(outcome: SetupOutcome): ConfirmedCard {
  switch (outcome.kind) {
    case 'completed':
      return { card: outcome.card, handshake: outcome.handshake };
    case 'pending':
      throw new AppError('conflict', MESSAGES.notFinished);
    case 'cancelled':
      throw new AppError('conflict', MESSAGES.cancelled);
    case 'expired':
      throw new AppError('conflict', MESSAGES.expired);
    case 'failed':
      throw new AppError('payment_failed', outcome.reason);
  }
}

/**
 * OkPage, the three-sided handshake: one Stripe call (the session with SetupIntent and
 * PaymentMethod expanded) proves the card was saved for this customer, then the shared apply path
 * records it once. A repeated OkPage answers from our rows without calling Stripe.
 */
export async function confirmCardSetup(deps: Deps, lookup: HandshakeLookup): Promise<ConfirmedCard> {
  const handshake = await loadHandshake(deps, lookup);
  const settled = await settledOutcome(deps, handshake);
  if (settled) return requireCompleted(settled);
  if (handshake.state === 'creating') throw new AppError('conflict', MESSAGES.notFinished);

  return requireCompleted(await applyCardSetupState(deps, handshake.txId, await observe(deps, handshake)));
}

/** failPage: the customer left Checkout. Expire the session so it cannot complete later. */
export async function cancelCardSetup(deps: Deps, lookup: HandshakeLookup): Promise<Handshake> {
  const handshake = await loadHandshake(deps, lookup);
  const settled = await settledOutcome(deps, handshake);
  if (settled?.kind === 'completed') throw new AppError('conflict', MESSAGES.alreadyCompleted);
  if (settled) return handshake;

  if (handshake.checkoutSessionId || handshake.setupIntentId) {
    try {
      // Close the Stripe side first so the card cannot be saved after we call it cancelled.
      const { gateway } = await deps.stripeAccounts.forAccount(handshake.stripeAccount);
      if (handshake.checkoutSessionId) await gateway.expireCheckoutSession(handshake.checkoutSessionId, `billrun-expire-${handshake.txId}`);
      else await gateway.cancelSetupIntent(handshake.setupIntentId as string, `billrun-cancel-${handshake.txId}`);
    } catch (err) {
      // Stripe refuses to close what is no longer open: it completed or expired meanwhile.
      if (!(err instanceof AppError) || err.details?.stripeStatus !== 400) throw err;
      const outcome = await applyCardSetupState(deps, handshake.txId, await observe(deps, handshake));
      if (outcome.kind === 'completed') throw new AppError('conflict', MESSAGES.alreadyCompleted);
      return outcome.handshake;
    }
  }
  await finishHandshake(deps.db, handshake.txId, 'cancelled', deps.clock.now(), 'cancelled by the customer');
  deps.logger.info({ txId: handshake.txId, aid: handshake.customerRef }, 'card setup cancelled');
  return { ...handshake, state: 'cancelled' };
}

/** Where a redirect-mode answer sends the customer for this txId, when it is known. */
export async function returnUrlFor(deps: Deps, txId: string): Promise<string> {
  const handshake = await findBillrunHandshake(deps, txId);
  return handshake?.returnUrl ?? deps.config.billrun.defaultReturnUrl;
}
