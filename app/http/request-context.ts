import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../shared/logger';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Capability tokens travel in some paths (the 3-D Secure link): they stay out of the log. */
const logPath = (path: string): string => path.replace(/^\/pay\/authenticate\/[^/]+/, '/pay/authenticate/[token]');

/**
 * Gives every request an id and a logger, echoes the id, and writes one access line when the
 * answer is sent. Only the path is logged: BillRun's query string carries `data` and `_sig_`.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    req.id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const reqId = req.id;
    // The request's own logger is made when a handler first logs: most requests write only the access line.
    let log: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      enumerable: true,
      get: () => (log ??= logger.child({ reqId })),
      set: (replacement: Logger) => void (log = replacement),
    });
    res.setHeader('X-Request-Id', reqId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ reqId, method: req.method, path: logPath(req.path), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
