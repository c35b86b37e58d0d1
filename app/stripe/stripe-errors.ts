import Stripe from 'stripe';
import { AppError } from '../shared/app-error';

/**
 * Turns whatever the SDK threw into one of our error kinds. The message is safe for a client;
 * Stripe's own message and request id go to the log through `cause`.
 */
export function toAppError(err: unknown, operation: string): AppError {
  if (err instanceof AppError) return err;
  if (!(err instanceof Stripe.errors.StripeError)) {
    return new AppError('upstream_failed', `Stripe ${operation} failed`, { cause: err });
  }
  const details = { stripeRequestId: err.requestId, stripeType: err.type, stripeStatus: err.statusCode };
  if (err instanceof Stripe.errors.StripeCardError) {
    // stripe-node sets decline_code to '' on a card error without one (StripeCardError's constructor), so `||`, not `??`.
    const code = err.decline_code || err.code || 'card_declined';
    return new AppError('payment_failed', err.message, { cause: err, code, details: { ...details, stripeCode: err.code } });
  }
  if (err instanceof Stripe.errors.StripeIdempotencyError) {
    return new AppError('conflict', 'A different request was already made with the same idempotency key', { cause: err, code: 'idempotency_error', details });
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
    if (err.code === 'resource_missing') {
      return new AppError('not_found', `Stripe has no such object (${operation})`, { cause: err, code: err.code, details });
    }
    if (err.code === 'amount_too_small' || err.code === 'amount_too_large') {
      return new AppError('invalid_input', err.message, { cause: err, code: err.code, details });
    }
    return new AppError('upstream_failed', `Stripe refused ${operation}`, { cause: err, code: err.code ?? 'invalid_request', details });
  }
  if (err instanceof Stripe.errors.StripeRateLimitError) {
    return new AppError('upstream_failed', 'Stripe is rate limiting requests, try again shortly', { cause: err, code: 'rate_limited', details });
  }
  if (err instanceof Stripe.errors.StripeAuthenticationError || err instanceof Stripe.errors.StripePermissionError) {
    return new AppError('upstream_failed', 'The service is not authorised at Stripe', { cause: err, code: 'stripe_auth', details });
  }
  if (err instanceof Stripe.errors.StripeConnectionError) {
    return new AppError('upstream_failed', 'Stripe could not be reached', { cause: err, code: 'stripe_unreachable', details });
  }
  return new AppError('upstream_failed', `Stripe ${operation} failed`, { cause: err, code: 'stripe_error', details });
}

/** The parameter of `POST /v1/payment_methods` a card-data error is about, by Stripe's code. */
const CARD_DATA_ERRORS = {
  incorrect_number: { field: 'number', message: 'The card number is incorrect' },
  invalid_number: { field: 'number', message: 'The card number is not a valid card number' },
  invalid_expiry_month: { field: 'exp_month', message: "The card's expiry month is invalid" },
  invalid_expiry_year: { field: 'exp_year', message: "The card's expiry year is invalid" },
  expired_card: { field: 'exp_year', message: 'The card has expired' },
  invalid_cvc: { field: 'cvc', message: "The card's security code is invalid" },
  incorrect_cvc: { field: 'cvc', message: "The card's security code is incorrect" },
} as const satisfies Record<string, { field: CardDataField; message: string }>;

export type CardDataField = 'number' | 'exp_month' | 'exp_year' | 'cvc';

// 12 to 19 digits, optionally grouped with spaces or dashes: a card number wherever it appears.
const CARD_NUMBER_LIKE = /\d(?:[ -]?\d){11,18}/g;

/** Stripe's text with card-number-like digit runs and the given CVC masked. */
function redact(text: string, cvc: string | undefined): string {
  const masked = text.replace(CARD_NUMBER_LIKE, (m) => `****${m.replace(/\D/g, '').slice(-4)}`);
  return cvc && /^\d+$/.test(cvc) ? masked.replace(new RegExp(`(?<!\\d)${cvc}(?!\\d)`, 'g'), '***') : masked;
}

/**
 * What may be logged of an error raised while sending raw card data: a fresh Error with Stripe's
 * identifiers and a masked message, never the SDK's error itself. stripe-node's StripeError does
 * not carry the request's parameters (its `raw` is the response's `error` body plus headers,
 * status and request id), but that body and any message are Stripe's text about what we sent, and
 * a number echoed there would reach the log through `cause`.
 */
export class RedactedStripeError extends Error {
  readonly type?: string;
  readonly code?: string;
  readonly declineCode?: string;
  readonly param?: string;
  readonly requestId?: string;
  readonly statusCode?: number;

  constructor(err: unknown, cvc: string | undefined) {
    const stripeErr = err instanceof Stripe.errors.StripeError ? err : undefined;
    super(redact(err instanceof Error ? err.message : String(err), cvc));
    this.name = err instanceof Error ? err.name : 'Error';
    if (stripeErr) {
      this.type = stripeErr.type;
      this.code = stripeErr.code;
      this.declineCode = stripeErr.decline_code || undefined;
      this.param = stripeErr.param;
      this.requestId = stripeErr.requestId;
      this.statusCode = stripeErr.statusCode;
    }
    // The stack names only our frames and the redacted message; a stack is not worth a leak.
    this.stack = `${this.name}: ${this.message}`;
  }
}

function cardDataField(param: string | undefined): CardDataField | undefined {
  const bare = param?.replace(/^card\[(.*)\]$/, '$1');
  return bare === 'number' || bare === 'exp_month' || bare === 'exp_year' || bare === 'cvc' ? bare : undefined;
}

/**
 * `toAppError` for a raw-card PaymentMethod creation: bad card data is the caller's `invalid_input`
 * (with the field), a decline at creation (`test_mode_live_card`, ...) stays `payment_failed`, and
 * nothing that could carry the number or CVC survives in the message, details or cause.
 */
export function cardCreationError(err: unknown, cvc: string | undefined): AppError {
  const cause = new RedactedStripeError(err, cvc);
  if (err instanceof Stripe.errors.StripeCardError) {
    const details = { stripeRequestId: err.requestId, stripeType: err.type, stripeStatus: err.statusCode, stripeCode: err.code };
    const known = err.code !== undefined && Object.hasOwn(CARD_DATA_ERRORS, err.code) ? CARD_DATA_ERRORS[err.code as keyof typeof CARD_DATA_ERRORS] : undefined;
    if (known) {
      const field = cardDataField(err.param) ?? known.field;
      return new AppError('invalid_input', known.message, { cause, code: err.code, details: { ...details, field } });
    }
    return new AppError('payment_failed', cause.message || 'The card was declined', { cause, code: err.decline_code || err.code || 'card_declined', details });
  }
  const mapped = toAppError(err, 'card payment method creation');
  return new AppError(mapped.kind, redact(mapped.message, cvc), {
    cause,
    ...(mapped.code ? { code: mapped.code } : {}),
    ...(mapped.details ? { details: mapped.details } : {}),
  });
}
