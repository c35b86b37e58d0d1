/** Public types of the emulator; `index.ts` re-exports them. */

export interface EmulatorOptions {
  /** Default 0 (an ephemeral port) in-process; main.ts uses EMULATOR_PORT ?? 12111. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Base URL used in hosted-page links (session.url, next_action urls); default http://<host>:<port>. */
  publicUrl?: string;
  /** If set, only this exact key is accepted; otherwise any key starting with sk_test_. */
  apiKey?: string;
  /** Never receives card numbers or CVCs. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
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
  /**
   * timeout: how long to hang before destroying the socket (default 30000).
   * Other types: an optional delay before the fault applies; for drop_after_acting the request
   * is in flight (its idempotency key locked) during the delay.
   */
  delayMs?: number;
}

export interface CardSetupResult {
  redirectUrl: string;
  session: object;
}

export interface Emulator {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Only /v1 calls, in arrival order. */
  requests(): LoggedRequest[];
  clearRequests(): void;
  injectFault(f: FaultSpec): void;
  /** Emulator time = real time + offset; sessions expire lazily when read past expires_at. */
  advanceClock(seconds: number): void;
  /** Emulator unix seconds. */
  now(): number;
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
  /** Closes the server and destroys hanging sockets. */
  close(): Promise<void>;
}
