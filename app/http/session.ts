import session from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { RequestHandler } from 'express';
import type { Config } from '../../config';
import type { Db } from '../db';
import type { Logger } from '../shared/logger';

export interface SessionMiddleware {
  handler: RequestHandler;
  /** Stops the store's cleanup timer (graceful shutdown, tests). */
  close(): void;
}

/** The browser session's cookie. */
export const SESSION_COOKIE = 'pgw.sid';

export interface SessionOptions {
  cleanupIntervalMs?: number;
  /** Another cookie for another part of the service (the operator console), in the same store. */
  cookie?: { name: string; path: string; secure: boolean; maxAgeMs: number };
}

/** Browser sessions in the database (table made by a migration), so any instance can serve OkPage. */

export function createSessionMiddleware(db: Db, config: Config, logger: Logger, options: SessionOptions = {}): SessionMiddleware {
  const store = new ConnectSessionKnexStore({
    knex: db,
    tableName: 'sessions',
    createTable: false,
    cleanupInterval: options.cleanupIntervalMs ?? 0,
  });
  // The store checks its table at construction; an unreachable database must not crash the process
  // (readiness reports it instead).
  store.ready.catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'session store not ready'));
  const cookie = options.cookie;
  const handler = session({
    name: cookie?.name ?? SESSION_COOKIE,
    secret: config.session.secret,
    store,
    resave: false,
    saveUninitialized: false,
    cookie: {
      httpOnly: true,
      // Lax: the cookie rides along on Stripe's top-level redirect back to OkPage.
      sameSite: 'lax',
      secure: cookie?.secure ?? config.session.cookieSecure,
      maxAge: cookie?.maxAgeMs ?? 24 * 3600 * 1000,
      ...(cookie ? { path: cookie.path } : {}),
    },
  });
  return {
    handler,
    close: () => {
      if (store.nextDbCleanup) clearTimeout(store.nextDbCleanup);
    },
  };
}
