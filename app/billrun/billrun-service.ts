import type { CheckoutSession, StripeDoor } from '../stripe';
import { isUniqueViolation } from '../db';
import { AppError, isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import {
  cancelCardSetup as cancelCoreCardSetup,
  checkoutSide,
  confirmCardSetup as confirmCoreCardSetup,
  replaceGoneCustomer,
  type CustomerDetails,
  readCardSetupByAttachedRow,
  setupIntentSide,
  startCardSetup as startCoreCardSetup,
  type CardSetup,
  type CustomerKey,
  type SavedCard,
  type SetupOutcome,
} from '../payments';
import { findHandshake, handshakeAttachment, handshakeLookup, handshakeOfRow, type Handshake, type HandshakeFlow } from './billrun-handshakes';
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

/** BillRun's names on the session and its SetupIntent (the core adds its card setup id). */
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

/** A BillRun account's details for its Stripe customer. */
function customerDetails(aid: number, customer: CardSetupRequest['customer']): CustomerDetails {
  const name = [customer.firstName, customer.lastName].filter((p) => p && p.trim()).join(' ') || undefined;
  return { email: customer.email, name, metadata: { billrun_aid: String(aid) } };
}

/**
 * getRequest: the core starts a card setup for the account (its Stripe customer made the first
 * time) with BillRun's handshake naming it, recorded with the setup in one statement once its
 * Stripe side exists: a setup-mode Checkout session (or a SetupIntent + ephemeral key for the
 * custom flow). Stripe calls: customer (first time only) + session. Database: two statements.
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
    if (current.accountId === door.accountId) {
      // The same account: the account's customer may have been deleted there (in the Dashboard).
      const replaced = await replaceGoneCustomer(deps, door, billrunCustomer(request.aid, door), customerDetails(request.aid, request.customer));
      if (!replaced) throw err;
      return startCardSetupIn(deps, door, request);
    }
    deps.logger.warn(
      { aid: request.aid, from: door.stripeAccountId, to: current.stripeAccountId },
      'the Stripe account changed: the account gets a customer in the new one',
    );
    return startCardSetupIn(deps, current, request);
  }
}

async function startCardSetupIn(deps: Deps, door: StripeDoor, request: CardSetupRequest): Promise<CardSetupStart> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startWithTxId(deps, door, request, newTxId());
    } catch (err) {
      // 10^19 ids make a collision near impossible; try up to three times rather than fail a customer.
      if (attempt >= 2 || !isUniqueViolation(err)) throw err;
    }
  }
}

async function startWithTxId(deps: Deps, door: StripeDoor, request: CardSetupRequest, txId: string): Promise<CardSetupStart> {
  const returnUrl = request.returnUrl ?? deps.config.billrun.defaultReturnUrl;
  const start = {
    key: billrunCustomer(request.aid, door),
    details: customerDetails(request.aid, request.customer),
    attach: (createdAt: Date) =>
      handshakeAttachment({
        txId,
        instanceName: request.instanceName,
        flow: request.flow,
        requestT: request.requestT,
        okPage: request.okPage ?? null,
        failPage: request.failPage ?? null,
        returnUrl,
        browserBinding: request.browserBinding ?? null,
        createdAt,
      }),
  };
  const metadata = setupMetadata(txId, request.aid);
  const started = (setup: CardSetup) => deps.logger.info({ txId, aid: request.aid, flow: request.flow, cardSetupId: setup.id }, 'handshake started');

  if (request.flow === 'custom') {
    const { setup, answer } = await startCoreCardSetup(deps, door, { ...start, open: setupIntentSide(deps, { metadata }) });
    started(setup);
    return { kind: 'custom', txId, ...answer, customerId: setup.customerId, okPage: withQueryParam(request.okPage as string, 'txId', txId) };
  }

  const base = deps.config.publicBaseUrl;
  const name = encodeURIComponent(request.instanceName);
  const successUrl =
    request.flow === 'iframe' ? withQueryParam(request.okPage as string, 'txId', txId) : `${base}/paymentgateways/OkPage?name=${name}&txId=${txId}`;
  const cancelUrl =
    request.flow === 'iframe' ? withQueryParam(request.failPage as string, 'txId', txId) : `${base}/paymentgateways/failPage?name=${name}&txId=${txId}`;
  const { setup, answer: session } = await startCoreCardSetup(deps, door, {
    ...start,
    open: checkoutSide({ successUrl, cancelUrl, clientReferenceId: txId, metadata, expandSetupIntent: request.requestParameters }),
  });
  started(setup);
  return { kind: 'checkout', txId, url: session.url as string, session };
}

export interface HandshakeLookup {
  txId: string;
  /** The `name` the caller sent, when it sent one. */
  name?: string;
  /** Hash of the caller's browser session, when it has one. */
  browserBinding?: string;
}

