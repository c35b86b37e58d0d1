import { randomUUID } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { isAppError } from '../shared/app-error';
import type { StripeAccounts, StripeDoor } from './stripe-accounts';
import type { StripeEvent } from './stripe-gateway';

const STRIPE_ID = /^[A-Za-z0-9_]{1,255}$/;
const EVENT_TYPE = /^[a-z0-9_.]{1,255}$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What a signed body must look like before it is recorded: an event with a Stripe id, a type
 * and an object. Only someone holding the secret can send anything else, but a mistake there is
 * still a client's mistake (400), and a NUL byte must not reach PostgreSQL.
 */
function eventShapeProblem(event: unknown, rawBody: Buffer): string | undefined {
  if (!isPlainObject(event)) return 'The event is not a JSON object';
  if (typeof event.id !== 'string' || !STRIPE_ID.test(event.id)) return 'The event has no valid id';
  if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) return 'The event has no valid type';
  if (!isPlainObject(event.data) || !isPlainObject(event.data.object)) return 'The event has no data.object';
  const objectId = event.data.object.id;
  if (objectId !== undefined && (typeof objectId !== 'string' || !STRIPE_ID.test(objectId))) return 'The event object has no valid id';
  if (rawBody.includes('\\u0000')) return 'The event contains a NUL character';
  return undefined;
}

/**
 * What the core does with a verified event (injected by app.ts, so this door knows no use case).
 * `stripeAccount` is our row id of the account whose secret verified it.
 */
export type StripeEventHandler = (stripeAccount: number, event: StripeEvent) => Promise<{ duplicate: boolean; outcome: string }>;

const ACCOUNT_PARAM = /^acct_[A-Za-z0-9]{1,64}$/;

/** Stripe webhooks in: raw body (the signature covers the exact bytes), verified, recorded, applied. */
/**
 * More doors than the registry's own addresses: a front end's named endpoints (the Payment Hub's
 * vendors) and, for the bare documented path, every door whose secret may have signed a delivery.
 */
export interface NamedDoors {
  byName(name: string): Promise<StripeDoor | undefined>;
  all(): Promise<StripeDoor[]>;
}

const NAME_PARAM = /^[A-Za-z0-9_-]{1,64}$/;

export function createStripeWebhookRouter(
  deps: { stripeAccounts: Pick<StripeAccounts, 'defaultAccount' | 'forStripeAccount'> },
  handleEvent: StripeEventHandler,
  named?: NamedDoors,
): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: '1mb' });

  /** The door of the account a delivery is addressed to: the path's acct_ id, else the default. */
  const doorFor = async (req: Request): Promise<StripeDoor | undefined> => {
    const name = req.params.name;
    if (typeof name === 'string') return NAME_PARAM.test(name) && named ? named.byName(name) : undefined;
    const account = req.params.account;
    if (account === undefined) return deps.stripeAccounts.defaultAccount();
    if (typeof account !== 'string') return undefined;
    return ACCOUNT_PARAM.test(account) ? deps.stripeAccounts.forStripeAccount(account) : undefined;
  };

  /**
   * The bare documented path (`/api/v1/hook/stripe`) is the default account's, but a merchant who
   * followed the seed points its own account there too: then the door whose secret verifies it is
   * the event's. Every other path verifies with its own door only.
   */
  const verifyWithAny = async (req: Request, door: StripeDoor, body: Buffer): Promise<{ door: StripeDoor; event: StripeEvent }> => {
    const signature = req.get('stripe-signature');
    try {
      return { door, event: door.gateway.verifyWebhook(body, signature) };
    } catch (err) {
      if (req.path !== '/api/v1/hook/stripe' || !named) throw err;
      for (const other of await named.all()) {
        try {
          return { door: other, event: other.gateway.verifyWebhook(body, signature) };
        } catch {
          // not this one's secret
        }
      }
      throw err;
    }
  };

  const receive = async (req: Request, res: Response): Promise<void> => {
    let event;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let door: StripeDoor | undefined;
    try {
      door = await doorFor(req);
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'webhook refused: the Stripe account could not be resolved');
      res.status(503).json({ error: 'The Stripe account is not reachable yet, retry later' });
      return;
    }
    if (!door) {
      res.status(404).json({ error: 'No such Stripe account here' });
      return;
    }
    try {
      ({ door, event } = await verifyWithAny(req, door, body));
    } catch (err) {
      const message = isAppError(err) ? err.message : 'Invalid webhook';
      req.log.warn({ reason: message }, 'webhook refused');
      res.status(isAppError(err) && err.kind === 'forbidden' ? 503 : 400).json({ error: message });
      return;
    }
    const problem =
      eventShapeProblem(event, body) ??
      (typeof event.livemode === 'boolean' && event.livemode !== door.livemode
        ? `A ${event.livemode ? 'live' : 'test'}-mode event for a ${door.livemode ? 'live' : 'test'}-mode account`
        : undefined);
    if (problem) {
      req.log.warn({ reason: problem }, 'webhook refused');
      res.status(400).json({ error: problem });
      return;
    }
    const log = req.log.child({ eventId: event.id, eventType: event.type });
    try {
      const result = await handleEvent(door.accountId, event);
      // What changed rows is for the operator; events the service does not act on are detail.
      const acted = !result.duplicate && !result.outcome.startsWith('ignored') && !result.outcome.startsWith('recorded');
      log[acted ? 'info' : 'debug']({ duplicate: result.duplicate, outcome: result.outcome }, 'webhook handled');
      res.json({ received: true, duplicate: result.duplicate });
    } catch (err) {
      const errorId = randomUUID();
      if (isAppError(err) && err.kind === 'upstream_failed') {
        // Stripe could not be read back: not recorded as processed, Stripe's redelivery retries.
        log.warn({ errorId, err: err.message }, 'webhook processing failed; Stripe will redeliver');
        res.status(500).json({ error: 'processing failed, retry later', errorId });
        return;
      }
      // A failure a redelivery cannot fix: answered 200 so Stripe does not retry for days (and
      // disable the endpoint); the event stays unprocessed in stripe_events for an operator.
      log.error({ errorId, err: err instanceof Error ? err.message : String(err) }, 'webhook processing failed; needs an operator');
      res.json({ received: true, processed: false, errorId });
    }
  };

  router.post('/webhooks/stripe', raw, receive);
  // The Payment Hub's documented path for the same endpoint.
  router.post('/api/v1/hook/stripe', raw, receive);
  // One endpoint per Stripe account: verified with that account's secret, applied to its rows only.
  router.post('/webhooks/stripe/:account', raw, receive);
  // A front end's own endpoints (a Payment Hub vendor's), verified with that door's secret only.
  router.post('/api/v1/hook/stripe/:name', raw, receive);
  return router;
}
