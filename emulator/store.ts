/**
 * In-memory state of one account (accounts.ts has one Store per account). Resource modules own
 * the rules; the store holds records and the event list.
 * Every state change calls `emit(type, object)`, which appends a Stripe-shaped Event (a snapshot
 * of the object at that moment) and tells the listeners (webhook delivery) about it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type Stripe from 'stripe';
import type { EmulatorClock } from './clock';
import { newId } from './ids';
import type { TestCardKey } from './test-cards';

/** The API version events are rendered in: the one stripe-node 23 pins. */
export const EVENT_API_VERSION = '2026-10-28.endive';

export interface StoredCheckoutSession {
  api: Stripe.Checkout.Session;
  /** PaymentMethod waiting for the hosted 3DS challenge. */
  pendingAuthentication: string | null;
}

export interface StoredSetupIntent {
  api: Stripe.SetupIntent;
  /** The Checkout Session that created it, if any. */
  checkoutSession: string | null;
  returnUrl: string | null;
}

export interface StoredPaymentMethod {
  api: Stripe.PaymentMethod;
  /** Which row of the test-card table decides its behaviour. Never serialized. */
  testCard: TestCardKey;
  /** A SetupIntent succeeded with it. */
  setupCompleted: boolean;
}

export interface StoredPaymentIntent {
  api: Stripe.PaymentIntent;
  returnUrl: string | null;
  /** The Charge waiting for `settlePaymentIntent` while the PaymentIntent is `processing`. */
  pendingCharge: string | null;
}

export interface StoredCharge {
  /** Kept without `refunds`: that list is built from `refunds` below when expanded. */
  api: Stripe.Charge;
  /** Refund ids, oldest first. */
  refunds: string[];
}

export interface StoredWebhookEndpoint {
  /** Without `secret`: Stripe shows it only in the create answer. */
  api: Stripe.WebhookEndpoint;
  secret: string;
}

export type EphemeralKeyObject = Stripe.EphemeralKey & {
  associated_objects: Array<{ type: 'customer'; id: string }>;
};

export interface EmulatorEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  /** Endpoints that have not yet acknowledged it with a 2xx. */
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export type EventListener = (event: EmulatorEvent) => void;

/** The /v1 request whose handler is running, named in the events it causes. */
export interface RequestContext {
  id: string;
  idempotencyKey: string | null;
}

/** How confirmations and refunds settle; tests switch these to see the in-between states. Emulator-wide, not per account. */
export interface Modes {
  payments: 'immediate' | 'processing';
  refunds: 'immediate' | 'pending';
}

export class Store {
  readonly customers = new Map<string, Stripe.Customer | Stripe.DeletedCustomer>();
  readonly checkoutSessions = new Map<string, StoredCheckoutSession>();
  readonly setupIntents = new Map<string, StoredSetupIntent>();
  readonly paymentMethods = new Map<string, StoredPaymentMethod>();
  readonly paymentIntents = new Map<string, StoredPaymentIntent>();
  readonly charges = new Map<string, StoredCharge>();
  readonly refunds = new Map<string, Stripe.Refund>();
  readonly webhookEndpoints = new Map<string, StoredWebhookEndpoint>();
  readonly ephemeralKeys = new Map<string, EphemeralKeyObject>();
  readonly events: EmulatorEvent[] = [];
  private readonly listeners: EventListener[] = [];
  /** The last snapshot per object id, for `previous_attributes`. */
  private readonly lastSnapshot = new Map<string, Record<string, unknown>>();
  private readonly request = new AsyncLocalStorage<RequestContext>();

  /** `modes` are the emulator's, shared by every account's store. */
  constructor(
    readonly clock: EmulatorClock,
    readonly modes: Modes,
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** Runs a /v1 handler so that the events it emits name its request id and idempotency key. */
  withRequest<T>(context: RequestContext, fn: () => T): T {
    return this.request.run(context, fn);
  }

  /** Records a state change as a Stripe-shaped event (a snapshot of the object). */
  emit(type: string, object: object): EmulatorEvent {
    const snapshot = structuredClone(object) as Record<string, unknown>;
    const id = typeof snapshot.id === 'string' ? snapshot.id : undefined;
    const before = id !== undefined ? this.lastSnapshot.get(id) : undefined;
    if (id !== undefined) this.lastSnapshot.set(id, snapshot);
    const context = this.request.getStore();
    const event: EmulatorEvent = {
      id: newId.event(),
      object: 'event',
      api_version: EVENT_API_VERSION,
      created: this.now(),
      data: { object: snapshot },
      livemode: false,
      pending_webhooks: 0,
      // Changes not caused by an API request (the hosted page, expiry, settlement) carry nulls, as Stripe's automatic events do.
      request: { id: context?.id ?? null, idempotency_key: context?.idempotencyKey ?? null },
      type,
    };
    // Stripe sends previous_attributes with update-style events only.
    if (before !== undefined && (type.endsWith('.updated') || type === 'charge.refunded')) {
      event.data.previous_attributes = changedAttributes(before, snapshot);
    }
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
  }

  /**
   * After the event list was restored from a state file: the last snapshot per object is the
   * newest event about it, exactly as `emit` had recorded it, so `previous_attributes` carry on.
   */
  rebuildSnapshots(): void {
    this.lastSnapshot.clear();
    for (const event of this.events) {
      const id = event.data.object.id;
      if (typeof id === 'string') this.lastSnapshot.set(id, event.data.object);
    }
  }

  /** Whether this store holds an object or event with this id (ids are unique across accounts). */
  holds(id: string): boolean {
    return this.lookup(id) !== undefined || this.webhookEndpoints.has(id) || this.ephemeralKeys.has(id) || this.events.some((e) => e.id === id);
  }

  /** The public form of any stored object by id, for `expand`; undefined when unknown. */
  serializeById(id: string): Record<string, unknown> | undefined {
    const found = this.lookup(id);
    return found === undefined ? undefined : (structuredClone(found) as unknown as Record<string, unknown>);
  }

  private lookup(id: string): object | undefined {
    if (id.startsWith('cus_')) return this.customers.get(id);
    if (id.startsWith('seti_')) return this.setupIntents.get(id)?.api;
    if (id.startsWith('pm_')) return this.paymentMethods.get(id)?.api;
    if (id.startsWith('cs_')) return this.checkoutSessions.get(id)?.api;
    if (id.startsWith('pi_')) return this.paymentIntents.get(id)?.api;
    if (id.startsWith('ch_')) return this.charges.get(id)?.api;
    if (id.startsWith('re_')) return this.refunds.get(id);
    return undefined;
  }
}

/** The top-level attributes whose values differ, with their old values. */
function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changed[key] = before[key] ?? null;
  }
  return changed;
}