/** Finds the handshake and its card setup (one read), and checks the caller may act on it. */
async function loadHandshake(deps: Deps, lookup: HandshakeLookup): Promise<{ handshake: Handshake; setup: CardSetup }> {
  const found = await readCardSetupByAttachedRow(deps, BILLRUN_OWNER, handshakeLookup(lookup.txId));
  if (!found) throw new AppError('not_found', MESSAGES.unknownTx);
  const handshake = handshakeOfRow(found.row);
  if (lookup.name !== undefined && lookup.name !== handshake.instanceName) throw new AppError('forbidden', MESSAGES.otherGateway);
  // A redirect-flow txId travels in the customer's address bar; only that browser may use it.
  if (handshake.flow === 'redirect' && (!lookup.browserBinding || lookup.browserBinding !== handshake.browserBinding)) {
    throw new AppError('forbidden', MESSAGES.otherBrowser);
  }
  return { handshake, setup: found.setup };
}

/** A core answer about the card setup; one that is not BillRun's (it cannot be) is an unknown transaction. */
async function ofBillrun<T>(act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (isAppError(err) && err.kind === 'not_found') throw new AppError('not_found', MESSAGES.unknownTx);
    throw err;
  }
}

export interface ConfirmedCard {
  card: SavedCard;
  handshake: Handshake;
}

/** Raises the error a client sees for every outcome but a saved card. */
function requireCompleted(outcome: SetupOutcome): SavedCard {
  switch (outcome.kind) {
    case 'completed':
      return outcome.card;
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
 * PaymentMethod expanded) proves the card was saved for this customer, then the core's apply path
 * records it once. A repeated OkPage answers from our rows without calling Stripe.
 */
export async function confirmCardSetup(deps: Deps, lookup: HandshakeLookup): Promise<ConfirmedCard> {
  const { handshake, setup } = await loadHandshake(deps, lookup);
  const outcome = await ofBillrun(() => confirmCoreCardSetup(deps, BILLRUN_OWNER, handshake.cardSetupId, setup));
  return { card: requireCompleted(outcome), handshake };
}

/** failPage: the customer left Checkout. The session is expired so it cannot complete later. */
export async function cancelCardSetup(deps: Deps, lookup: HandshakeLookup): Promise<Handshake> {
  const { handshake, setup } = await loadHandshake(deps, lookup);
  const outcome = await ofBillrun(() => cancelCoreCardSetup(deps, BILLRUN_OWNER, handshake.cardSetupId, 'cancelled by the customer', setup));
  if (outcome.kind === 'completed') throw new AppError('conflict', MESSAGES.alreadyCompleted);
  return handshake;
}

/** Where a redirect-mode answer sends the customer for this txId, when it is known. */
export async function returnUrlFor(deps: Deps, txId: string): Promise<string> {
  const handshake = await findHandshake(deps.db, txId);
  return handshake?.returnUrl ?? deps.config.billrun.defaultReturnUrl;
}
