/**
 * In-memory state. Resource modules own the rules; the store holds records and the event list.
 * Every state change calls `emit(type, object)`: today that only appends to `events`; webhook
 * delivery (a later issue) subscribes with `onEvent`.
 */
import type Stripe from 'stripe';
import type { EmulatorClock } from './clock';
import { newId } from './ids';
import type { TestCardKey } from './test-cards';

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
  /** A SetupIntent succeeded with it (matters for auth_on_setup_only cards when charging). */
  setupCompleted: boolean;
}

export type EphemeralKeyObject = Stripe.EphemeralKey & {
  associated_objects: Array<{ type: 'customer'; id: string }>;
};

export interface EmulatorEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  livemode: false;
  data: { object: unknown };
}

export type EventListener = (event: EmulatorEvent) => void;

export class Store {
  readonly customers = new Map<string, Stripe.Customer | Stripe.DeletedCustomer>();
  readonly checkoutSessions = new Map<string, StoredCheckoutSession>();
  readonly setupIntents = new Map<string, StoredSetupIntent>();
  readonly paymentMethods = new Map<string, StoredPaymentMethod>();
  readonly ephemeralKeys = new Map<string, EphemeralKeyObject>();
  readonly events: EmulatorEvent[] = [];
  private readonly listeners: EventListener[] = [];

  constructor(readonly clock: EmulatorClock) {}

  now(): number {
    return this.clock.now();
  }

  /** Records a state change as a Stripe-shaped event (a snapshot of the object). */
  emit(type: string, object: object): EmulatorEvent {
    const event: EmulatorEvent = {
      id: newId.event(),
      object: 'event',
      type,
      created: this.now(),
      livemode: false,
      data: { object: structuredClone(object) },
    };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  onEvent(listener: EventListener): void {
    this.listeners.push(listener);
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
    return undefined;
  }
}
