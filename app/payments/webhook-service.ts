import { stripeId, type StripeEvent } from '../stripe';
import { cardSetupByStripeIdQuery, type CardSetup } from './card-setup-repository';
import { chargeByPaymentIntentQuery, findChargeByPaymentIntent, type Charge } from './charge-repository';
import { markStripeEventProcessed, recordStripeEvent, type EventPreload } from './stripe-event-repository';
import type { Deps } from '../shared/deps';
import { syncCardSetupByStripeObject, syncPaymentIntentById, syncRefundById, syncRefundsOfPaymentIntent } from './stripe-sync';

/** The fields of an event's object the handlers read; everything else is re-read from Stripe. */
interface EventObject {
  id: string;
  metadata?: Record<string, string> | null;
  payment_intent?: string | { id: string } | null;
  setup_intent?: string | { id: string } | null;
  mode?: string;
}

/**
 * `account` is our row id of the Stripe account whose secret verified the event: only its rows
 * are touched. `preloaded` is what the handler's `preload` read while the event was recorded (null:
 * nothing), undefined when it has none.
 */
type Handler = (deps: Deps, account: number, object: EventObject, preloaded?: unknown) => Promise<string>;

/** A handler, and the row it starts from, read in the statement that records the event. */
interface HandlerEntry {
  handle: Handler;
  preload?: (account: number, object: EventObject) => EventPreload<unknown> | undefined;
}

const cardSetup: Handler = async (deps, account, object, preloaded) => {
  if (object.mode !== undefined && object.mode !== 'setup') return 'ignored: not a setup session';
  const outcome = await syncCardSetupByStripeObject(deps, account, object.id, object.metadata, preloaded as CardSetup | null | undefined);
  return outcome ? `card setup ${outcome.setup.id}: ${outcome.kind}` : 'ignored: no card setup of ours';
};

const setupIntent: Handler = async (deps, account, object, preloaded) => {
  const outcome = await syncCardSetupByStripeObject(deps, account, object.id, object.metadata, preloaded as CardSetup | null | undefined);
  return outcome ? `card setup ${outcome.setup.id}: ${outcome.kind}` : 'ignored: no card setup of ours';
};

const paymentIntent: Handler = async (deps, account, object, preloaded) => {
  const charge = await syncPaymentIntentById(deps, account, object.id, object.metadata ?? null, preloaded as Charge | null | undefined);
  return charge ? `charge ${charge.id}: ${charge.status}` : 'ignored: no charge of ours';
};

const withId = (object: EventObject): boolean => typeof object.id === 'string';
const setupEntry = (handle: Handler): HandlerEntry => ({
  handle,
  preload: (account, object) => (withId(object) ? cardSetupByStripeIdQuery(account, object.id) : undefined),
});
const paymentIntentEntry: HandlerEntry = {
  handle: paymentIntent,
  preload: (account, object) => (withId(object) ? chargeByPaymentIntentQuery(account, object.id) : undefined),
};

/** charge.failed / charge.expired: the charge's PaymentIntent decides our charge. */
const chargeOutcome: Handler = async (deps, account, object) => {
  const pi = stripeId(object.payment_intent);
  if (!pi) return 'ignored: charge without PaymentIntent';
  const charge = await syncPaymentIntentById(deps, account, pi);
  return charge ? `charge ${charge.id}: ${charge.status}` : 'ignored: no charge of ours';
};

/** charge.refunded: a refund does not change the PaymentIntent; its refunds are what to read. */
const chargeRefunded: Handler = async (deps, account, object) => {
  const pi = stripeId(object.payment_intent);
  const charge = pi ? await findChargeByPaymentIntent(deps.db, { stripeAccount: account }, pi) : undefined;
  if (!pi || !charge) return 'ignored: no charge of ours';
  return `charge ${charge.id}: ${await syncRefundsOfPaymentIntent(deps, account, pi)} refund(s) synced`;
};

const refundEvent: Handler = async (deps, account, object) => {
  const refund = await syncRefundById(deps, account, object.id, stripeId(object.payment_intent));
  return refund ? `refund ${refund.id}: ${refund.status}` : 'ignored: no charge of ours';
};

