import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';
import { clientErrorStatus, STATUS_BY_KIND } from '../http/error-handler';
import { AppError, isAppError } from '../shared/app-error';

/** The Hub's envelope: `{ success, message, data }` with a real HTTP status. */
export interface Envelope<T> {
  success: boolean;
  message: string;
  data: T | null;
}

export const reply = <T>(res: Response, status: number, message: string, data: T | null): void => {
  res.status(status).json({ success: status < 400, message, data } satisfies Envelope<T>);
};

export interface FieldError {
  field: string;
  message: string;
}

/** 400 `Validation failed` naming every bad field. */
export const validationFailed = (errors: FieldError[]): AppError =>
  new AppError('invalid_input', 'Validation failed', { code: 'validation', details: { errors } });

const MESSAGES_BY_STATUS = new Map<number, string>([
  [401, 'Unauthorized'],
  [404, 'Not found'],
]);

/**
 * The Hub's error answers: a client's mistake is a 4xx with a plain message (and `errors` for
 * validation), Stripe trouble a 502, anything unexpected `500 Server went wrong` with an error id
 * that finds the log line, and nothing internal in the body.
 */
export function hubErrorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (isAppError(err)) {
    const status = err.code === 'rate_limited_here' ? 429 : STATUS_BY_KIND[err.kind];
    if (status === 429 && typeof err.details?.retryAfterS === 'number') res.set('Retry-After', String(err.details.retryAfterS));
    const errors = err.code === 'validation' ? (err.details?.errors as FieldError[]) : undefined;
    const message = status === 401 ? 'Unauthorized' : err.message;
    if (status >= 500) req.log.warn({ err: err.message, code: err.code }, 'hub request failed upstream');
    res.status(status).json({ success: false, message, data: null, ...(errors ? { errors } : {}) });
    return;
  }
  const clientStatus = clientErrorStatus(err);
  if (clientStatus) {
    const errors = clientStatus === 400 ? [{ field: 'body', message: 'The body is not valid JSON' }] : undefined;
    res.status(clientStatus).json({
      success: false,
      message: clientStatus === 400 ? 'Validation failed' : (MESSAGES_BY_STATUS.get(clientStatus) ?? 'Request refused'),
      data: null,
      ...(errors ? { errors } : {}),
    });
    return;
  }
  const errorId = randomUUID();
  req.log.error({ err, errorId }, 'hub: unhandled error');
  res.status(500).json({ success: false, message: 'Server went wrong', data: null, error_id: errorId });
}

export const hubNotFound = (_req: Request, res: Response): void => reply(res, 404, 'Not found', null);

/**
 * Validates a request's fields with its zod schema (the one the OpenAPI document is made of): 400
 * `Validation failed` names each bad field once, with its first problem. A body that is not a JSON
 * object reads as one without fields.
 */
export function parseBody<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const source = input && typeof input === 'object' && !Array.isArray(input) ? input : {};
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const errors = new Map<string, string>();
  for (const issue of result.error.issues) {
    const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    if (!errors.has(field)) errors.set(field, issue.message);
  }
  throw validationFailed([...errors].map(([field, message]) => ({ field, message })));
}

/** An absolute http(s) URL that `new URL` accepts (a regex alone lets `http://a:b:c` through). */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
