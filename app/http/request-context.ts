import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../shared/logger';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Capability tokens travel in some paths (the 3-D Secure link): they stay out of the log. */
const logPath = (path: string): string => path.replace(/^\/pay\/authenticate\/[^/]+/, '/pay/authenticate/[token]');

const OWN_LOGGER = Symbol('request logger');
const BASE_LOGGER = Symbol('base logger');
type WithLoggers = Request & { [OWN_LOGGER]?: Logger; [BASE_LOGGER]: Logger };

/**
 * `req.log`, the request's own logger, made when a handler first logs (most requests write only the
 * access line). It is an accessor on the app's request prototype, defined once: an accessor defined
 * on each request made V8 build a new hidden class for every one of them.
 */
const withRequestLog = new WeakSet<object>();
function defineRequestLog(prototype: object): void {
  withRequestLog.add(prototype);
  Object.defineProperty(prototype, 'log', {
    configurable: true,
    enumerable: true,
    get(this: WithLoggers): Logger {
      return (this[OWN_LOGGER] ??= this[BASE_LOGGER].child({ reqId: this.id }));
    },
    set(this: WithLoggers, replacement: Logger) {
      this[OWN_LOGGER] = replacement;
    },
  });
}

/**
 * Gives every request an id and a logger, echoes the id, and writes one access line when the
 * answer is sent. Only the path is logged: BillRun's query string carries `data` and `_sig_`.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const prototype = Object.getPrototypeOf(req) as object;
    if (!withRequestLog.has(prototype)) defineRequestLog(prototype);
    const incoming = req.get('x-request-id');
    const reqId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = reqId;
    (req as WithLoggers)[BASE_LOGGER] = logger;
    res.setHeader('X-Request-Id', reqId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({ reqId, method: req.method, path: logPath(req.path), status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
