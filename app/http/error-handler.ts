import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { isAppError, type ErrorKind } from '../shared/app-error';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  payment_failed: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  upstream_failed: 502,
};

/** Body-parser and similar errors carry the status a client mistake deserves. */
export const clientErrorStatus = (err: unknown): number | undefined => {
  const status = (err as { status?: number; type?: string }).status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
};

/**
 * The last-resort handler for routes without their own protocol (health, unknown paths):
 * never a stack trace, an error id to find the log line.
 */
export function genericErrorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (isAppError(err)) {
    res.status(STATUS_BY_KIND[err.kind]).json({ error: { type: err.kind, message: err.message } });
    return;
  }
  const clientStatus = clientErrorStatus(err);
  if (clientStatus) {
    res.status(clientStatus).json({ error: { type: 'invalid_input', message: 'The request could not be read' } });
    return;
  }
  const errorId = randomUUID();
  req.log.error({ err, errorId }, 'unhandled error');
  res.status(500).json({ error: { type: 'internal', message: 'Internal error', errorId } });
}

export function notFoundHandler(_req: Request, res: Response): void {
  res.status(404).json({ error: { type: 'not_found', message: 'No such endpoint' } });
}
