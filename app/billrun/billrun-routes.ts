import { createHash } from 'node:crypto';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../shared/app-error';
import { createFailureLimiter } from '../shared/failure-limiter';
import type { Deps } from '../shared/deps';
import { formBody, jsonBody } from '../http/body-parsers';
import { SESSION_COOKIE } from '../http/session';
import { clientMessage, hasNoTimestamp, isNumericAid, readAuthenticatedData } from './billrun-authenticated';
import { createPaymentActions } from './billrun-payments';
import { checkClientCredentials, issueToken } from './billrun-oauth';
import { param, stringParam } from './billrun-request';
import { cancelCardSetup, confirmCardSetup, returnUrlFor, startCardSetup, type CardSetupRequest, type HandshakeLookup } from './billrun-service';
import { isTxId } from './billrun-txid';
import {
  billrunCardExpiration,
  checkClientUrl,
  failure,
  Messages,
  phpTruthy,
  STRIPE_GATEWAY_NAME,
  success,
  thrownError,
  withDangerMessage,
} from './billrun-wire';

const MONEY_ACTIONS = new Set(['pay', 'credit']);

/**
 * Failed /oauth2/token attempts allowed per client id and per address in a minute. A real client
 * fails rarely (a rotated secret); a guesser is held to a few tries a minute, and the right secret
 * works again at most a minute after the guessing stops.
 */
const OAUTH_FAILURE_LIMIT = { maxFailures: 10, windowMs: 60_000 };

