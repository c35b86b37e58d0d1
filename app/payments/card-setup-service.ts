import { observeConfirmedSetup, type CheckoutSession, type StripeDoor } from '../stripe';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import {
  findAttachedRowWithCardSetup,
  findOwnedCardSetup,
  finishCardSetup,
  recordStartedCardSetup,
  reserveCardSetup,
  type AttachedRow,
  type CardSetup,
  type StartedCardSetup,
} from './card-setup-repository';
import type { CustomerKey } from './customer-key';
import { applyCardSetupState, settledOutcome, type SetupOutcome } from './card-setup-state';
import { createStripeCustomer, warnUnusedStripeCustomer, type CustomerDetails } from './customer-service';
import { observeCardSetup } from './stripe-sync';

/**
 * Saving a card at Stripe, for any owner: a card setup's Stripe side (a setup-mode Checkout
 * session, or a SetupIntent the owner's app confirms) is made, the setup recorded with it, and the
 * outcome is read back from Stripe by confirm, webhooks or the reconciler, all through the one
 * apply path (card-setup-state).
 */

/** How long a card setup without a Checkout session (a bare SetupIntent) stays open: a session's default. */
const SETUP_INTENT_LIFETIME_MS = 24 * 60 * 60_000;

/** A card setup about to be started: its id (taken already) and the Stripe customer its Stripe side is made for. */
export interface SetupToOpen {
  id: number;
  customerId: string;
}

/** What a card setup's Stripe side turned out to be: its Checkout session or SetupIntent, and when the setup ends if not completed. */
export interface StripeSide {
  checkoutSessionId?: string;
  setupIntentId?: string;
  expiresAt: Date;
}

export interface CardSetupStart<T> {
  key: CustomerKey;
  /** The details of the Stripe customer made when the customer has none in this account yet (without them: not found). */
  details?: CustomerDetails;
  /** Makes the Stripe side (its metadata and idempotency keys name `setup.id`); `answer` is handed back as it is. */
  open: (setup: SetupToOpen, door: StripeDoor) => Promise<{ side: StripeSide; answer: T }>;
  /** The owner's own row naming the setup, recorded in the same statement. */
  attach?: (createdAt: Date) => AttachedRow;
  /**
   * How many times the start is tried while the mapping moves between its two statements (a
   * parallel first request mapped another Stripe customer, or the customer was replaced): 3, or 1
   * where the Stripe side must not be made twice (a moved mapping is then a conflict).
   */
  attempts?: number;
}

const START_ATTEMPTS = 3;

/**
 * Starts a card setup in two statements around its Stripe calls: the setup's id and the customer's
 * mapped Stripe customer are read first; the Stripe customer is made if there is none, then the
 * Stripe side (`open`); then the setup, already open with its Stripe ids, the new customer's
 * mapping and the owner's row are recorded in one statement. A crash between them leaves a
 * Stripe object nobody recorded and nobody was shown (a Checkout session expires unused; a new
 * Stripe customer is found again by its idempotency key on the next try). A Stripe failure is
 * recorded as a failed setup. When the customer was mapped to another Stripe customer meanwhile,
 * nothing is recorded, and the setup starts again for that one.
 */
