import type { ChargeStatus } from '../stripe';
import type { RefundStatus } from './refund-repository';
import type { HandshakeState } from './handshake-repository';

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

export function nextHandshakeCheck(state: HandshakeState, now: Date): Date | null {
  switch (state) {
    case 'creating':
      return new Date(now.getTime() + 10 * MINUTE);
    case 'open':
      return new Date(now.getTime() + 15 * MINUTE);
    case 'completed':
    case 'cancelled':
    case 'expired':
    case 'failed':
      return null;
  }
}

/** A Stripe idempotency key is kept 24 h: past that, replaying a create could act twice. */
export const IDEMPOTENCY_REPLAY_WINDOW_MS = 23 * 60 * MINUTE;
