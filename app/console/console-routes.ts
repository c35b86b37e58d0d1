import { randomUUID } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Session } from 'express-session';
import { formBody } from '../http/body-parsers';
import { resendDelivery, type Hub } from '../hub';
import { CHECK_FAILURES_ALERT, recheckRow, type RecheckTable } from '../payments';
import { isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import {
  CONSOLE_PATH,
  LOGIN_CSRF_COOKIE,
  consoleCookiesSecure,
  createConsoleSession,
  createLoginLimiter,
  newToken,
  readCookie,
  requireCsrf,
  requireOperator,
  safeNext,
  sameToken,
} from './console-auth';
import { html, page, type Html, type Layout } from './console-html';
import {
  actionsTable,
  cardSetupsTable,
  chargeBody,
  chargesTable,
  deliveriesTable,
  loginBody,
  overviewBody,
  searchBody,
  stripeEventsTable,
} from './console-pages';
import {
  findDeliveryOwner,
  listActions,
  listCardSetups,
  listCharges,
  listDeliveries,
  listStripeEvents,
  readChargeDetail,
  readOverview,
  search,
} from './console-queries';
import { authenticate, recordAction, type OperatorAction } from './operators';

const ROW_ID = /^[0-9]{1,15}$/;
const queryText = (value: unknown): string | undefined => (typeof value === 'string' && value.length <= 255 ? value : undefined);
const bodyText = (body: unknown, name: string, max: number): string => {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
};

/** Headers every console answer carries: never cached, never framed, no script at all. */
function consoleHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  });
  next();
}

