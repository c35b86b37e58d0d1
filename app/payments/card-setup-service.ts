import type { Knex } from 'knex';
import { observeConfirmedSetup, type CheckoutSession, type StripeDoor } from '../stripe';
import { inTransaction } from '../db';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import {
  findAttachedRowWithCardSetup,
  findOwnedCardSetup,
  finishCardSetup,
  insertCardSetup,
  insertCardSetupOfMappedCustomer,
  insertCardSetupOfNewCustomer,
  markCardSetupOpen,
  type AttachedRow,
  type CardSetup,
} from './card-setup-repository';
import type { CustomerKey } from './customer-key';
import { applyCardSetupState, settledOutcome, type SetupOutcome } from './card-setup-state';
import type { Customer } from './customer-repository';
import { createStripeCustomer, warnUnusedStripeCustomer, type CustomerDetails } from './customer-service';
import { observeCardSetup } from './stripe-sync';

/**
 * Saving a card at Stripe, for any owner: a card setup is recorded first, then its Stripe side
 * (a setup-mode Checkout session, or a SetupIntent the owner's app confirms) is opened, and the
 * outcome is read back from Stripe by confirm, webhooks or the reconciler, all through the one
 * apply path (card-setup-state).
 */

/** How long a card setup without a Checkout session (a bare SetupIntent) stays open: a session's default. */
const SETUP_INTENT_LIFETIME_MS = 24 * 60 * 60_000;

/**
 * Records a new card setup for the customer. `attach` lets the owner record its own row for it
 * (in the same transaction, so neither exists without the other); if it throws, nothing is kept.
 */
export async function beginCardSetup(
  deps: Pick<Deps, 'db' | 'clock'>,
  customer: Customer,
  attach?: (trx: Knex.Transaction, setup: CardSetup) => Promise<void>,
): Promise<CardSetup> {
  const setupOf = (db: Knex | Knex.Transaction) =>
    insertCardSetup(db, {
      ownerId: customer.ownerId,
      stripeAccount: customer.stripeAccount,
      customerRef: customer.customerRef,
      customerId: customer.stripeCustomerId,
      createdAt: deps.clock.now(),
    });
  // Nothing to record beside it: one statement, no transaction around it.
  if (!attach) return setupOf(deps.db);
  return inTransaction(deps.db, async (trx) => {
    const setup = await setupOf(trx);
    await attach(trx, setup);
    return setup;
  });
}

/**
 * Records a new card setup for a customer whose Stripe customer is already mapped, in one
 * statement; `attach` is the owner's row for it, recorded with it. Undefined when the customer
 * has no Stripe customer in this account yet (then ensureCustomer, and beginCardSetup).
 */
export async function beginCardSetupOfKnownCustomer(
  deps: Pick<Deps, 'db' | 'clock'>,
  key: CustomerKey,
  attach?: (createdAt: Date) => AttachedRow,
): Promise<CardSetup | undefined> {
  const now = deps.clock.now();
  return insertCardSetupOfMappedCustomer(deps.db, key, now, attach?.(now));
}

/**
 * The first card setup of a customer with no Stripe customer in this account: the Stripe
 * customer is made, and the mapping, the setup and `attach` recorded in one statement. When a
 * parallel request mapped the customer meanwhile, the setup is recorded for that mapping instead
 * (and the Stripe customer made here stays unused).
 */
export async function beginCardSetupOfNewCustomer(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  door: StripeDoor,
  key: CustomerKey,
  details: CustomerDetails,
  attach?: (createdAt: Date) => AttachedRow,
): Promise<CardSetup | undefined> {
  const stripeCustomerId = await createStripeCustomer(door, key, details);
  const now = deps.clock.now();
  let setup: CardSetup | undefined;
  try {
    setup = await insertCardSetupOfNewCustomer(deps.db, key, { stripeCustomerId, email: details.email ?? null }, now, attach?.(now));
  } catch (err) {
    // Nothing of it was recorded: a retry with the same details gets this Stripe customer again
    // (Stripe replays the idempotency key for 24 hours); after that it would stay unused.
    deps.logger.warn(
      { ownerId: key.ownerId, customerRef: key.customerRef, stripeCustomerId, err: err instanceof Error ? err.message : String(err) },
      'the new Stripe customer and its first card setup could not be recorded',
    );
    throw err;
  }
  if (setup) return setup;
  const mapped = await beginCardSetupOfKnownCustomer(deps, key, attach);
  if (mapped && mapped.customerId !== stripeCustomerId) warnUnusedStripeCustomer(deps, key, mapped.customerId, stripeCustomerId);
  return mapped;
}

