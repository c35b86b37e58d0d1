import Stripe from 'stripe';

/**
 * One HTTP attempt to Stripe as seen by its client: what was asked, how it ended, how long it took.
 * Seen at the client's HTTP layer rather than through stripe-node's `request`/`response` events:
 * those events say nothing of a timeout, a refused connection or an attempt that stripe-node
 * retried, which are the calls an operator most needs to count.
 */
export interface StripeCall {
  /** Method and path with ids replaced, e.g. `POST /v1/payment_intents/:id/confirm`. */
  operation: string;
  /** `2xx`, `4xx`, `5xx` (the answer's status class), `timeout` or `connection_error`. */
  outcome: string;
  seconds: number;
}

export type StripeCallObserver = (call: StripeCall) => void;

/** Stripe's resource and action names: lower-case words and underscores. Anything else (acct_1Ab..., pi_3Xy...) is an id. */
const NAME_SEGMENT = /^[a-z][a-z_]{0,39}$/;

/** An operation name with a bounded set of values: ids and query strings never reach a label. */
export function stripeOperation(method: string, path: string): string {
  const segments = path
    .split('?')[0]
    .split('/')
    .map((segment, i) => (i === 0 || NAME_SEGMENT.test(segment) || /^v[0-9]$/.test(segment) ? segment : ':id'));
  return `${/^[A-Z]{3,7}$/.test(method) ? method : 'OTHER'} ${segments.join('/')}`;
}

const outcomeOf = (status: number): string => (status >= 200 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other');

/** stripe-node's own Node HTTP client, with every attempt reported to `observe`. */
export function observedHttpClient(observe: StripeCallObserver): Stripe.HttpClient {
  const inner = Stripe.createNodeHttpClient();
  return {
    getClientName: () => inner.getClientName(),
    makeRequest: async (host, port, path, method, headers, requestData, protocol, timeout) => {
      const started = performance.now();
      const operation = stripeOperation(method, path);
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const response = await inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
        observe({ operation, outcome: outcomeOf(response.getStatusCode()), seconds: seconds() });
        return response;
      } catch (err) {
        const timedOut = (err as { code?: unknown } | undefined)?.code === Stripe.HttpClient.TIMEOUT_ERROR_CODE;
        observe({ operation, outcome: timedOut ? 'timeout' : 'connection_error', seconds: seconds() });
        throw err;
      }
    },
  };
}
