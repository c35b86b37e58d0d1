/**
 * The closed set of failure kinds. Each public protocol renders them its own way
 * (BillRun: HTTP 200 envelopes; Payment Hub: real statuses) on its own router.
 */
export type ErrorKind = 'invalid_input' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'payment_failed' | 'upstream_failed';

export interface AppErrorOptions {
  cause?: unknown;
  /** Machine-readable detail safe to show a client (a decline code, a field name). */
  code?: string;
  details?: Record<string, unknown>;
}

/** The only error type services throw on purpose. `message` is safe to show to a client. */
export class AppError extends Error {
  readonly code?: string;
  readonly details?: Record<string, unknown>;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.details = options.details;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;
