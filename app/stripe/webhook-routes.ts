import { randomUUID } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { handleStripeEvent } from '../payments';
import { isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';

/** Stripe webhooks in: raw body (the signature covers the exact bytes), verified, recorded, applied. */
export function createStripeWebhookRouter(deps: Deps): Router {
  const router = Router();
  const raw = express.raw({ type: () => true, limit: '1mb' });

  const receive = async (req: Request, res: Response): Promise<void> => {
    let event;
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      event = deps.stripe.verifyWebhook(body, req.get('stripe-signature'));
    } catch (err) {
      const message = isAppError(err) ? err.message : 'Invalid webhook';
      req.log.warn({ reason: message }, 'webhook refused');
      res.status(isAppError(err) && err.kind === 'forbidden' ? 503 : 400).json({ error: message });
      return;
    }
    const log = req.log.child({ eventId: event.id, eventType: event.type });
    try {
      const result = await handleStripeEvent(deps, event);
      log.info({ duplicate: result.duplicate, outcome: result.outcome }, 'webhook handled');
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
  return router;
}
