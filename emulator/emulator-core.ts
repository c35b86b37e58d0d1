/**
 * The emulator's state and services, shared by the HTTP server (/v1, /_emulator, hosted pages)
 * and the in-process `Emulator` methods.
 */
import type { EmulatorRuntime } from './api-routes';
import { cancelTarget, submitCard } from './checkout-completion';
import { createClock, type EmulatorClock } from './clock';
import { FaultQueue } from './faults';
import { IdempotencyStore } from './idempotency';
import { RequestLog } from './request-log';
import { Store } from './store';
import type { CardSetupResult, EmulatorOptions } from './types';

export interface CompleteOptions {
  threeDSecure?: 'pass' | 'fail';
  expMonth?: number;
  expYear?: number;
  cvc?: string;
  name?: string;
}

export interface EmulatorCore {
  readonly clock: EmulatorClock;
  readonly store: Store;
  readonly requestLog: RequestLog;
  readonly faults: FaultQueue;
  readonly idempotency: IdempotencyStore;
  readonly runtime: EmulatorRuntime & { publicUrl: string };
  /** Throws EmulatorApiError when the card declines, 3DS fails, or the session is not open. */
  completeCheckoutSession(id: string, card: string, opts?: CompleteOptions): CardSetupResult;
  cancelCheckoutSession(id: string): CardSetupResult;
}

export function createCore(options: EmulatorOptions): EmulatorCore {
  const clock = createClock();
  const store = new Store(clock);
  const runtime = {
    publicUrl: '',
    log: (msg: string, fields?: Record<string, unknown>) => options.log?.(msg, fields),
  };
  return {
    clock,
    store,
    requestLog: new RequestLog(),
    faults: new FaultQueue(),
    idempotency: new IdempotencyStore(clock),
    runtime,
    completeCheckoutSession(id, card, opts = {}) {
      const result = submitCard(
        store,
        runtime,
        id,
        { card, expMonth: opts.expMonth, expYear: opts.expYear, cvc: opts.cvc, name: opts.name },
        opts.threeDSecure ?? 'pass',
      );
      switch (result.kind) {
        case 'completed':
          return { redirectUrl: result.redirectUrl, session: result.session };
        case 'failed':
          throw result.error;
        case 'requires_authentication':
          // Unreachable with 'pass' | 'fail'; kept exhaustive so a new outcome cannot slip through.
          throw new Error('3DS challenge left pending');
      }
    },
    cancelCheckoutSession(id) {
      return cancelTarget(store, runtime, id);
    },
  };
}
