import { isAppError } from '../shared/app-error';

/**
 * Whether a failed Stripe call certainly did nothing (a 4xx refusal), as opposed to an outcome we
 * do not know (timeout, connection lost, 5xx, 409, 429): only the first may be recorded as failed;
 * the second is left for the reconciler to find out.
 */
export function isDefiniteRefusal(err: unknown): boolean {
  if (!isAppError(err)) return false;
  // "Same key, other parameters": Stripe may well have acted on the first request.
  if (err.code === 'idempotency_error') return false;
  const status = err.details?.stripeStatus;
  if (typeof status !== 'number') return err.kind === 'invalid_input' || err.kind === 'payment_failed';
  return status >= 400 && status < 500 && status !== 409 && status !== 429;
}
