import express, { type Express } from 'express';
import { createAuthenticationRouter } from './authentication/authentication-routes';
import { createBillrunRouter } from './billrun';
import { createConsoleRouter } from './console';
import { createHubRouter, hubStripeEventObserver, vendorWebhookDoors, type Hub } from './hub';
import { handleStripeEvent } from './payments';
import { createHealthRouter, type Lifecycle } from './health';
import { genericErrorHandler, notFoundHandler } from './http/error-handler';
import './http/express-types';
import { requestContext } from './http/request-context';
import { createSessionMiddleware, type SessionMiddleware } from './http/session';
import { createMetricsRouter, httpMetrics } from './metrics';
import type { Deps } from './shared/deps';
import { createStripeWebhookRouter } from './stripe/webhook-routes';

export interface AppHandle {
  app: Express;
  lifecycle: Lifecycle;
  session: SessionMiddleware;
}

/** Builds the HTTP application from its dependencies; listening is main.ts's job (tests use supertest). */
export function createApp(deps: Deps, options: { sessionCleanupIntervalMs?: number; hub?: Hub } = {}): AppHandle {
  const app = express();
  const lifecycle: Lifecycle = { shuttingDown: false };
  const session = createSessionMiddleware(deps.db, deps.config, deps.logger, { cleanupIntervalMs: options.sessionCleanupIntervalMs });

  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Answers are API answers and redirects, never cached pages: no ETag hashed over each body.
  app.set('etag', false);
  app.set('trust proxy', deps.config.trustProxy);
  app.use(requestContext(deps.logger));
  // Before the request metrics: scrapes are not the traffic they measure.
  app.use(createMetricsRouter(deps.metrics, deps.config.metrics.token));
  app.use(httpMetrics(deps.metrics));
  // The routers' paths do not overlap; BillRun's, the busiest, comes first so its calls are not
  // matched against the others' routes on the way (a router costs each request that passes it).
  app.use(createBillrunRouter(deps, session.handler));
  app.use(createHealthRouter(deps, lifecycle));
  const observers = options.hub ? [hubStripeEventObserver(options.hub)] : [];
  app.use(
    createStripeWebhookRouter(
      deps,
      (stripeAccount, event) => handleStripeEvent(deps, stripeAccount, event, observers),
      options.hub ? vendorWebhookDoors(options.hub) : undefined,
    ),
  );
  app.use(createAuthenticationRouter(deps));
  if (options.hub) app.use(createHubRouter(options.hub));
  app.use(createConsoleRouter(deps, { hub: options.hub }));
  app.use(notFoundHandler);
  app.use(genericErrorHandler);
  return { app, lifecycle, session };
}
