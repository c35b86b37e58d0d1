import type { Request, RequestHandler } from 'express';
import type { Metrics } from './metrics-registry';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route pattern that answered (`/api/v1/transactions/:merchantRefCode`), never the URL: ids,
 * tokens and whatever a client makes up would each become a time series. A route serving several
 * named actions names the one it ran (`req.routeLabel`, from a closed list). Every router here is
 * mounted at the root, so a route's path is the whole pattern; `req.baseUrl` is not added because
 * by the time the answer is sent it may name a later layer (an error passed on), not the route.
 */
function routeOf(req: Request): string {
  if (req.routeLabel !== undefined) return req.routeLabel;
  const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/** Counts and times every request once its answer is sent (or the client went away). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      metrics.httpRequest({
        method: METHODS.has(req.method) ? req.method : 'OTHER',
        route: routeOf(req),
        status: res.writableFinished ? String(res.statusCode) : 'aborted',
        seconds: (performance.now() - started) / 1000,
      });
    });
    next();
  };
}
