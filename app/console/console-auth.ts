import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Deps } from '../shared/deps';
import { createSessionMiddleware, type SessionMiddleware } from '../http/session';
import { createFailureLimiter, type FailureLimiter } from '../shared/failure-limiter';

declare module 'express-session' {
  interface SessionData {
    /** The console operator this browser logged in as. */
    consoleOperator?: string;
    /** The token every console form carries (a hidden field), checked on every POST. */
    consoleCsrf?: string;
    /** A message shown once, on the next page (an action's outcome). */
    consoleFlash?: { kind: 'ok' | 'error'; text: string };
  }
}

export const CONSOLE_PATH = '/console';
/** The login form's token, before there is a session: the same value in a cookie and in the form. */
export const LOGIN_CSRF_COOKIE = 'pgw.console.login';
const SESSION_MAX_AGE_MS = 8 * 3600 * 1000;

/** Secure outside development and test (and whenever the public URL is https). */
export const consoleCookiesSecure = (deps: Pick<Deps, 'config'>): boolean => deps.config.session.cookieSecure || deps.config.nodeEnv === 'production';

/** The console's own cookie (path /console) in the service's session store. */
export function createConsoleSession(deps: Deps): SessionMiddleware {
  return createSessionMiddleware(deps.db, deps.config, deps.logger, {
    cookie: { name: 'pgw.console', path: CONSOLE_PATH, secure: consoleCookiesSecure(deps), maxAgeMs: SESSION_MAX_AGE_MS },
  });
}

export const newToken = (): string => randomBytes(24).toString('base64url');

/** Equal tokens, in time that does not tell how much of a guess was right. */
export function sameToken(expected: string | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || typeof given !== 'string' || expected.length === 0) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One cookie of the request's Cookie header (no parser needed for one name). */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const FORBIDDEN_PAGE = (text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Refused · console</title></head><body><h1>Refused</h1><p>${text}</p><p><a href="/console">Back to the console</a></p></body></html>`;

/** Pages of a logged-in operator only: anyone else is sent to the login (with where they were going). */
export const requireOperator: RequestHandler = (req, res, next) => {
  if (req.session?.consoleOperator) return next();
  const target = req.method === 'GET' ? req.originalUrl : CONSOLE_PATH;
  res.redirect(303, `${CONSOLE_PATH}/login?next=${encodeURIComponent(target)}`);
};

/** Every POST of a logged-in operator carries the session's token; one without it is refused (403), nothing done. */
export function requireCsrf(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'POST') return next();
  const body = req.body as Record<string, unknown> | undefined;
  if (sameToken(req.session?.consoleCsrf, body?._csrf)) return next();
  req.log.warn({ operator: req.session?.consoleOperator, path: req.path }, 'console form refused: missing or wrong CSRF token');
  res
    .status(403)
    .type('html')
    .send(FORBIDDEN_PAGE('This form was not sent from a console page of your session (missing or wrong CSRF token). Reload the page and try again.'));
}

/** Failed logins: 10 a minute per operator name and per address, then 429 until the oldest is a minute old. */
export const createLoginLimiter = (): FailureLimiter => createFailureLimiter({ maxFailures: 10, windowMs: 60_000 });

/** Where to go after logging in: only a console page of this service. */
export function safeNext(raw: unknown): string {
  if (typeof raw !== 'string') return CONSOLE_PATH;
  if (!(raw === CONSOLE_PATH || raw.startsWith(`${CONSOLE_PATH}/`) || raw.startsWith(`${CONSOLE_PATH}?`))) return CONSOLE_PATH;
  if (/[\\\r\n\t]|\/\/|\.\./.test(raw) || raw.startsWith(`${CONSOLE_PATH}/login`)) return CONSOLE_PATH;
  return raw;
}
