import type { ChargeStatus } from '../stripe';
import type { RefundStatus } from './states';

/**
 * Which state changes a re-read of Stripe may make. Reads happen outside the row lock, so an
 * older read can arrive after a newer one; these tables keep such a stale read from moving a row
 * back. What stays allowed mirrors Stripe: a failed PaymentIntent can be confirmed again (3-D
 * Secure retry), a succeeded refund can still fail.
 */
const CHARGE: Record<ChargeStatus, readonly ChargeStatus[]> = {
  created: ['created', 'requires_action', 'processing', 'succeeded', 'failed', 'canceled'],
  requires_action: ['requires_action', 'processing', 'succeeded', 'failed', 'canceled'],
  processing: ['processing', 'succeeded', 'failed', 'canceled'],
  failed: ['failed', 'requires_action', 'processing', 'succeeded', 'canceled'],
  succeeded: ['succeeded'],
  canceled: ['canceled'],
};

const REFUND: Record<RefundStatus, readonly RefundStatus[]> = {
  created: ['created', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled'],
  pending: ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'],
  requires_action: ['requires_action', 'pending', 'succeeded', 'failed', 'canceled'],
  succeeded: ['succeeded', 'failed'],
  failed: ['failed'],
  canceled: ['canceled'],
};

export const chargeMayMove = (from: ChargeStatus, to: ChargeStatus): boolean => CHARGE[from].includes(to);
export const refundMayMove = (from: RefundStatus, to: RefundStatus): boolean => REFUND[from].includes(to);