/**
 * The events the service acts on (see app/stripe/README.md for why each matters). Each handler
 * re-reads the object from Stripe, so a duplicate, late or out-of-order event changes nothing.
 */
const WEBHOOK_HANDLERS: ReadonlyMap<string, HandlerEntry> = new Map<string, HandlerEntry>([
  ['checkout.session.completed', setupEntry(cardSetup)],
  ['checkout.session.expired', setupEntry(cardSetup)],
  ['setup_intent.succeeded', setupEntry(setupIntent)],
  ['payment_intent.succeeded', paymentIntentEntry],
  ['payment_intent.payment_failed', paymentIntentEntry],
  ['payment_intent.processing', paymentIntentEntry],
  ['payment_intent.canceled', paymentIntentEntry],
  ['payment_intent.requires_action', paymentIntentEntry],
  ['charge.refunded', { handle: chargeRefunded }],
  ['charge.failed', { handle: chargeOutcome }],
  ['charge.expired', { handle: chargeOutcome }],
  ['refund.created', { handle: refundEvent }],
  ['refund.updated', { handle: refundEvent }],
  ['refund.failed', { handle: refundEvent }],
  // The Payment Hub's seed subscribes to it; the service creates no invoices, so it is only recorded.
  ['invoice.paid', { handle: async () => 'recorded: the service makes no invoices' }],
]);

/** The event types the core acts on (a Stripe endpoint should send at least these). */
export const HANDLED_STRIPE_EVENTS: readonly string[] = [...WEBHOOK_HANDLERS.keys()];

export interface WebhookResult {
  duplicate: boolean;
  outcome: string;
}

/**
 * Records the event id first, then acts. A redelivered event that was processed is a no-op; one
 * whose processing failed (Stripe down during the re-read) is processed again.
 */
/**
 * What an owner's front end does with an event beyond the core's rows (the Payment Hub moves its
 * tokens): called with the event's account and object after the core's handler, in the same
 * processing, so a failure leaves the event unprocessed for Stripe's redelivery. Undefined: not its.
 */
export type StripeEventObserver = (stripeAccount: number, type: string, object: { id: string }) => Promise<string | undefined>;

export async function handleStripeEvent(
  deps: Deps,
  stripeAccount: number,
  event: StripeEvent,
  observers: readonly StripeEventObserver[] = [],
): Promise<WebhookResult> {
  const object = event.data.object as unknown as EventObject;
  // A Map, not an object: an event type such as `constructor` must not find Object's own members.
  const entry = typeof event.type === 'string' ? WEBHOOK_HANDLERS.get(event.type) : undefined;
  const { alreadyProcessed, preloaded } = await recordStripeEvent(
    deps.db,
    { stripeAccount, id: event.id, type: event.type, objectId: object.id ?? null },
    deps.clock.now(),
    entry?.preload?.(stripeAccount, object),
  );
  if (alreadyProcessed) {
    deps.metrics.stripeWebhook('duplicate');
    return { duplicate: true, outcome: 'duplicate: already processed' };
  }
  const lagSeconds = typeof event.created === 'number' ? deps.clock.now().getTime() / 1000 - event.created : undefined;
  try {
    const outcome = await applyEvent(deps, stripeAccount, event, object, observers, entry, preloaded);
    deps.metrics.stripeWebhook('processed', lagSeconds);
    return { duplicate: false, outcome };
  } catch (err) {
    deps.metrics.stripeWebhook('failed', lagSeconds);
    throw err;
  }
}

async function applyEvent(
  deps: Deps,
  stripeAccount: number,
  event: StripeEvent,
  object: EventObject,
  observers: readonly StripeEventObserver[],
  entry: HandlerEntry | undefined,
  preloaded: unknown,
): Promise<string> {
  const outcomes = [entry ? await entry.handle(deps, stripeAccount, object, preloaded) : 'ignored: event type not handled'];
  if (typeof event.type === 'string' && typeof object.id === 'string') {
    for (const observe of observers) {
      const more = await observe(stripeAccount, event.type, object);
      if (more) outcomes.push(more);
    }
  }
  const outcome = outcomes.join('; ');
  await markStripeEventProcessed(deps.db, stripeAccount, event.id, outcome, deps.clock.now());
  return outcome;
}
