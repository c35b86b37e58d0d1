/** Public types of the emulator; `index.ts` re-exports them. */

export interface EmulatorOptions {
  /** Default 0 (an ephemeral port) in-process; main.ts uses EMULATOR_PORT ?? 12111. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Base URL used in hosted-page links (session.url, next_action urls); default http://<host>:<port>. */
  publicUrl?: string;
  /**
   * The accepted secret keys, each its own Stripe account (its own acct_ id, objects, events,
   * webhook endpoints and idempotency keys). Unset: any key starting with sk_test_, each its own
   * account from its first use. Live keys are always refused. The first key's account is the
   * default one (see `AccountOption`); unset, the first key used's.
   */
  apiKey?: string | readonly string[];
  /** With `apiKey` set: other sk_test_ keys are accepted too, each its own account (the first configured key stays the default). */
  acceptOtherTestKeys?: boolean;
  /** Never receives card numbers or CVCs. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Waits before the 2nd, 3rd, ... webhook attempt; its length + 1 is the number of attempts. Default [50, 200]. */
  webhookRetryDelaysMs?: number[];
  /** How long a webhook receiver may take to answer before the attempt counts as failed. Default 10000. */
  webhookTimeoutMs?: number;
  /**
   * Keep the state in this JSON file: loaded at start when it exists, saved at most every 200 ms
   * after changes (a temp file renamed over it) and once more on close(). A corrupt, unreadable or
   * other-version file is kept as `<stateFile>.corrupt-<timestamp>` and the emulator starts empty
   * (logged via `log`, with `severity: 'warn'`). Not kept: request log, faults, webhook deliveries.
   * One emulator per file.
   */
  stateFile?: string;
}

/** One webhook delivery attempt (or a delivery lost on purpose with `loseWebhooks`). */
export interface WebhookDelivery {
  eventId: string;
  type: string;
  endpointId: string;
  /** The acct_ id of the account the endpoint (and the event) belong to. */
  account: string;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  /** The receiver's HTTP status; null when nothing was answered (network error, timeout, injected failure, lost). */
  status: number | null;
  error?: string;
  /** Wall-clock milliseconds. */
  at: number;
}

export interface ReleaseOptions {
  /** 'reverse' sends the held deliveries newest first (out of order). Default 'fifo'. */
  order?: 'fifo' | 'reverse';
  /** Every held delivery is sent twice, the copies adjacent. */
  duplicate?: boolean;
}

export interface PaymentAuthenticationResult {
  /** return_url with payment_intent, payment_intent_client_secret and redirect_status; without a return_url, the challenge page. */
  redirectUrl: string;
  paymentIntent: object;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** Parsed query and body parameters; anything that looks like a card number or a CVC is masked. */
  params: Record<string, unknown>;
  idempotencyKey?: string;
  stripeVersion?: string;
  /** HTTP status answered (or that would have been answered, for drop_after_acting); 0 when no answer was computed (timeout). */
  status: number;
  replayed: boolean;
  fault?: string;
  /** Wall-clock milliseconds at arrival. */
  at: number;
  /** The acct_ id of the account the request's key belongs to; absent when the key was refused (401). */
  account?: string;
}

export type FaultType = 'error_500' | 'timeout' | 'rate_limit_429' | 'drop_after_acting';

export interface FaultSpec {
  type: FaultType;
  /** How many matching requests the fault applies to; default 1. */
  count?: number;
  /** Only requests with this HTTP method (case-insensitive). */
  method?: string;
  /** Only requests whose /v1 path starts with this prefix, e.g. '/v1/checkout/sessions'. */
  path?: string;
  /** Only requests made with this account's key (its acct_ id, see `Emulator.accountId`). */
  account?: string;
  /**
   * timeout: how long to hang before destroying the socket (default 30000).
   * Other types: an optional delay before the fault applies; for drop_after_acting the request
   * is in flight (its idempotency key locked) during the delay.
   */
  delayMs?: number;
}

/**
 * Which account an in-process method acts on: the account of `apiKey` (an EmulatorApiError 401
 * when the emulator does not accept it). Without it, the default account: the first key of
 * `EmulatorOptions.apiKey`; with no `apiKey` configured, the account of the first key used, and
 * before any key is used an account the first key will take over.
 */
export interface AccountOption {
  apiKey?: string;
}

export interface CardSetupResult {
  redirectUrl: string;
  session: object;
}