/** Set on the Stripe objects so an event about them alone leads back to the card setup. */
const setupMetadata = (setup: CardSetup, owner: Record<string, string>): Record<string, string> => ({ ...owner, card_setup_id: String(setup.id) });

/** A Stripe failure while opening leaves the setup failed (never open without its Stripe side). */
async function failOnError<T>(deps: Pick<Deps, 'db' | 'clock'>, setup: CardSetup, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    await finishCardSetup(deps.db, setup.id, 'failed', deps.clock.now(), err instanceof Error ? err.message : 'failed');
    throw err;
  }
}

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

/** Opens a setup-mode Checkout session for a card setup: the customer enters the card on Stripe's page. */
export async function openCheckoutSetup(deps: Deps, setup: CardSetup, input: CheckoutSetup): Promise<CheckoutSession> {
  return failOnError(deps, setup, async () => {
    const { gateway } = await deps.stripeAccounts.forAccount(setup.stripeAccount);
    const session = await gateway.createSetupCheckoutSession(
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
    await markCardSetupOpen(deps.db, setup.id, { checkoutSessionId: session.id }, new Date(session.expires_at * 1000), deps.clock.now());
    deps.logger.info({ cardSetupId: setup.id, checkoutSessionId: session.id }, 'card setup started');
    return session;
  });
}

export interface SetupIntentSetup {
  setupIntentClientSecret: string;
  /** For the customer's mobile SDK, scoped to the Stripe customer. */
  ephemeralKey: string;
}

/**
 * Opens a card setup as a bare SetupIntent the owner's app confirms with Stripe's SDK. A
 * SetupIntent never expires at Stripe: the setup gets a Checkout session's lifetime so an
 * abandoned one is closed (and no longer read) instead of waiting forever; a late success still
 * arrives by webhook and overrules the local expiry.
 */
export async function openSetupIntentSetup(deps: Deps, setup: CardSetup, input: { metadata: Record<string, string> }): Promise<SetupIntentSetup> {
  return failOnError(deps, setup, async () => {
    const { gateway } = await deps.stripeAccounts.forAccount(setup.stripeAccount);
    const si = await gateway.createSetupIntent(
      { customerId: setup.customerId, metadata: setupMetadata(setup, input.metadata) },
      `card-setup-${setup.id}-setupintent`,
    );
    const key = await gateway.createEphemeralKey(setup.customerId, `card-setup-${setup.id}-ephemeralkey`);
    const now = deps.clock.now();
    await markCardSetupOpen(deps.db, setup.id, { setupIntentId: si.id }, new Date(now.getTime() + SETUP_INTENT_LIFETIME_MS), now);
    deps.logger.info({ cardSetupId: setup.id, setupIntentId: si.id }, 'card setup started (SetupIntent)');
    if (!si.client_secret) throw new AppError('upstream_failed', 'Stripe returned a SetupIntent without a client secret');
    return { setupIntentClientSecret: si.client_secret, ephemeralKey: key.secret };
  });
}

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
 * A decline is an outcome (failed, with the decline code), not an error.
 */
export async function saveCardOffSession(deps: Deps, customer: Customer, paymentMethodId: string): Promise<OffSessionSetup> {
  const setup = await beginCardSetup(deps, customer);
  return failOnError(deps, setup, async () => {
    const { gateway } = await deps.stripeAccounts.forAccount(setup.stripeAccount);
    const si = await gateway.confirmOffSessionSetup(
      { customerId: setup.customerId, paymentMethodId, metadata: setupMetadata(setup, {}) },
      `card-setup-${setup.id}-confirm`,
    );
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + SETUP_INTENT_LIFETIME_MS);
    await markCardSetupOpen(deps.db, setup.id, { setupIntentId: si.id }, expiresAt, now);
    // As markCardSetupOpen left it (if it did not, the apply path's compare-and-set finds out).
    const opened: CardSetup = { ...setup, state: 'open', setupIntentId: si.id, expiresAt };
    const observed = observeConfirmedSetup(si);
    switch (observed.status) {
      case 'succeeded':
        return {
          outcome: await applyCardSetupState(deps, setup.id, { status: 'complete', customerId: observed.customerId, card: observed.card }, opened),
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
        await gateway.cancelSetupIntent(si.id, `card-setup-${setup.id}-cancel`).catch(() => undefined);
        const reason = 'The card needs 3-D Secure authentication to be saved';
        return {
          outcome: await applyCardSetupState(deps, setup.id, { status: 'failed', reason }),
          declineCode: 'authentication_required',
          needsAuthentication: true,
        };
      }
      case 'pending':
        return { outcome: { kind: 'pending', setup: { ...setup, state: 'open', setupIntentId: si.id } }, declineCode: null, needsAuthentication: false };
    }
  });
}