const promised = (fn: (cb: (err?: unknown) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => fn((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())));

/**
 * The operator console at /console: server-rendered pages behind an operator login, its own
 * cookie in the service's session store, a CSRF token in every form.
 */
export function createConsoleRouter(deps: Deps, options: { hub?: Hub } = {}): Router {
  const router = Router();
  const session = createConsoleSession(deps);
  const limiter = createLoginLimiter();
  const secure = consoleCookiesSecure(deps);

  router.use(CONSOLE_PATH, consoleHeaders, session.handler, formBody);

  const layoutOf = (req: Request, title: string): Layout => {
    const flash = req.session.consoleFlash;
    if (flash) delete req.session.consoleFlash;
    return { title, operator: req.session.consoleOperator, csrf: req.session.consoleCsrf, flash };
  };
  const show = (req: Request, res: Response, title: string, body: Html, status = 200) =>
    res
      .status(status)
      .type('html')
      .send(page(layoutOf(req, title), body));
  /**
   * An action's outcome, shown once on the page it redirects to. Saved before the redirect:
   * express-session would send the headers first and save after, and a browser follows the
   * Location at once, reading the session before the message is in it.
   */
  const flashAndRedirect = async (req: Request, res: Response, kind: 'ok' | 'error', text: string, location: string) => {
    req.session.consoleFlash = { kind, text };
    await promised((cb) => req.session.save(cb));
    res.redirect(303, location);
  };
  const operatorOf = (req: Request): string => req.session.consoleOperator as string;
  /** What an operator did: a row in console_actions and a log line, both naming who. */
  const audit = async (req: Request, action: Omit<OperatorAction, 'operator'> & { operator?: string }) => {
    const entry = { ...action, operator: action.operator ?? operatorOf(req) };
    await recordAction(deps.db, entry, deps.clock.now());
    req.log.info({ console: entry }, `console: ${entry.operator} ${entry.action}${entry.subject ? ` ${entry.subject} ${String(entry.subjectId)}` : ''}`);
  };

  // --- login and logout ---------------------------------------------------------------------
  const loginPage = (req: Request, res: Response, status: number, message?: string, retryAfterS?: number) => {
    // Before a session exists, the form's token is matched against a cookie of its own (double submit).
    // The same token while its cookie lives, so two open login pages both work.
    const known = readCookie(req, LOGIN_CSRF_COOKIE);
    const token = known && /^[A-Za-z0-9_-]{32}$/.test(known) ? known : newToken();
    res.cookie(LOGIN_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure, path: CONSOLE_PATH, maxAge: 3600_000 });
    if (retryAfterS !== undefined) res.set('Retry-After', String(retryAfterS));
    const next = safeNext(queryText(req.query.next) ?? bodyText(req.body, 'next', 2000));
    res
      .status(status)
      .type('html')
      .send(page({ title: 'Log in' }, loginBody(token, next, message)));
  };

  router.get(`${CONSOLE_PATH}/login`, (req, res) => {
    if (req.session.consoleOperator) return res.redirect(303, CONSOLE_PATH);
    loginPage(req, res, 200);
  });

  router.post(`${CONSOLE_PATH}/login`, async (req, res) => {
    if (!sameToken(readCookie(req, LOGIN_CSRF_COOKIE), bodyText(req.body, '_csrf', 200))) {
      req.log.warn('console login refused: missing or wrong CSRF token');
      return loginPage(req, res, 403, 'The login form had expired or did not come from this page. Try again.');
    }
    const username = bodyText(req.body, 'username', 64);
    const password = bodyText(req.body, 'password', 1024);
    const now = deps.clock.now();
    const keys = [`user:${username}`, `address:${req.ip ?? 'unknown'}`];
    const wait = limiter.retryAfter(keys, now);
    if (wait !== undefined) {
      req.log.warn({ operator: username, retryAfterS: wait }, 'console login refused: too many failed attempts');
      return loginPage(req, res, 429, `Too many failed logins. Try again in ${wait} s.`, wait);
    }
    const who = await authenticate(deps.db, deps.config.console.users, username, password);
    if (!who) {
      for (const key of keys) limiter.recordFailure(key, now);
      req.log.warn({ operator: username }, 'console login failed');
      return loginPage(req, res, 401, 'Wrong operator name or password.');
    }
    limiter.reset(keys[0]);
    // A new session id at login: one planted before it is worth nothing after.
    await promised((cb) => req.session.regenerate(cb));
    req.session.consoleOperator = who;
    req.session.consoleCsrf = newToken();
    await promised((cb) => req.session.save(cb));
    res.clearCookie(LOGIN_CSRF_COOKIE, { path: CONSOLE_PATH });
    await audit(req, { operator: who, action: 'login' });
    res.redirect(303, safeNext(bodyText(req.body, 'next', 2000)));
  });

  // Everything below: a logged-in operator, and a CSRF token on every POST.
  router.use(CONSOLE_PATH, requireOperator, requireCsrf);

  router.post(`${CONSOLE_PATH}/logout`, async (req, res) => {
    await audit(req, { action: 'logout' });
    await promised((cb) => (req.session as Session).destroy(cb));
    res.clearCookie('pgw.console', { path: CONSOLE_PATH });
    res.redirect(303, `${CONSOLE_PATH}/login`);
  });

  // --- pages ----------------------------------------------------------------------------------
  router.get(CONSOLE_PATH, async (req, res) => {
    show(req, res, 'Overview', overviewBody(await readOverview(deps.db, deps.clock.now(), CHECK_FAILURES_ALERT), CHECK_FAILURES_ALERT));
  });

  router.get(`${CONSOLE_PATH}/search`, async (req, res) => {
    const q = queryText(req.query.q) ?? '';
    show(req, res, 'Search', searchBody(q, await search(deps.db, q), req.session.consoleCsrf as string));
  });

  router.get(`${CONSOLE_PATH}/charges`, async (req, res) => {
    const status = queryText(req.query.status);
    show(req, res, status ? `Charges: ${status}` : 'Charges', chargesTable(await listCharges(deps.db, status)));
  });

  router.get(`${CONSOLE_PATH}/charges/:id`, async (req, res, next) => {
    const id = String(req.params.id);
    const detail = ROW_ID.test(id) ? await readChargeDetail(deps.db, Number(id)) : undefined;
    if (!detail) return next();
    show(req, res, `Charge ${id}`, chargeBody(detail, req.session.consoleCsrf as string));
  });

  router.get(`${CONSOLE_PATH}/card-setups`, async (req, res) => {
    const state = queryText(req.query.state);
    show(req, res, state ? `Card setups: ${state}` : 'Card setups', cardSetupsTable(await listCardSetups(deps.db, state), req.session.consoleCsrf as string));
  });

  router.get(`${CONSOLE_PATH}/stripe-events`, async (req, res) => {
    show(req, res, 'Stripe events received', stripeEventsTable(await listStripeEvents(deps.db)));
  });

  router.get(`${CONSOLE_PATH}/deliveries`, async (req, res) => {
    const state = queryText(req.query.state);
    show(
      req,
      res,
      state ? `Merchant webhook deliveries: ${state}` : 'Merchant webhook deliveries',
      deliveriesTable(await listDeliveries(deps.db, state), req.session.consoleCsrf as string),
    );
  });

  router.get(`${CONSOLE_PATH}/actions`, async (req, res) => {
    show(req, res, 'Operator actions', actionsTable(await listActions(deps.db)));
  });

  // --- actions --------------------------------------------------------------------------------
  const SUBJECTS = new Map<string, { table: RecheckTable; subject: string; back: (id: number) => Promise<string> }>([
    ['charges', { table: 'charges', subject: 'charge', back: async (id) => `${CONSOLE_PATH}/charges/${id}` }],
    [
      'refunds',
      {
        table: 'refunds',
        subject: 'refund',
        back: async (id) => {
          const row = await deps.db('refunds').where({ id }).first('charge_id');
          return row ? `${CONSOLE_PATH}/charges/${String(row.charge_id)}` : CONSOLE_PATH;
        },
      },
    ],
    ['card-setups', { table: 'card_setups', subject: 'card setup', back: async () => `${CONSOLE_PATH}/card-setups` }],
  ]);
  const statusOf = async (table: RecheckTable, id: number): Promise<string | undefined> => {
    const row = await deps
      .db(table)
      .where({ id })
      .first(table === 'card_setups' ? 'state as status' : 'status');
    return row?.status as string | undefined;
  };

  router.post(`${CONSOLE_PATH}/:kind/:id/recheck`, async (req, res, next) => {
    const kind = SUBJECTS.get(String(req.params.kind));
    const rawId = String(req.params.id);
    if (!kind || !ROW_ID.test(rawId)) return next();
    const id = Number(rawId);
    const before = await statusOf(kind.table, id);
    if (before === undefined) return next();
    const back = await kind.back(id);
    try {
      // The reconciler's own look at the row: read from Stripe, applied by the same path.
      await recheckRow(deps, kind.table, id);
    } catch (err) {
      const message = isAppError(err) ? err.message : 'unexpected error';
      const errorId = randomUUID();
      req.log.warn({ err: err instanceof Error ? err.message : String(err), errorId, table: kind.table, id }, 'console re-check failed');
      await audit(req, { action: 'recheck', subject: kind.subject, subjectId: id, detail: `failed: ${message}` });
      return flashAndRedirect(
        req,
        res,
        'error',
        `Re-check of ${kind.subject} ${id} failed: ${message} (error id ${errorId}). The reconciler keeps trying.`,
        back,
      );
    }
    const after = await statusOf(kind.table, id);
    const detail = before === after ? `still ${String(after)}` : `${before} -> ${String(after)}`;
    await audit(req, { action: 'recheck', subject: kind.subject, subjectId: id, detail });
    await flashAndRedirect(req, res, 'ok', `Re-checked ${kind.subject} ${id} with Stripe: ${detail}.`, back);
  });

  router.post(`${CONSOLE_PATH}/deliveries/:id/resend`, async (req, res, next) => {
    const rawId = String(req.params.id);
    const ownerId = options.hub && ROW_ID.test(rawId) ? await findDeliveryOwner(deps.db, Number(rawId)) : undefined;
    if (!options.hub || !ownerId) return next();
    const view = await resendDelivery(options.hub, { ownerId, keyKind: 'secret' }, Number(rawId));
    await audit(req, { action: 'resend', subject: 'delivery', subjectId: view.id, detail: `${view.event_type} to ${view.url}` });
    await flashAndRedirect(
      req,
      res,
      'ok',
      `Delivery ${view.id} queued again (same webhook-id ${view.webhook_id}); it leaves within seconds.`,
      `${CONSOLE_PATH}/deliveries`,
    );
  });

  // --- no such page, errors -------------------------------------------------------------------
  router.use(CONSOLE_PATH, (req, res) => {
    show(req, res, 'Not found', html`<p>No such console page or row.</p>`, 404);
  });
  router.use(CONSOLE_PATH, (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const errorId = randomUUID();
    req.log.error({ err, errorId }, 'console page failed');
    res
      .status(500)
      .type('html')
      .send(
        page(
          { title: 'Error' },
          html`<p>Something went wrong (error id <code>${errorId}</code>, in the log).</p>
            <p><a href="/console">Back</a></p>`,
        ),
      );
  });
  return router;
}
