import { Router } from 'express';
import { hasBearerToken } from '../http/bearer-token';
import type { Metrics } from './metrics-registry';

/**
 * `GET /metrics` in Prometheus text. With METRICS_TOKEN set it asks for
 * `Authorization: Bearer <token>` (401 otherwise); no session, no body parser, no rate limit.
 */
export function createMetricsRouter(metrics: Metrics, token: string | undefined): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (token !== undefined && !hasBearerToken(req, token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').type('text/plain').send('Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n');
      return;
    }
    const text = await metrics.registry.metrics();
    res.status(200).set('Content-Type', metrics.registry.contentType).set('Cache-Control', 'no-store').send(text);
  });
  return router;
}
