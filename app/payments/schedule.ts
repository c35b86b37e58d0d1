import type { ChargeStatus } from '../stripe';
import type { CardSetupState, RefundStatus } from './states';

/**
 * When the reconciler should look at an object again, by state: soon for something whose answer
 * may have been lost, later for what waits on a customer, never for a final state.
 */
const MINUTE = 60_000;

/** A charge waiting for its customer is watched this long; after that only a webhook moves it. */
export const REQUIRES_ACTION_WATCH_MS = 7 * 24 * 60 * MINUTE;

export function nextChargeCheck(status: ChargeStatus, now: Date, createdAt: Date = now): Date | null {
  switch (status) {
    case 'created':
      return new Date(now.getTime() + 2 * MINUTE);
    case 'processing':
      return new Date(now.getTime() + 5 * MINUTE);
    case 'requires_action': {
      // Backs off with age: hourly in the first day, then every 6 hours, then not at all.
      const age = now.getTime() - createdAt.getTime();
      if (age > REQUIRES_ACTION_WATCH_MS) return null;
      return new Date(now.getTime() + (age < 24 * 60 * MINUTE ? 60 : 360) * MINUTE);
    }
    case 'succeeded':
    case 'failed':
    case 'canceled':
      return null;
  }
}

export function nextRefundCheck(status: RefundStatus, now: Date): Date | null {
  switch (status) {
    case 'created':
      return new Date(now.getTime() + 2 * MINUTE);
    case 'pending':
    case 'requires_action':
      return new Date(now.getTime() + 10 * MINUTE);
    case 'succeeded':
    case 'failed':
    case 'canceled':
      return null;
  }
}

/** A customer needs longer than this to type a card, so no earlier look at a new card setup pays off. */
export const CARD_SETUP_FIRST_CHECK_MS = 15_000;
/** However old an open card setup gets, it is looked at least this often until its session expires. */
export const CARD_SETUP_MAX_CHECK_MS = 60 * MINUTE;

/**
 * An open card setup waits half its age for the next look, at least 15 s and at most an hour: it
 * is read when 15 s, 30 s, 45 s, 68 s, 101 s, ... old, hourly once 2.5 h old, and last at
 * its session's expiry, which closes it. A card saved while the webhook is lost and the customer
 * never comes back to the owner's page is so found within a pass or two in the first minutes, when customers
 * finish, and within half the setup's age later; a session nobody finishes costs 38 reads over its
 * 24 h, not one every 15 minutes (96). Independent of RECONCILE_INTERVAL_S: a pass reads what is
 * due, so a longer interval only rounds the looks up to the next pass.
 */
export function nextCardSetupCheck(state: CardSetupState, now: Date, createdAt: Date = now, expiresAt: Date | null = null): Date | null {
  switch (state) {
    case 'creating':
      return new Date(now.getTime() + 10 * MINUTE);
    case 'open': {
      const age = Math.max(0, now.getTime() - createdAt.getTime());
      const next = now.getTime() + Math.min(Math.max(age / 2, CARD_SETUP_FIRST_CHECK_MS), CARD_SETUP_MAX_CHECK_MS);
      return new Date(expiresAt && expiresAt > now ? Math.min(next, expiresAt.getTime()) : next);
    }
    case 'completed':
    case 'cancelled':
    case 'expired':
    case 'failed':
      return null;
  }
}

/** A Stripe idempotency key is kept 24 h: past that, replaying a create could act twice. */
export const IDEMPOTENCY_REPLAY_WINDOW_MS = 23 * 60 * MINUTE;
