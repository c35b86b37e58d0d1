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
    const code = err.decline_code ?? err.code ?? 'card_declined';
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
