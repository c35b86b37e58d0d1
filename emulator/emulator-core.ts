/**
 * The emulator's state and services, shared by the HTTP server (/v1, /_emulator, hosted pages)
 * and the in-process `Emulator` methods.
 */
import type Stripe from 'stripe';
import { AccountRegistry, type Account } from './accounts';
import type { EmulatorRuntime } from './api-routes';
import { cancelTarget, submitCard } from './checkout-completion';
import { createClock, type EmulatorClock } from './clock';
import { FaultQueue } from './faults';
import { RequestLog } from './request-log';
import { expireAuthorization, expireAuthorizations } from './resources/authorizations';
import { authenticatePaymentIntent, settlePaymentIntent, type AuthenticationResult } from './resources/payment-attempts';
import { payInvoice, type PaidInvoiceRequest } from './resources/invoices';
import { dashboardRefund, settleRefund, type DashboardRefundRequest } from './resources/refunds';
import { captureState, restoreState, StateFile, type SavedState } from './persistence';
import { registerWebhookEndpoint } from './resources/webhook-endpoints';
import type { Modes, Store } from './store';
import { resourceMissing } from './stripe-errors';
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
  /** Payment and refund modes: emulator-wide. */
  readonly modes: Modes;
  readonly accounts: AccountRegistry;
  readonly requestLog: RequestLog;
  readonly faults: FaultQueue;
  readonly webhooks: WebhookDispatcher;
  readonly runtime: EmulatorRuntime & { publicUrl: string };
  /** Set when `stateFile` is: the file the state is saved to. */
  readonly stateFile: StateFile | undefined;
  /** What the state file held at start (undefined: none, or started empty). */
  readonly restored: SavedState | undefined;
  /** Something changed: schedules a save when there is a state file. */
  changed(): void;
  /**
   * The store of the account that holds this id (ids are unique across accounts). When none does,
   * the default account's, so the caller's own lookup answers its usual resource_missing.
   */
  storeHolding(id: string): Store;
  /** The key's account (EmulatorApiError 401 when the key is refused); without a key the default account. */
  accountFor(apiKey: string | undefined): Account;
  /** Throws EmulatorApiError when the card declines, 3DS fails, or the session is not open. */
  completeCheckoutSession(id: string, card: string, opts?: CompleteOptions): CardSetupResult;
  cancelCheckoutSession(id: string): CardSetupResult;
  authenticatePaymentIntent(id: string, result: 'pass' | 'fail'): AuthenticationResult;
  /** Moves the emulator clock; authorizations whose capture window passed lapse at once. */
  advanceClock(seconds: number): void;
  /** Lapses every authorization past its window in this account (before each of its /v1 requests). */
  expireLapsedAuthorizations(account: Account): void;
  /** The authorization of a PaymentIntent in requires_capture lapses now. */
  expireAuthorization(id: string): Stripe.PaymentIntent;
  settlePaymentIntent(id: string, outcome: 'succeeded' | 'failed'): Stripe.PaymentIntent;
  settleRefund(id: string, outcome: 'succeeded' | 'failed'): Stripe.Refund;
  /** A refund made in the Stripe Dashboard, in the account holding the PaymentIntent or charge. */
  dashboardRefund(req: DashboardRefundRequest): Stripe.Refund;
  /** An invoice of this customer was paid in Stripe Billing: the invoice.* events, in its account. */
  payInvoice(req: PaidInvoiceRequest): Stripe.Invoice;
  addWebhookEndpoint(account: Account, url: string, events?: string[]): { id: string; secret: string };
  /** Sends an event again to its account's matching endpoints; 404 for an unknown id. */
  redeliverEvent(eventId: string): void;
  /** Empties the account and gives its key a new acct_ id; returns the new account. */
  resetAccount(account: Account): Account;
}

export function createCore(options: EmulatorOptions): EmulatorCore {
  const clock = createClock();
  const modes: Modes = { payments: 'immediate', refunds: 'immediate' };
  const runtime = {
    publicUrl: '',
    log: (msg: string, fields?: Record<string, unknown>) => options.log?.(msg, fields),
  };
  // Declared before it is made: the dispatcher's callback below needs it, the file needs the accounts.
  // eslint-disable-next-line prefer-const
  let stateFile: StateFile | undefined;
  const changed = () => stateFile?.changed();
  const webhooks = new WebhookDispatcher(runtime, {
    ...(options.webhookRetryDelaysMs !== undefined ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    ...(options.webhookTimeoutMs !== undefined ? { timeoutMs: options.webhookTimeoutMs } : {}),
    onStateChange: changed,
  });
  const accounts = new AccountRegistry({
    apiKeys: options.apiKey,
    acceptOtherTestKeys: options.acceptOtherTestKeys ?? false,
    clock,
    modes,
    hooks: {
      opened: (account) => {
        webhooks.watch(account);
        account.store.onEvent(changed);
      },
      closed: (account) => webhooks.forget(account),
    },
  });
  const parts = { clock, modes, accounts, runtime };
  stateFile = options.stateFile !== undefined ? new StateFile(options.stateFile, () => captureState(parts), runtime.log) : undefined;
  const restored = stateFile?.load();
  if (restored) restoreState(parts, restored);
  const storeHolding = (id: string) => (accounts.holding(id) ?? accounts.default()).store;

  return {
    clock,
    modes,
    accounts,
    requestLog: new RequestLog(),
    faults: new FaultQueue(),
    webhooks,
    runtime,
    stateFile,
    restored,
    changed,
    storeHolding,
    accountFor: (apiKey) => (apiKey === undefined ? accounts.default() : accounts.requireKey(apiKey)),
    completeCheckoutSession(id, card, opts = {}) {
      const result = submitCard(
        storeHolding(id),
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
      return cancelTarget(storeHolding(id), runtime, id);
    },
    authenticatePaymentIntent(id, result) {
      return authenticatePaymentIntent(storeHolding(id), runtime, id, result);
    },
    advanceClock(seconds) {
      clock.advance(seconds);
      for (const account of accounts.all()) expireAuthorizations(account.store);
    },
    expireLapsedAuthorizations(account) {
      if (expireAuthorizations(account.store) > 0) changed();
    },
    expireAuthorization(id) {
      return expireAuthorization(storeHolding(id), id);
    },
    settlePaymentIntent(id, outcome) {
      return settlePaymentIntent(storeHolding(id), id, outcome);
    },
    settleRefund(id, outcome) {
      return settleRefund(storeHolding(id), id, outcome);
    },
    dashboardRefund(req) {
      return dashboardRefund(storeHolding(req.payment_intent ?? req.charge ?? ''), req);
    },
    payInvoice(req) {
      return payInvoice(storeHolding(req.customer), req);
    },
    addWebhookEndpoint(account, url, events = ['*']) {
      return registerWebhookEndpoint(account.store, url, events);
    },
    redeliverEvent(eventId) {
      const account = accounts.holding(eventId);
      const event = account?.store.events.find((e) => e.id === eventId);
      if (!account || !event) throw resourceMissing('event', eventId);
      webhooks.redeliver(account, event);
    },
    resetAccount(account) {
      const current = accounts.reset(account);
      runtime.log('account reset', { previous: account.id, account: current.id });
      return current;
    },
  };
}
