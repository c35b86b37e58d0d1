import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { authenticate } from './billrun-auth';
import { readDataParam } from './billrun-request';
import { Messages, thrownError } from './billrun-wire';

export interface AuthenticatedDataOptions {
  /**
   * `required` (the default): signed data without `_t_` is refused here, since a signature with no
   * time never expires. `checked-in-order`: the action refuses a missing `_t_` itself, at its place
   * in BillRun's validation order (getRequest: after the aid).
   */
  timestamp?: 'required' | 'checked-in-order';
}

/**
 * The first two steps of every authenticated BillRun action: read `data`, authenticate it
 * (signature or Bearer). Answers the thrown-error envelope itself and returns undefined on failure.
 */
export function readAuthenticatedData(deps: Deps, req: Request, res: Response, options: AuthenticatedDataOptions = {}): Record<string, unknown> | undefined {
  const data = readDataParam(req);
  if (!data.ok && data.reason === 'malformed') {
    res.json(thrownError('Malformed data parameter: expected a JSON object'));
    return undefined;
  }
  const auth = authenticate(req, deps.config, data.ok ? data.tree : undefined, data.ok ? data.values : undefined, deps.clock.now());
  if (!auth.ok) {
    req.log.info({ reason: auth.reason }, 'BillRun authentication failed');
    res.json(thrownError(Messages.authFailed));
    return undefined;
  }
  if (auth.via === 'signature' && options.timestamp !== 'checked-in-order' && data.ok && hasNoTimestamp(data.values)) {
    req.log.info({ reason: 'signed data without _t_' }, 'BillRun authentication failed');
    res.json(thrownError(Messages.invalidArguments));
    return undefined;
  }
  // A Bearer token with no data at all is authentic but carries nothing to act on.
  return data.ok ? data.values : {};
}

/** BillRun's own check: `_t_` absent or null is "Invalid arguments". */
export const hasNoTimestamp = (values: Record<string, unknown>): boolean => values._t_ === undefined || values._t_ === null;

export const isNumericAid = (v: unknown): boolean =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) || (typeof v === 'string' && /^[0-9]{1,15}$/.test(v) && Number(v) > 0);

/** Turns a service error into the client-safe message; unknown errors get an id for the log. */
export function clientMessage(req: Request, err: unknown): string {
  if (isAppError(err)) {
    const level = err.kind === 'upstream_failed' ? 'warn' : 'info';
    req.log[level]({ kind: err.kind, code: err.code, details: err.details, cause: err.cause instanceof Error ? err.cause.message : undefined }, err.message);
    return err.message;
  }
  const errorId = randomUUID();
  req.log.error({ err, errorId }, 'unhandled error');
  return `Internal error (id ${errorId})`;
}
