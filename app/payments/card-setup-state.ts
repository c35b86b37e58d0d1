import type { ObservedSetup } from '../stripe';
import type { Knex } from 'knex';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction, isDeadlock, isUniqueViolation } from '../db';
import { customerKey } from './customer-key';
import { findCustomer } from './customer-repository';
import {
  completeSetupWithNewCard,
  findCardByPaymentMethod,
  hasActiveCardFromLaterSetup,
  insertActiveCard,
  reactivateCard,
  type SavedCard,
} from './card-repository';
import { completeCardSetup, findCardSetup, finishCardSetup, type CardSetup } from './card-setup-repository';

export type SetupOutcome =
  | { kind: 'completed'; card: SavedCard; setup: CardSetup }
  | { kind: 'pending'; setup: CardSetup }
  | { kind: 'expired'; setup: CardSetup }
  | { kind: 'cancelled'; setup: CardSetup }
  | { kind: 'failed'; reason: string; setup: CardSetup };

async function savedCardOf(db: Pick<Deps, 'db'>['db'] | Knex.Transaction, setup: CardSetup): Promise<SavedCard> {
  const card = setup.paymentMethodId ? await findCardByPaymentMethod(db, setup.stripeAccount, setup.paymentMethodId) : undefined;
  if (!card) throw new AppError('conflict', 'The saved card of this card setup is no longer on record');
  return card;
}

/** The outcome a card setup already in a final state stands for, without asking Stripe. */
export async function settledOutcome(deps: Pick<Deps, 'db'>, setup: CardSetup): Promise<SetupOutcome | undefined> {
  if (setup.state === 'completed') return { kind: 'completed', card: await savedCardOf(deps.db, setup), setup };
  return closedOutcome(setup);
}

/** The outcome of a card setup closed without a card, or undefined while it is still open. */
function closedOutcome(setup: CardSetup): SetupOutcome | undefined {
  switch (setup.state) {
    case 'cancelled':
      return { kind: 'cancelled', setup };
    case 'expired':
      return { kind: 'expired', setup };
    case 'failed':
      return { kind: 'failed', reason: setup.failureReason ?? 'The card setup failed', setup };
    case 'creating':
    case 'open':
    case 'completed':
      return undefined;
  }
}

/**
 * The one idempotent way Stripe's view of a card setup becomes our rows. The owner's return page, webhooks and the
 * reconciler all call this; the card setup row lock and the unique payment_method_id make any
 * order or number of calls end in one card and one final state.
 */
export async function applyCardSetupState(
  deps: Pick<Deps, 'db' | 'clock' | 'logger'>,
  setupId: number,
  observed: ObservedSetup,
  asRead?: CardSetup,
): Promise<SetupOutcome> {
  const now = deps.clock.now();
  if (asRead && asRead.id === setupId) {
    const decided = await applyAsRead(deps, asRead, observed, now);
    if (decided) return decided;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyLocked(deps, setupId, observed, now);
    } catch (err) {
      // A deadlock with a one-statement completion of the same setup (it locks the customer
      // first), or a card it made active meanwhile: decide again, on what is there now.
      if (attempt >= 3 || !isRetryable(err)) throw err;
    }
  }
}

/** Whether the database gave up on a statement that could succeed if tried again. */
const isRetryable = (err: unknown): boolean => isUniqueViolation(err) || isDeadlock(err);

/**
 * The apply path's usual cases, decided on the setup as read: one still waiting (nothing to
 * write), and a first completion with a new card (one compare-and-set statement). Undefined for
 * everything else, and when the row moved meanwhile: the locked path decides.
 */
async function applyAsRead(deps: Pick<Deps, 'db' | 'logger'>, setup: CardSetup, observed: ObservedSetup, now: Date): Promise<SetupOutcome | undefined> {
  const pastExpiry = setup.expiresAt !== null && now >= setup.expiresAt;
  const waiting = setup.state === 'creating' || setup.state === 'open';
  if (observed.status === 'open') return waiting && !pastExpiry ? { kind: 'pending', setup } : undefined;
  if (observed.status !== 'complete' || !(waiting || setup.state === 'expired') || observed.customerId !== setup.customerId) return undefined;
  let card;
  try {
    card = await completeSetupWithNewCard(
      deps.db,
      setup,
      {
        customerId: setup.customerId,
        paymentMethodId: observed.card.paymentMethodId,
        brand: observed.card.brand,
        fourDigits: observed.card.last4,
        expMonth: observed.card.expMonth,
        expYear: observed.card.expYear,
        generateTokenTime: now,
      },
      now,
    );
  } catch (err) {
    if (isRetryable(err)) return undefined;
    throw err;
  }
  if (!card) return undefined;
  deps.logger.info({ cardSetupId: setup.id, customerRef: setup.customerRef, cardId: card.id, last4: card.fourDigits }, 'card saved');
  return { kind: 'completed', card, setup: { ...setup, state: 'completed', paymentMethodId: card.paymentMethodId } };
}