export interface Emulator {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Only /v1 calls, every account's, in arrival order. */
  requests(): LoggedRequest[];
  clearRequests(): void;
  injectFault(f: FaultSpec): void;
  /**
   * Emulator time = real time + offset; sessions expire lazily when read past expires_at, and
   * uncaptured authorizations past their window lapse as the clock moves (and before any /v1 request).
   */
  advanceClock(seconds: number): void;
  /** Emulator unix seconds. */
  now(): number;
  // Methods that take an object id find it in whichever account holds it (ids are unique across accounts).
  /**
   * Enters `card` (a test card number or a pm_card_* / tok_* id) on the session's hosted page.
   * 3DS cards pass the challenge unless `threeDSecure: 'fail'`. Expiry defaults to 12/<year + 3>.
   * Throws an EmulatorApiError on a declined card, a failed 3DS, or a session that is not open.
   */
  completeCheckoutSession(
    id: string,
    card: string,
    opts?: { threeDSecure?: 'pass' | 'fail'; expMonth?: number; expYear?: number; cvc?: string; name?: string },
  ): CardSetupResult;
  cancelCheckoutSession(id: string): CardSetupResult;

  /** The customer's answer to the 3DS challenge of a PaymentIntent in requires_action. Throws EmulatorApiError otherwise. */
  authenticatePaymentIntent(id: string, result: 'pass' | 'fail'): PaymentAuthenticationResult;
  /**
   * The authorization of a PaymentIntent in requires_capture lapses now, as it does on its own
   * once the clock passes its charge's `capture_before` (7 days): canceled with
   * `cancellation_reason: automatic`, events charge.expired and payment_intent.canceled. Returns
   * the PaymentIntent; throws EmulatorApiError when it holds no authorization.
   */
  expireAuthorization(id: string): object;
  /** 'processing': payments that would succeed stay `processing` until settlePaymentIntent. Default 'immediate'. */
  setPaymentMode(mode: 'processing' | 'immediate'): void;
  /** Ends the `processing` state; returns the PaymentIntent. Throws EmulatorApiError when it is not processing. */
  settlePaymentIntent(id: string, outcome: 'succeeded' | 'failed'): object;
  /** 'pending': new refunds stay `pending` until settleRefund. Default 'immediate'. */
  setRefundMode(mode: 'immediate' | 'pending'): void;
  /** Ends a pending refund; returns the Refund. Throws EmulatorApiError when it is not pending. */
  settleRefund(id: string, outcome: 'succeeded' | 'failed'): object;
  /**
   * A refund made in the Stripe Dashboard (no API request, no metadata) of a PaymentIntent's or a
   * charge's succeeded payment, all of what is left without `amount`; the same checks and events
   * (refund.created, charge.refunded) as POST /v1/refunds, in the account holding it. Returns the Refund.
   */
  dashboardRefund(opts: { paymentIntent?: string; charge?: string; amount?: number; reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer' }): object;
  /**
   * An invoice of this customer was paid in Stripe Billing (outside the service): invoice.created,
   * invoice.finalized, invoice.paid and invoice.payment_succeeded in the customer's account. Returns the Invoice.
   */
  payInvoice(opts: { customer: string; amount: number; currency: string; description?: string }): object;

  /** The acct_ id of the key's account (made on first use when no apiKey is configured); EmulatorApiError 401 for a refused key. */
  accountId(apiKey: string): string;
  /**
   * "The key changed / the account was reset": every object, event, webhook endpoint (and delivery
   * still queued for it) and idempotency key of the key's account is gone, and the key now has an
   * empty account with a new acct_ id. Other accounts are untouched. EmulatorApiError 401 for a refused key.
   */
  resetAccount(apiKey: string): { accountId: string };

  /** Every event of the account recorded so far, oldest first. */
  events(options?: AccountOption): object[];
  /**
   * Registers a webhook endpoint on the account (default: all events); the secret verifies its
   * signatures. An enabled endpoint of that account with the same url is reused (same id and
   * secret, its events set to `events`). The account's events go only to its own endpoints.
   */
  addWebhookEndpoint(url: string, events?: string[], options?: AccountOption): { id: string; secret: string };
  /** Every delivery attempt so far, every account's, in order. The delivery controls below act on every account too. */
  deliveries(): WebhookDelivery[];
  /** Resolves when no delivery is queued, in flight or waiting for a retry (deliveries held by pauseWebhooks excepted). */
  settleWebhooks(): Promise<void>;
  /** Holds deliveries until releaseWebhooks. */
  pauseWebhooks(): void;
  releaseWebhooks(opts?: ReleaseOptions): void;
  /** While on, every event is delivered twice, the copies adjacent. */
  duplicateWebhooks(on: boolean): void;
  /**
   * The next `count` deliveries (of events matching `filter.type`, `payment_intent.*` allowed) are dropped: not sent,
   * not retried. Replaces an earlier call's remainder; 0 stops losing.
   */
  loseWebhooks(count: number, filter?: { type?: string }): void;
  /** The next `count` attempts fail without being sent, and are retried. Replaces an earlier call's remainder; 0 stops. */
  failWebhookDeliveries(count: number): void;
  /** Delivers an event again to every endpoint of its account that matches it. Throws EmulatorApiError for an unknown id. */
  redeliverEvent(eventId: string): void;

  /** Closes the server, destroys hanging sockets, stops webhook delivery and, with a stateFile, saves the final state. */
  close(): Promise<void>;
}
