import type { ObservedSetup } from '../stripe';
import type { Knex } from 'knex';
import { AppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { inTransaction } from '../db';
import { customerKey } from './customer-key';
import { findCustomer } from './customer-repository';
import { findCardByPaymentMethod, hasActiveCardFromLaterSetup, insertActiveCard, reactivateCard, type SavedCard } from './card-repository';
import { completeHandshake, findHandshake, finishHandshake, type Handshake } from './handshake-repository';

export const STRIPE_GATEWAY_NAME = 'StripeCheckout';

export type SetupOutcome =
  | { kind: 'completed'; card: SavedCard; handshake: Handshake }
  | { kind: 'pending'; handshake: Handshake }
  | { kind: 'expired'; handshake: Handshake }
  | { kind: 'cancelled'; handshake: Handshake }
  | { kind: 'failed'; reason: string; handshake: Handshake };

async function savedCardOf(db: Pick<Deps, 'db'>['db'] | Knex.Transaction, handshake: Handshake): Promise<SavedCard> {
  const card = handshake.paymentMethodId ? await findCardByPaymentMethod(db, handshake.stripeAccount, handshake.paymentMethodId) : undefined;
  if (!card) throw new AppError('conflict', 'The saved card of this transaction is no longer on record');
  return card;
}

/** The outcome a handshake already in a final state stands for, without asking Stripe. */
export async function settledOutcome(deps: Pick<Deps, 'db'>, handshake: Handshake): Promise<SetupOutcome | undefined> {
  if (handshake.state === 'completed') return { kind: 'completed', card: await savedCardOf(deps.db, handshake), handshake };
  return closedOutcome(handshake);
}

/** The outcome of a handshake closed without a card, or undefined while it is still open. */
function closedOutcome(handshake: Handshake): SetupOutcome | undefined {
  switch (handshake.state) {
    case 'cancelled':
      return { kind: 'cancelled', handshake };
    case 'expired':
      return { kind: 'expired', handshake };
    case 'failed':
      return { kind: 'failed', reason: handshake.failureReason ?? 'The card setup failed', handshake };
    case 'creating':
    case 'open':
    case 'completed':
      return undefined;
  }
}

/**
 * The one idempotent way Stripe's view of a card setup becomes our rows. OkPage, webhooks and the
 * reconciler all call this; the handshake row lock and the unique payment_method_id make any
 * order or number of calls end in one card and one final state.
 */
export async function applyCardSetupState(deps: Pick<Deps, 'db' | 'clock' | 'logger'>, txId: string, observed: ObservedSetup): Promise<SetupOutcome> {
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    const handshake = await findHandshake(trx, txId, { forUpdate: true });
    if (!handshake) throw new AppError('not_found', 'Unknown transaction');
    if (handshake.state === 'completed') return { kind: 'completed', card: await savedCardOf(trx, handshake), handshake };

    const closed = closedOutcome(handshake);
    // Stripe expires sessions itself; if its clock lags ours, our expiry still stands.
    const pastExpiry = handshake.expiresAt !== null && now >= handshake.expiresAt;
    const effective: ObservedSetup = observed.status === 'open' && pastExpiry ? { status: 'expired' } : observed;

    switch (effective.status) {
      case 'open':
        return closed ?? { kind: 'pending', handshake };

      case 'expired':
        if (closed) return closed;
        await finishHandshake(trx, txId, 'expired', now);
        return { kind: 'expired', handshake: { ...handshake, state: 'expired' } };

      case 'failed':
        if (closed) return closed;
        await finishHandshake(trx, txId, 'failed', now, effective.reason);
        return { kind: 'failed', reason: effective.reason, handshake };

      case 'complete': {
        // A locally presumed `expired` is overruled by Stripe: the card was saved in time.
        if (closed && handshake.state !== 'expired') {
          // Stripe expired the session when it was cancelled, so it cannot complete afterwards;
          // if it ever does, an operator must look rather than the service guessing.
          deps.logger.error({ txId, state: handshake.state }, 'Stripe reports a completed card setup for a closed handshake');
          return closed;
        }
        if (effective.customerId !== handshake.customerId) {
          const reason = 'The card was saved for another customer';
          deps.logger.warn({ txId, expected: handshake.customerId, got: effective.customerId }, 'card setup customer mismatch');
          await finishHandshake(trx, txId, 'failed', now, reason);
          return { kind: 'failed', reason, handshake };
        }
        // Serialises card changes per customer so exactly one card ends up active.
        await findCustomer(trx, handshake, { forUpdate: true });
        const existing = await findCardByPaymentMethod(trx, handshake.stripeAccount, effective.card.paymentMethodId);
        if (existing && (existing.ownerId !== handshake.ownerId || existing.customerRef !== handshake.customerRef)) {
          const reason = 'The card is saved for another account';
          deps.logger.error(
            { txId, customerRef: handshake.customerRef, otherCustomerRef: existing.customerRef },
            'payment method already belongs to another customer',
          );
          await finishHandshake(trx, txId, 'failed', now, reason);
          return { kind: 'failed', reason, handshake };
        }
        // A setup confirmed late (webhook, reconciler) must not displace a card the customer saved
        // afterwards: the card of the most recently started handshake is the active one.
        const newer = await hasActiveCardFromLaterSetup(trx, handshake, handshake.createdAt);
        const card = existing
          ? newer
            ? existing
            : await reactivateCard(trx, existing, now)
          : await insertActiveCard(
              trx,
              {
                ...customerKey(handshake),
                gatewayName: STRIPE_GATEWAY_NAME,
                instanceName: handshake.instanceName,
                customerId: handshake.customerId,
                paymentMethodId: effective.card.paymentMethodId,
                handshakeTxId: txId,
                brand: effective.card.brand,
                fourDigits: effective.card.last4,
                expMonth: effective.card.expMonth,
                expYear: effective.card.expYear,
                generateTokenTime: now,
              },
              { active: !newer },
            );
        await completeHandshake(trx, txId, card.paymentMethodId, now);
        deps.logger.info({ txId, customerRef: handshake.customerRef, cardId: card.id, last4: card.fourDigits }, 'card saved');
        return { kind: 'completed', card, handshake: { ...handshake, state: 'completed', paymentMethodId: card.paymentMethodId } };
      }
    }
  });
}
