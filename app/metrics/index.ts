export { createMetrics } from './metrics-registry';
export type { Metrics, QueueDepth, StripeWebhookResult, MerchantWebhookOutcome } from './metrics-registry';
export { httpMetrics } from './http-metrics';
export { createMetricsRouter } from './metrics-routes';
