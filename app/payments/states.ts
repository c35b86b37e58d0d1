import type { ObservedRefund } from '../stripe';

/** The states of the core's rows, at the bottom of the module graph: schedules, transitions and repositories all read them. */
export type CardSetupState = 'creating' | 'open' | 'completed' | 'cancelled' | 'expired' | 'failed';
export type RefundStatus = 'created' | ObservedRefund['status'];