export async function startCardSetup<T>(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  door: StripeDoor,
  start: CardSetupStart<T>,
): Promise<{ setup: CardSetup; answer: T }> {
  const { key } = start;
  for (let attempt = 1; ; attempt++) {
    const reserved = await reserveCardSetup(deps.db, key);
    let customerId = reserved.stripeCustomerId;
    let newCustomer: StartedCardSetup['newCustomer'];
    if (customerId === null) {
      if (!start.details) throw new AppError('not_found', 'Unknown customer');
      customerId = await createStripeCustomer(door, key, start.details);
      newCustomer = { email: start.details.email ?? null };
    }
    const toRecord = { ...key, id: reserved.id, customerId, newCustomer };
    let opened: { side: StripeSide; answer: T };
    try {
      opened = await start.open({ id: reserved.id, customerId }, door);
    } catch (err) {
      await recordFailedStart(deps, toRecord, err, start.attach);
      throw err;
    }
    const createdAt = deps.clock.now();
    const recorded = await recordStartedCardSetup(deps.db, { ...toRecord, ...opened.side, state: 'open', createdAt }, start.attach?.(createdAt)).catch(
      (err: unknown) => {
        // Nothing of it was recorded: a retry with the same details gets this Stripe customer again
        // (Stripe replays the idempotency key for 24 hours); the Stripe side stays unused.
        deps.logger.warn(
          { ownerId: key.ownerId, customerRef: key.customerRef, cardSetupId: reserved.id, stripeCustomerId: customerId, err: errorText(err) },
          'a started card setup could not be recorded',
        );
        throw err;
      },
    );
    const { setup } = recorded;
    if (setup) {
      deps.logger.info({ cardSetupId: setup.id, checkoutSessionId: setup.checkoutSessionId, setupIntentId: setup.setupIntentId }, 'card setup started');
      return { setup, answer: opened.answer };
    }
    deps.logger.warn(
      { ownerId: key.ownerId, customerRef: key.customerRef, cardSetupId: reserved.id, madeFor: customerId, mapped: recorded.mapped, attempt },
      'the customer was mapped to another Stripe customer meanwhile; its Stripe side stays unused',
    );
    if (newCustomer && recorded.mapped) warnUnusedStripeCustomer(deps, key, recorded.mapped, customerId);
    if (attempt >= (start.attempts ?? START_ATTEMPTS)) throw new AppError('conflict', 'The customer changed while its card setup started; try again');
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The Stripe side could not be made: the setup is recorded failed (with the new mapping, and the owner's row). */
async function recordFailedStart(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  setup: Omit<StartedCardSetup, 'state' | 'createdAt' | 'expiresAt'>,
  err: unknown,
  attach: CardSetupStart<unknown>['attach'],
): Promise<void> {
  const createdAt = deps.clock.now();
  try {
    const recorded = await recordStartedCardSetup(
      deps.db,
      { ...setup, state: 'failed', failureReason: errorText(err), expiresAt: null, createdAt },
      attach?.(createdAt),
    );
    if (!recorded.setup)
      deps.logger.warn(
        { cardSetupId: setup.id, mapped: recorded.mapped },
        'a card setup that failed at Stripe was not recorded: the customer was mapped meanwhile',
      );
  } catch (recordErr) {
    // The Stripe failure is what the caller hears; this one is for the operator.
    deps.logger.warn({ cardSetupId: setup.id, err: errorText(recordErr) }, 'a card setup that failed at Stripe could not be recorded');
  }
}

/** Set on the Stripe objects so an event about them alone leads back to the card setup. */
const setupMetadata = (setup: SetupToOpen, owner: Record<string, string>): Record<string, string> => ({ ...owner, card_setup_id: String(setup.id) });

export interface CheckoutSetup {
  successUrl: string;
  cancelUrl: string;
  /** Stripe's `client_reference_id`; the card setup id unless the owner names its own. */
  clientReferenceId?: string;
  /** The owner's metadata for the session and its SetupIntent; `card_setup_id` is added. */
  metadata: Record<string, string>;
  /** Answer with the session's SetupIntent expanded. */
  expandSetupIntent: boolean;
}

/** A setup-mode Checkout session for a card setup: the customer enters the card on Stripe's page. */
export const checkoutSide =
  (input: CheckoutSetup) =>
  async (setup: SetupToOpen, door: StripeDoor): Promise<{ side: StripeSide; answer: CheckoutSession }> => {
    const session = await door.gateway.createSetupCheckoutSession(
      {
        customerId: setup.customerId,
        successUrl: input.successUrl,
        cancelUrl: input.cancelUrl,
        clientReferenceId: input.clientReferenceId ?? String(setup.id),
        metadata: setupMetadata(setup, input.metadata),
        expandSetupIntent: input.expandSetupIntent,
      },
      `card-setup-${setup.id}-checkout`,
    );
    if (!session.url) throw new AppError('upstream_failed', 'Stripe returned a session without a URL');
    return { side: { checkoutSessionId: session.id, expiresAt: new Date(session.expires_at * 1000) }, answer: session };
  };

export interface SetupIntentSetup {
  setupIntentClientSecret: string;
  /** For the customer's mobile SDK, scoped to the Stripe customer. */
  ephemeralKey: string;
}

/**
 * A bare SetupIntent the owner's app confirms with Stripe's SDK. A SetupIntent never expires at
 * Stripe: the setup gets a Checkout session's lifetime so an abandoned one is closed (and no
 * longer read) instead of waiting forever; a late success still arrives by webhook and overrules
 * the local expiry.
 */
export const setupIntentSide =
  (deps: Pick<Deps, 'clock'>, input: { metadata: Record<string, string> }) =>
  async (setup: SetupToOpen, door: StripeDoor): Promise<{ side: StripeSide; answer: SetupIntentSetup }> => {
    const si = await door.gateway.createSetupIntent(
      { customerId: setup.customerId, metadata: setupMetadata(setup, input.metadata) },
      `card-setup-${setup.id}-setupintent`,
    );
    if (!si.client_secret) throw new AppError('upstream_failed', 'Stripe returned a SetupIntent without a client secret');
    const key = await door.gateway.createEphemeralKey(setup.customerId, `card-setup-${setup.id}-ephemeralkey`);
    return {
      side: { setupIntentId: si.id, expiresAt: new Date(deps.clock.now().getTime() + SETUP_INTENT_LIFETIME_MS) },
      answer: { setupIntentClientSecret: si.client_secret, ephemeralKey: key.secret },
    };
  };

/** An owner's card setup by id; another owner's id is unknown. */
export async function readCardSetup(deps: Pick<Deps, 'db'>, ownerId: string, id: number): Promise<CardSetup | undefined> {
  return findOwnedCardSetup(deps.db, ownerId, id);
}

/** An owner's row naming a card setup, and the card setup, in one read (see findAttachedRowWithCardSetup). */
export async function readCardSetupByAttachedRow(
  deps: Pick<Deps, 'db'>,
  ownerId: string,
  attached: { table: string; keyColumn: string; key: string; setupIdColumn: string },
): Promise<{ row: Record<string, unknown>; setup: CardSetup } | undefined> {
  return findAttachedRowWithCardSetup(deps.db, ownerId, attached);
}

async function ownedCardSetup(deps: Pick<Deps, 'db'>, ownerId: string, id: number): Promise<CardSetup> {
  const setup = await findOwnedCardSetup(deps.db, ownerId, id);
  if (!setup) throw new AppError('not_found', 'Unknown card setup');
  return setup;
}

/**
 * The customer says it is done: one Stripe call (the session with SetupIntent and PaymentMethod
 * expanded) proves the card was saved for this customer, then the apply path records it once. A
 * setup already settled answers from our rows without calling Stripe.
 */
export async function confirmCardSetup(deps: Deps, ownerId: string, setupId: number, asRead?: CardSetup): Promise<SetupOutcome> {
  const setup = asRead?.id === setupId && asRead.ownerId === ownerId ? asRead : await ownedCardSetup(deps, ownerId, setupId);
  const settled = await settledOutcome(deps, setup);
  if (settled) return settled;
  const observed = await observeCardSetup(deps, setup);
  if (!observed) return { kind: 'pending', setup };
  return applyCardSetupState(deps, setup.id, observed, setup);
}

/**
 * The customer left without a card: closes the Stripe side first, so the card cannot be saved
 * after we call the setup cancelled. If Stripe refuses because the setup completed or expired
 * meanwhile, that outcome is recorded and returned instead.
 */
export async function cancelCardSetup(deps: Deps, ownerId: string, setupId: number, reason: string, asRead?: CardSetup): Promise<SetupOutcome> {
  const setup = asRead?.id === setupId && asRead.ownerId === ownerId ? asRead : await ownedCardSetup(deps, ownerId, setupId);
  const settled = await settledOutcome(deps, setup);
  if (settled) return settled;
  if (setup.checkoutSessionId || setup.setupIntentId) {
    try {
      const { gateway } = await deps.stripeAccounts.forAccount(setup.stripeAccount);
      if (setup.checkoutSessionId) await gateway.expireCheckoutSession(setup.checkoutSessionId, `card-setup-${setup.id}-expire`);
      else await gateway.cancelSetupIntent(setup.setupIntentId as string, `card-setup-${setup.id}-cancel`);
    } catch (err) {
      // Stripe refuses to close what is no longer open.
      if (!(err instanceof AppError) || err.details?.stripeStatus !== 400) throw err;
      const observed = (await observeCardSetup(deps, setup)) ?? { status: 'open' as const };
      return applyCardSetupState(deps, setup.id, observed, setup);
    }
  }
  await finishCardSetup(deps.db, setup.id, 'cancelled', deps.clock.now(), reason);
  deps.logger.info({ cardSetupId: setup.id, customerRef: setup.customerRef }, 'card setup cancelled');
  return { kind: 'cancelled', setup: { ...setup, state: 'cancelled' } };
}

/** A card saved without the customer on a page: the outcome, and Stripe's decline code when it failed. */
export interface OffSessionSetup {
  outcome: SetupOutcome;
  /** `card_declined`, `fraudulent` (Radar blocked it), ... */
  declineCode: string | null;
  /** The card needs the customer (3-D Secure) before it can be saved. */
  needsAuthentication: boolean;
}

/**
 * Saves a PaymentMethod the owner already holds (made from card data, or in the browser with
 * Stripe.js) on the customer and verifies it with Stripe: a SetupIntent confirmed off-session.
 * A customer with no Stripe customer in this account yet gets one made from `details`, mapped in
 * the setup's statement. A decline is an outcome (failed, with the decline code), not an error.
 */
export async function saveCardOffSession(
  deps: Deps,
  door: StripeDoor,
  key: CustomerKey,
  details: CustomerDetails,
  paymentMethodId: string,
): Promise<OffSessionSetup> {
  const { setup, answer: si } = await startCardSetup(deps, door, {
    key,
    details,
    // A confirmed SetupIntent saved the card on that Stripe customer: it is not made again on another.
    attempts: 1,
    open: async (setup) => {
      const confirmed = await door.gateway.confirmOffSessionSetup(
        { customerId: setup.customerId, paymentMethodId, metadata: setupMetadata(setup, {}) },
        `card-setup-${setup.id}-confirm`,
      );
      return { side: { setupIntentId: confirmed.id, expiresAt: new Date(deps.clock.now().getTime() + SETUP_INTENT_LIFETIME_MS) }, answer: confirmed };
    },
  });
  const observed = observeConfirmedSetup(si);
  switch (observed.status) {
    case 'succeeded':
      return {
        outcome: await applyCardSetupState(deps, setup.id, { status: 'complete', customerId: observed.customerId, card: observed.card }, setup),
        declineCode: null,
        needsAuthentication: false,
      };
    case 'failed':
      return {
        outcome: await applyCardSetupState(deps, setup.id, { status: 'failed', reason: observed.reason }),
        declineCode: observed.code,
        needsAuthentication: false,
      };
    case 'requires_action': {
      // Nobody is there to authenticate: the setup is closed, and the caller says what to do instead.
      await door.gateway.cancelSetupIntent(si.id, `card-setup-${setup.id}-cancel`).catch(() => undefined);
      const reason = 'The card needs 3-D Secure authentication to be saved';
      return {
        outcome: await applyCardSetupState(deps, setup.id, { status: 'failed', reason }),
        declineCode: 'authentication_required',
        needsAuthentication: true,
      };
    }
    case 'pending':
      return { outcome: { kind: 'pending', setup }, declineCode: null, needsAuthentication: false };
  }
}