/** The apply path under the card setup's row lock (and the customer's, when a card is saved). */
async function applyLocked(deps: Pick<Deps, 'db' | 'logger'>, setupId: number, observed: ObservedSetup, now: Date): Promise<SetupOutcome> {
  return inTransaction(deps.db, async (trx) => {
    const setup = await findCardSetup(trx, setupId, { forUpdate: true });
    if (!setup) throw new AppError('not_found', 'Unknown card setup');
    if (setup.state === 'completed') return { kind: 'completed', card: await savedCardOf(trx, setup), setup };

    const closed = closedOutcome(setup);
    // Stripe expires sessions itself; if its clock lags ours, our expiry still stands.
    const pastExpiry = setup.expiresAt !== null && now >= setup.expiresAt;
    const effective: ObservedSetup = observed.status === 'open' && pastExpiry ? { status: 'expired' } : observed;

    switch (effective.status) {
      case 'open':
        return closed ?? { kind: 'pending', setup };

      case 'expired':
        if (closed) return closed;
        await finishCardSetup(trx, setupId, 'expired', now);
        return { kind: 'expired', setup: { ...setup, state: 'expired' } };

      case 'failed':
        if (closed) return closed;
        await finishCardSetup(trx, setupId, 'failed', now, effective.reason);
        return { kind: 'failed', reason: effective.reason, setup };

      case 'complete': {
        // A locally presumed `expired` is overruled by Stripe: the card was saved in time.
        if (closed && setup.state !== 'expired') {
          // Stripe expired the session when it was cancelled, so it cannot complete afterwards;
          // if it ever does, an operator must look rather than the service guessing.
          deps.logger.error({ cardSetupId: setupId, state: setup.state }, 'Stripe reports a completed card setup for a closed one');
          return closed;
        }
        if (effective.customerId !== setup.customerId) {
          const reason = 'The card was saved for another customer';
          deps.logger.warn({ cardSetupId: setupId, expected: setup.customerId, got: effective.customerId }, 'card setup customer mismatch');
          await finishCardSetup(trx, setupId, 'failed', now, reason);
          return { kind: 'failed', reason, setup };
        }
        // Serialises card changes per customer so exactly one card ends up active.
        await findCustomer(trx, setup, { forUpdate: true });
        const existing = await findCardByPaymentMethod(trx, setup.stripeAccount, effective.card.paymentMethodId);
        if (existing && (existing.ownerId !== setup.ownerId || existing.customerRef !== setup.customerRef)) {
          const reason = 'The card is saved for another account';
          deps.logger.error(
            { cardSetupId: setupId, customerRef: setup.customerRef, otherCustomerRef: existing.customerRef },
            'payment method already belongs to another customer',
          );
          await finishCardSetup(trx, setupId, 'failed', now, reason);
          return { kind: 'failed', reason, setup };
        }
        // A setup confirmed late (webhook, reconciler) must not displace a card the customer saved
        // afterwards: the card of the most recently started setup is the active one.
        const newer = await hasActiveCardFromLaterSetup(trx, setup, setup.createdAt);
        const card = existing
          ? newer
            ? existing
            : await reactivateCard(trx, existing, now)
          : await insertActiveCard(
              trx,
              {
                ...customerKey(setup),
                customerId: setup.customerId,
                paymentMethodId: effective.card.paymentMethodId,
                cardSetupId: setupId,
                brand: effective.card.brand,
                fourDigits: effective.card.last4,
                expMonth: effective.card.expMonth,
                expYear: effective.card.expYear,
                generateTokenTime: now,
              },
              { active: !newer },
            );
        await completeCardSetup(trx, setupId, card.paymentMethodId, now);
        deps.logger.info({ cardSetupId: setupId, customerRef: setup.customerRef, cardId: card.id, last4: card.fourDigits }, 'card saved');
        return { kind: 'completed', card, setup: { ...setup, state: 'completed', paymentMethodId: card.paymentMethodId } };
      }
    }
  });
}