/** `StripeCheckout` or `StripeCheckout#<instance>`; bounded so it fits its column. */
const INSTANCE_NAME = /^StripeCheckout(#[A-Za-z0-9_.-]{1,64})?$/;

/**
 * Ties a redirect-flow handshake to the browser that started it: a hash of its session id, stored
 * on the handshake (so parallel getRequests from one browser cannot overwrite each other).
 */
function browserBinding(req: Request): string {
  req.session.billrunBrowser = true;
  return createHash('sha256').update(`billrun-browser:${req.sessionID}`).digest('hex');
}

/** Runs the browser session middleware now, in the middle of a handler (before anything is sent). */
const withSession = (sessionHandler: RequestHandler, req: Request, res: Response): Promise<void> =>
  new Promise((resolve, reject) => {
    void sessionHandler(req, res, (err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
  });

/** The pages a customer's browser opens, which may carry its session cookie. */
const BROWSER_PAGES = new Set(['okpage', 'failpage']);

const hasSessionCookie = (req: Request): boolean => (req.headers.cookie ?? '').includes(`${SESSION_COOKIE}=`);

const optionalText = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : undefined);

export function createBillrunRouter(deps: Deps, sessionHandler: RequestHandler): Router {
  const { config } = deps;
  const router = Router();
  const oauthFailures = createFailureLimiter(OAUTH_FAILURE_LIMIT);

  /** getRequest: BillRun's validation order and messages, then the card setup itself. */
  const getRequest = async (req: Request, res: Response): Promise<void> => {
    const v = readAuthenticatedData(deps, req, res, { timestamp: 'checked-in-order' });
    if (!v) return;
    if (!isNumericAid(v.aid)) return void res.json(thrownError(Messages.numericAid));
    if (hasNoTimestamp(v)) return void res.json(thrownError(Messages.invalidArguments));
    if (typeof v.name !== 'string' || v.name === '') return void res.json(thrownError(Messages.gatewayName));
    if (v.name.split('#')[0] !== STRIPE_GATEWAY_NAME)
      return void res.json(thrownError(`Unsupported payment gateway: only ${STRIPE_GATEWAY_NAME} is served here`));
    if (!INSTANCE_NAME.test(v.name)) return void res.json(thrownError('Invalid payment gateway instance name'));

    const iframe = phpTruthy(v.iframe);
    const requestParameters = iframe && phpTruthy(v.request_parameters);
    const flow = !iframe ? 'redirect' : requestParameters && phpTruthy(v.custom_flow) ? 'custom' : 'iframe';
    const origins = config.allowedRedirectOrigins;

    let returnUrl: string | undefined;
    if (!iframe && v.return_url !== undefined && v.return_url !== null && v.return_url !== '') {
      returnUrl = checkClientUrl(v.return_url, origins);
      // Without a usable return URL there is nowhere safe to redirect the error to.
      if (!returnUrl) return void res.json(failure('Invalid return_url: it must be an http(s) URL on an allowed origin'));
    }
    const fail = (message: string): void => {
      if (iframe) res.json(failure(message));
      else res.redirect(302, withDangerMessage(returnUrl ?? config.billrun.defaultReturnUrl, message));
    };

    let okPage: string | undefined;
    let failPage: string | undefined;
    if (iframe) {
      if (!optionalText(v.ok_page) || !optionalText(v.fail_page)) return fail(Messages.missingPages);
      okPage = checkClientUrl(v.ok_page, origins);
      failPage = checkClientUrl(v.fail_page, origins);
      if (!okPage || !failPage) return fail('Invalid ok/fail page: it must be an http(s) URL on an allowed origin');
    }

    const request: CardSetupRequest = {
      aid: Number(v.aid),
      instanceName: v.name,
      requestT: String(v._t_).slice(0, 32),
      flow,
      okPage,
      failPage,
      returnUrl,
      requestParameters,
      customer: { email: optionalText(v.email, 320), firstName: optionalText(v.firstname), lastName: optionalText(v.lastname) },
      // Only a redirect flow has a browser here: an iframe getRequest is BillRun's server, with no session.
      browserBinding: iframe ? undefined : (await withSession(sessionHandler, req, res), browserBinding(req)),
    };
    try {
      const started = await startCardSetup(deps, request);
      if (started.kind === 'custom') {
        res.json(
          success({
            url: {
              setup_intent_client_secret: started.setupIntentClientSecret,
              ephemeral_key: started.ephemeralKey,
              customer_id: started.customerId,
              txId: started.txId,
              okPage: started.okPage,
            },
          }),
        );
      } else if (!iframe) {
        res.redirect(302, started.url);
      } else if (requestParameters) {
        res.json(success({ url: { url: started.url, session_id: started.session.id, session: started.session, txId: started.txId } }));
      } else {
        res.json(success({ url: started.url }));
      }
    } catch (err) {
      fail(clientMessage(req, err));
    }
  };

  /** OkPage and failPage share parameters and answer modes. */
  const handshakePage =
    (act: (lookup: HandshakeLookup) => Promise<{ json: unknown; redirectTo: string }>) =>
    async (req: Request, res: Response): Promise<void> => {
      const txId = stringParam(req, 'txId');
      if (!txId) return void res.json(thrownError(Messages.operationFailed));
      // JSON only when `redirect` is present and PHP-falsy ("0" or ""): `redirect=false` redirects.
      const redirectParam = param(req, 'redirect');
      const jsonMode = redirectParam !== undefined && !phpTruthy(redirectParam);
      const name = stringParam(req, 'name');
      try {
        if (!isTxId(txId)) throw new AppError('not_found', 'Unknown transaction');
        // No session on a request without the cookie (see browserSession): then no browser binding either.
        const answer = await act({ txId, name, browserBinding: req.session?.billrunBrowser ? browserBinding(req) : undefined });
        if (jsonMode) res.json(answer.json);
        else res.redirect(302, answer.redirectTo);
      } catch (err) {
        const message = clientMessage(req, err);
        if (jsonMode) res.json(failure(message));
        else res.redirect(302, withDangerMessage(isTxId(txId) ? await returnUrlFor(deps, txId) : config.billrun.defaultReturnUrl, message));
      }
    };

  const okPage = handshakePage(async (lookup) => {
    const { card, handshake } = await confirmCardSetup(deps, lookup);
    const custom = handshake.flow === 'custom';
    return {
      json: success({ credit_card: custom ? null : card.fourDigits, expiration_date: custom ? null : billrunCardExpiration(card), params: [] }),
      redirectTo: handshake.returnUrl,
    };
  });

  const failPage = handshakePage(async (lookup) => {
    const handshake = await cancelCardSetup(deps, lookup);
    const message = 'The card setup was cancelled';
    return { json: failure(message), redirectTo: withDangerMessage(handshake.returnUrl, message) };
  });

  const list = async (req: Request, res: Response): Promise<void> => {
    if (!readAuthenticatedData(deps, req, res)) return;
    res.json(
      success([
        {
          name: STRIPE_GATEWAY_NAME,
          supported: true,
          image_url: '',
          title: STRIPE_GATEWAY_NAME,
          params: { secret_key: '', publishable_key: '' },
          secret_fields: ['secret_key'],
          receiver: [],
          export: [],
        },
      ]),
    );
  };

  const payments = createPaymentActions(deps);
  // A Map, not an object literal: an action named `constructor` or `__proto__` must find nothing.
  const actions = new Map<string, (req: Request, res: Response) => Promise<void> | void>([
    ['getrequest', getRequest],
    ['okpage', okPage],
    ['failpage', failPage],
    ['list', list],
    ['pay', payments.pay],
    ['credit', payments.credit],
    // Pages for trying the flow out (README): where the examples' ok_page and fail_page lead.
    ['success', (_req, res) => void res.type('text/plain').send('SUCCESS')],
    ['cancelled', (_req, res) => void res.type('text/plain').send('CANCELLED: no card was saved (the customer left the card page)')],
  ]);

  /**
   * The browser session only where a browser is: a redirect-flow getRequest (it binds the
   * handshake to the browser; getRequest runs the session itself once it knows the flow) and
   * OkPage / failPage when the request carries the session cookie. BillRun's server-to-server
   * calls (pay, credit, list, an iframe getRequest or OkPage) read and write no session row.
   */
  const browserSession: RequestHandler = (req, res, next) => {
    const action = String(req.params.action).toLowerCase();
    const wanted = BROWSER_PAGES.has(action) && hasSessionCookie(req);
    if (wanted) return sessionHandler(req, res, next);
    next();
  };

  router.all('/paymentgateways/:action', jsonBody, formBody, browserSession, async (req, res) => {
    const action = String(req.params.action).toLowerCase();
    const handler = actions.get(action);
    if (!handler) return void res.status(404).json(thrownError('Unknown action'));
    req.routeLabel = `/paymentgateways/${action}`;
    // Money moves only on POST: a signed charge in a URL would sit in proxy logs and be prefetched.
    if (MONEY_ACTIONS.has(action) && req.method !== 'POST')
      return void res
        .status(405)
        .set('Allow', 'POST')
        .json(thrownError(`${action} accepts POST only`));
    await handler(req, res);
  });

  router.post('/oauth2/token', formBody, jsonBody, (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    let clientId = stringParam(req, 'client_id');
    let clientSecret = stringParam(req, 'client_secret');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        // RFC 6749 2.3.1: both parts are form-urlencoded inside the Basic credentials.
        const decode = (s: string): string | undefined => {
          try {
            return decodeURIComponent(s.replace(/\+/g, ' '));
          } catch {
            return undefined;
          }
        };
        clientId = decode(decoded.slice(0, colon));
        clientSecret = decode(decoded.slice(colon + 1));
      }
    }
    if (stringParam(req, 'grant_type') !== 'client_credentials') {
      return void res.status(400).json({ error: 'unsupported_grant_type', error_description: 'Only grant_type=client_credentials is supported' });
    }
    const now = deps.clock.now();
    const address = `address:${req.ip ?? 'unknown'}`;
    const client = clientId ? `client:${clientId.slice(0, 200)}` : undefined;
    // Checked before the secret, so a locked-out guesser learns nothing, even from a right guess.
    const retryAfterS = oauthFailures.retryAfter(client ? [address, client] : [address], now);
    if (retryAfterS !== undefined) {
      req.log.warn({ retryAfterS }, 'OAuth client authentication refused: too many failed attempts');
      res.setHeader('Retry-After', String(retryAfterS));
      return void res.status(429).json({ error: 'too_many_attempts', error_description: `Too many failed attempts; retry in ${retryAfterS} s` });
    }
    if (!clientId || !clientSecret || !checkClientCredentials(config, clientId, clientSecret)) {
      req.log.info('OAuth client authentication failed');
      oauthFailures.recordFailure(address, now);
      if (client) oauthFailures.recordFailure(client, now);
      return void res.status(401).json({ error: 'invalid_client', error_description: 'The client credentials are invalid' });
    }
    oauthFailures.reset(address);
    res.json(issueToken(config, clientId, now));
  });

  // A body the parsers cannot read is a client mistake: BillRun's envelope, never a bare 400 page.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    // Express matches routes case-insensitively, so the path is compared the same way.
    const path = req.path.toLowerCase();
    if (path === '/oauth2/token') return void res.status(400).json({ error: 'invalid_request', error_description: 'The request body could not be read' });
    if (path.startsWith('/paymentgateways/'))
      return void res.json(thrownError(clientMessage(req, new AppError('invalid_input', 'The request body could not be read'))));
    next(err);
  });

  return router;
}
