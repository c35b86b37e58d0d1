/**
 * The emulator's state and services, shared by the HTTP server (/v1, /_emulator, hosted pages)
 * and the in-process `Emulator` methods.
 */
import type Stripe from 'stripe';
import type { EmulatorRuntime } from './api-routes';
import { cancelTarget, submitCard } from './checkout-completion';
import { createClock, type EmulatorClock } from './clock';
import { FaultQueue } from './faults';
import { IdempotencyStore } from './idempotency';
import { RequestLog } from './request-log';
import { authenticatePaymentIntent, settlePaymentIntent, type AuthenticationResult } from './resources/payment-intents';
import { settleRefund } from './resources/refunds';
import { captureState, restoreState, StateFile, type SavedState } from './persistence';
import { registerWebhookEndpoint } from './resources/webhook-endpoints';
import { Store } from './store';
import type { CardSetupResult, EmulatorOptions } from './types';
import { WebhookDispatcher } from './webhook-delivery';

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
  readonly webhooks: WebhookDispatcher;
  readonly runtime: EmulatorRuntime & { publicUrl: string };
  /** Set when `stateFile` is: the file the state is saved to. */
  readonly stateFile: StateFile | undefined;
  /** What the state file held at start (undefined: none, or started empty). */
  readonly restored: SavedState | undefined;
  /** Something changed: schedules a save when there is a state file. */
  changed(): void;
  /** Throws EmulatorApiError when the card declines, 3DS fails, or the session is not open. */
  completeCheckoutSession(id: string, card: string, opts?: CompleteOptions): CardSetupResult;
  cancelCheckoutSession(id: string): CardSetupResult;
  authenticatePaymentIntent(id: string, result: 'pass' | 'fail'): AuthenticationResult;
  settlePaymentIntent(id: string, outcome: 'succeeded' | 'failed'): Stripe.PaymentIntent;
  settleRefund(id: string, outcome: 'succeeded' | 'failed'): Stripe.Refund;
  addWebhookEndpoint(url: string, events?: string[]): { id: string; secret: string };
}

export function createCore(options: EmulatorOptions): EmulatorCore {
  const clock = createClock();
  const store = new Store(clock);
  const runtime = {
    publicUrl: '',
    log: (msg: string, fields?: Record<string, unknown>) => options.log?.(msg, fields),
  };
  const idempotency = new IdempotencyStore(clock);
  const stateFile =
    options.stateFile !== undefined ? new StateFile(options.stateFile, () => captureState({ clock, store, idempotency, runtime }), runtime.log) : undefined;
  const changed = () => stateFile?.changed();
  const restored = stateFile?.load();
  if (restored) restoreState({ clock, store, idempotency, runtime }, restored);
  if (stateFile) store.onEvent(changed);
  const webhooks = new WebhookDispatcher(store, runtime, {
    ...(options.webhookRetryDelaysMs !== undefined ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    ...(options.webhookTimeoutMs !== undefined ? { timeoutMs: options.webhookTimeoutMs } : {}),
    onStateChange: changed,
  });
  return {
    clock,
    store,
    requestLog: new RequestLog(),
    faults: new FaultQueue(),
    idempotency,
    webhooks,
    runtime,
    stateFile,
    restored,
    changed,
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
    authenticatePaymentIntent(id, result) {
      return authenticatePaymentIntent(store, runtime, id, result);
    },
    settlePaymentIntent(id, outcome) {
      return settlePaymentIntent(store, id, outcome);
    },
    settleRefund(id, outcome) {
      return settleRefund(store, id, outcome);
    },
    addWebhookEndpoint(url, events = ['*']) {
      return registerWebhookEndpoint(store, url, events);
    },
  };
}
