/**
 * BillRun's answer shapes, kept byte-for-byte in meaning (clients read `status`). Every answer is
 * HTTP 200 except redirects.
 */

/** Validation failures: BillRun throws, and its controller renders this envelope. */
export interface ThrownErrorBody {
  status: 0;
  code: number;
  message: string;
  display: { code: number; desc: string };
}

/** Failures after validation (Stripe errors, missing pages): note there is no `desc` key. */
export interface FailureBody {
  status: 0;
  details: { message: string };
}

export interface SuccessBody<T> {
  status: 1;
  desc: 'success';
  details: T;
}

export const BILLRUN_ERROR_CODE = 17577;

/** The payment gateway BillRun knows this service as (its `name`, before any `#instance`). */
export const STRIPE_GATEWAY_NAME = 'StripeCheckout';

/** A card's expiry as BillRun writes it: exp_month then exp_year, no zero padding (April 2030 -> "42030"). */
export const billrunCardExpiration = (card: { expMonth: number; expYear: number }): string => `${card.expMonth}${card.expYear}`;

export const thrownError = (message: string): ThrownErrorBody => ({
  status: 0,
  code: BILLRUN_ERROR_CODE,
  message,
  display: { code: 999, desc: 'General error.' },
});

export const failure = (message: string): FailureBody => ({ status: 0, details: { message } });

export const success = <T>(details: T): SuccessBody<T> => ({ status: 1, desc: 'success', details });

/** The messages BillRun clients already know; kept verbatim. */
export const Messages = {
  authFailed: 'Failed to authenticate',
  numericAid: 'need to pass numeric aid',
  invalidArguments: 'Invalid arguments',
  gatewayName: 'need to pass payment gateway name',
  missingPages: 'Missing ok/fail pages',
  operationFailed: 'Operation Failed. Try Again...',
} as const;

/**
 * PHP truthiness for request values: `false`, `0`, `0.0`, `""`, `"0"`, `null` and `[]` are false,
 * everything else true (so `"false"` is true, as BillRun treats it).
 */
export function phpTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value !== '' && value !== '0';
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value as object).length > 0;
  return true;
}

/**
 * Adds or replaces one query parameter and leaves every other byte of the client's URL alone
 * (`http://okpage` -> `http://okpage?txId=1`): client pages may check or sign their own query
 * string, so it is edited as text, not re-serialised.
 */
export function withQueryParam(url: string, key: string, value: string): string {
  const hashAt = url.indexOf('#');
  const fragment = hashAt >= 0 ? url.slice(hashAt) : '';
  const beforeFragment = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const queryAt = beforeFragment.indexOf('?');
  const base = queryAt >= 0 ? beforeFragment.slice(0, queryAt) : beforeFragment;
  const query = queryAt >= 0 ? beforeFragment.slice(queryAt + 1) : '';
  const nameOf = (pair: string): string => {
    const raw = pair.split('=')[0].replace(/\+/g, ' ');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  };
  const kept = query.split('&').filter((pair) => pair !== '' && nameOf(pair) !== key);
  kept.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  return `${base}?${kept.join('&')}${fragment}`;
}

/**
 * BillRun's error redirect: `message={"content":"...","type":"danger"}` appended to the return URL.
 * BillRun always appends with `&`; this uses `?` or `&` as the URL needs and encodes the value.
 */
export function withDangerMessage(url: string, message: string): string {
  return withQueryParam(url, 'message', JSON.stringify({ content: message, type: 'danger' }));
}

/** ok/fail/return pages must be http(s) and, when origins are configured, on one of them. */
export function checkClientUrl(value: unknown, allowedOrigins: readonly string[]): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined;
  // WHATWG parsing would strip a CR/LF or tab silently, and the raw text is what goes to Stripe.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password) return undefined;
  if (allowedOrigins.length > 0 && !allowedOrigins.includes(url.origin)) return undefined;
  return value;
}
