/**
 * The HTTP server: /v1 (auth, faults, parameter checks, idempotency, handlers, expand, request
 * log), /_emulator (test control) and /c (hosted pages).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { apiRoutes } from './resources';
import type { ApiRoute } from './api-routes';
import { handleControl, parseControlBody } from './control-routes';
import { createCore, type CompleteOptions, type EmulatorCore } from './emulator-core';
import { applyExpand, checkExpandPaths } from './expand';
import { parseForm, parseQuery, type FormValue } from './form-parser';
import { handleHostedPage } from './hosted-pages';
import { newId } from './ids';
import { moveHostedUrls } from './persistence';
import { validateParams } from './params';
import { maskSensitive } from './request-log';
import { expandChargeField } from './resources/charges';
import { EmulatorApiError, apiError, connectOnly, idempotencyInFlight, idempotencyMismatch, invalidRequest, rateLimited } from './stripe-errors';
import type { AccountOption, Emulator, EmulatorOptions, FaultSpec, LoggedRequest } from './types';

/** The version stripe-node 23 pins; echoed when a request names none. */
export const DEFAULT_API_VERSION = '2026-10-28.endive';
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_FAULT_MS = 30_000;

interface CompiledRoute {
  route: ApiRoute;
  pattern: RegExp;
  names: string[];
}

function compile(routes: readonly ApiRoute[]): CompiledRoute[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(seg.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { route, pattern: new RegExp(`^${source}$`), names };
  });
}

function matchRoute(routes: CompiledRoute[], method: string, path: string): { route: ApiRoute; path: Record<string, string> } | undefined {
  for (const c of routes) {
    if (c.route.method !== method) continue;
    const m = c.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1]);
    });
    return { route: c.route, path: params };
  }
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(invalidRequest('Request body too large.', {}, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number | undefined): Promise<void> {
  return ms ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const core = createCore(opts);
  const routes = compile(apiRoutes);
  const sockets = new Set<Socket>();
  const hangTimers = new Set<NodeJS.Timeout>();
  const log = (msg: string, fields?: Record<string, unknown>) => opts.log?.(msg, fields);

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log('emulator internal error', { error: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) sendJson(res, 500, apiError().envelope());
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId.request();
    res.setHeader('Request-Id', requestId);
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof EmulatorApiError && !res.headersSent) sendJson(res, err.status, err.envelope());
      return;
    }
    const path = url.pathname;
    if (path.startsWith('/v1/')) return handleApi(req, res, method, url, body, requestId);
    if (path.startsWith('/_emulator/')) {
      let fields: Record<string, unknown>;
      try {
        fields = parseControlBody(body, header(req, 'content-type'));
      } catch (err) {
        if (err instanceof EmulatorApiError) return sendJson(res, err.status, err.envelope());
        throw err;
      }
      const answer = await handleControl(core, { method, pathname: path, fields, authorization: header(req, 'authorization') });
      if (method !== 'GET') core.changed();
      if (answer) return sendJson(res, answer.status, answer.body);
      return sendJson(res, 404, invalidRequest(`Unrecognized emulator control URL (${method}: ${path}).`, {}, 404).envelope());
    }
    if (path.startsWith('/c/')) {
      const answer = handleHostedPage(core, method, path, url.searchParams, method === 'POST' ? parseForm(body) : {});
      if (method === 'POST') core.changed();
      if (answer) {
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('X-Frame-Options', 'DENY');
        res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
        if ('location' in answer) {
          res.writeHead(303, { Location: answer.location }).end();
        } else {
          res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8' }).end(answer.html);
        }
        return;
      }
    }
    if (path === '/' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Stripe emulator — sandbox, no real money. API at /v1.\n');
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, url: URL, body: string, requestId: string): Promise<void> {
    const path = url.pathname;
    const rawParams: Record<string, FormValue> = { ...parseQuery(url.search), ...(method === 'POST' ? parseForm(body) : {}) };
    const idempotencyKey = method === 'POST' ? header(req, 'idempotency-key') : undefined;
    const stripeVersion = header(req, 'stripe-version');
    const entry: LoggedRequest = core.requestLog.add({
      method,
      path,
      params: maskSensitive(rawParams) as Record<string, unknown>,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      ...(stripeVersion !== undefined ? { stripeVersion } : {}),
      status: 0,
      replayed: false,
      at: Date.now(),
    });
    const baseHeaders: Record<string, string> = {
      'Stripe-Version': stripeVersion ?? DEFAULT_API_VERSION,
      ...(idempotencyKey !== undefined ? { 'Idempotency-Key': idempotencyKey } : {}),
    };
    const answer = (status: number, payload: object | string, extra: Record<string, string> = {}) => {
      entry.status = status;
      log('request', { method, path, status, requestId, idempotencyKey, account: entry.account, replayed: entry.replayed, fault: entry.fault });
      sendJson(res, status, payload, { ...baseHeaders, ...extra });
    };

    const account = core.accounts.authenticate(header(req, 'authorization'));
    if (account instanceof EmulatorApiError) {
      return answer(401, account.envelope(), { 'WWW-Authenticate': 'Bearer realm="Stripe"' });
    }
    entry.account = account.id;
    // Stripe-Account acts on a connected account: only Connect platforms may, and no emulated account is one.
    const onBehalfOf = header(req, 'stripe-account');
    if (onBehalfOf !== undefined && onBehalfOf !== account.id) return answer(403, connectOnly().envelope());

    const fault = core.faults.take(method, path, account.id);
    if (fault) entry.fault = fault.type;
    if (fault?.type === 'timeout') return hang(req, fault, entry);
    if (fault?.type === 'error_500') {
      await delay(fault.delayMs);
      return answer(500, apiError('An unknown error occurred (emulator fault: error_500).').envelope());
    }
    if (fault?.type === 'rate_limit_429') {
      await delay(fault.delayMs);
      return answer(429, rateLimited().envelope());
    }
    const dropAfterActing = fault?.type === 'drop_after_acting';

    const finish = (status: number, payload: object | string, extra: Record<string, string> = {}) => {
      if (!dropAfterActing) return answer(status, payload, extra);
      entry.status = status;
      log('request', { method, path, status, requestId, idempotencyKey, account: entry.account, fault: entry.fault, dropped: true });
      req.socket.destroy();
    };

    const matched = matchRoute(routes, method, path);
    if (!matched) {
      return finish(
        404,
        invalidRequest(
          `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          {},
          404,
        ).envelope(),
      );
    }
    const { route } = matched;

    // Parameter errors are answered before the idempotency layer: Stripe saves no result for a
    // request that failed validation, because no endpoint began executing.
    let params: Record<string, unknown> & { expand?: string[] };
    try {
      params = validateParams(rawParams, route.params, route.required ?? []);
      if (params.expand?.length) checkExpandPaths(params.expand, route.expandable ?? [], route.list === true);
    } catch (err) {
      if (err instanceof EmulatorApiError) return finish(err.status, err.envelope());
      throw err;
    }

    if (idempotencyKey !== undefined) {
      const check = account.idempotency.begin(idempotencyKey, method, path, rawParams);
      switch (check.kind) {
        case 'mismatch':
          return finish(400, idempotencyMismatch(idempotencyKey, check.firstPath, path).envelope());
        case 'in_flight':
          return finish(409, idempotencyInFlight(idempotencyKey).envelope());
        case 'replay':
          entry.replayed = true;
          return finish(check.answer.status, check.answer.body, {
            'Idempotent-Replayed': 'true',
            'Original-Request': check.answer.requestId,
          });
        case 'new':
          break;
      }
    }

    // The key is claimed before the first await, so a duplicate arriving now sees it in flight.
    await delay(dropAfterActing ? fault?.delayMs : undefined);
    // What lapsed on the clock happened on its own, before this request: outside its context, so its events name no request.
    core.expireLapsedAuthorizations(account);
    let status: number;
    let payload: object;
    try {
      const result = await account.store.withRequest({ id: requestId, idempotencyKey: idempotencyKey ?? null }, () =>
        route.handle({
          params,
          path: matched.path,
          account,
          store: account.store,
          runtime: core.runtime,
          stripeVersion,
        }),
      );
      status = result.status ?? 200;
      payload = result.body;
      if (params.expand?.length) {
        applyExpand(
          payload as Record<string, unknown>,
          params.expand,
          (id) => account.store.serializeById(id),
          (parent, field) => expandChargeField(account.store, parent, field),
        );
      }
    } catch (err) {
      if (err instanceof EmulatorApiError) {
        status = err.status;
        payload = err.envelope();
      } else {
        log('emulator handler error', { method, path, error: err instanceof Error ? err.message : String(err) });
        status = 500;
        payload = apiError().envelope();
      }
    }
    const text = JSON.stringify(payload, null, 2);
    if (idempotencyKey !== undefined) {
      if (status >= 500) account.idempotency.abandon(idempotencyKey);
      else account.idempotency.finish(idempotencyKey, { status, body: text, requestId });
    }
    // GETs change state only through lazy expiry, which emits an event (and that schedules a save too).
    if (method !== 'GET') core.changed();
    return finish(status, text);
  }

  /** The timeout fault: no answer; the socket is destroyed after delayMs (or when the client gives up, or at close). */
  function hang(req: IncomingMessage, fault: FaultSpec, entry: LoggedRequest): void {
    entry.status = 0;
    const socket = req.socket;
    const timer = setTimeout(() => {
      hangTimers.delete(timer);
      socket.destroy();
    }, fault.delayMs ?? DEFAULT_TIMEOUT_FAULT_MS);
    hangTimers.add(timer);
    socket.once('close', () => {
      clearTimeout(timer);
      hangTimers.delete(timer);
    });
    log('request', { method: entry.method, path: entry.path, fault: 'timeout' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${displayHost(host)}:${port}`;
  core.runtime.publicUrl = (opts.publicUrl ?? url).replace(/\/+$/, '');
  if (core.restored && core.restored.publicUrl !== core.runtime.publicUrl) {
    moveHostedUrls(
      core.accounts.all().map((a) => a.store),
      core.restored.publicUrl,
      core.runtime.publicUrl,
    );
    core.changed();
  }

  return buildEmulator(core, url, port, async () => {
    core.webhooks.stop();
    for (const t of hangTimers) clearTimeout(t);
    hangTimers.clear();
    const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await closed;
    // After the server: nothing can change the state any more, so this save is the final one.
    await core.stateFile?.close();
  });
}

function sendJson(res: ServerResponse, status: number, payload: object | string, headers: Record<string, string> = {}): void {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload, null, 2);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, no-store',
    ...headers,
  });
  res.end(body);
}

function buildEmulator(core: EmulatorCore, url: string, port: number, close: () => Promise<void>): Emulator {
  /** In-process calls that change state schedule a save, also when they throw after a partial change (a decline). */
  const changing =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return fn(...args);
      } finally {
        core.changed();
      }
    };
  return {
    url,
    port,
    requests: () => core.requestLog.list(),
    clearRequests: () => core.requestLog.clear(),
    injectFault: (f) => core.faults.add(f),
    advanceClock: changing((seconds: number) => core.advanceClock(seconds)),
    now: () => core.clock.now(),
    completeCheckoutSession: changing((id: string, card: string, o?: CompleteOptions) => core.completeCheckoutSession(id, card, o)),
    cancelCheckoutSession: (id) => core.cancelCheckoutSession(id),
    authenticatePaymentIntent: changing((id: string, result: 'pass' | 'fail') =>
      core.authenticatePaymentIntent(id, checkChoice(result, ['pass', 'fail'], 'result')),
    ),
    expireAuthorization: changing((id: string) => core.expireAuthorization(id)),
    setPaymentMode: changing((mode: 'processing' | 'immediate') => {
      core.modes.payments = checkChoice(mode, ['immediate', 'processing'], 'mode');
    }),
    settlePaymentIntent: changing((id: string, outcome: 'succeeded' | 'failed') =>
      core.settlePaymentIntent(id, checkChoice(outcome, ['succeeded', 'failed'], 'outcome')),
    ),
    setRefundMode: changing((mode: 'immediate' | 'pending') => {
      core.modes.refunds = checkChoice(mode, ['immediate', 'pending'], 'mode');
    }),
    settleRefund: changing((id: string, outcome: 'succeeded' | 'failed') => core.settleRefund(id, checkChoice(outcome, ['succeeded', 'failed'], 'outcome'))),
    dashboardRefund: changing((o: Parameters<Emulator['dashboardRefund']>[0]) =>
      core.dashboardRefund({ payment_intent: o.paymentIntent, charge: o.charge, amount: o.amount, reason: o.reason }),
    ),
    payInvoice: changing((o: Parameters<Emulator['payInvoice']>[0]) => core.payInvoice(o)),
    accountId: (apiKey) => core.accounts.requireKey(apiKey).id,
    resetAccount: changing((apiKey: string) => ({ accountId: core.resetAccount(core.accounts.requireKey(apiKey)).id })),
    events: (o) => structuredClone(core.accountFor(o?.apiKey).store.events),
    addWebhookEndpoint: changing((endpointUrl: string, events?: string[], o?: AccountOption) =>
      core.addWebhookEndpoint(core.accountFor(o?.apiKey), endpointUrl, events),
    ),
    deliveries: () => core.webhooks.deliveries(),
    settleWebhooks: () => core.webhooks.settle(),
    pauseWebhooks: () => core.webhooks.pause(),
    releaseWebhooks: (opts) => core.webhooks.release(opts),
    duplicateWebhooks: (on) => core.webhooks.setDuplicate(on),
    loseWebhooks: (count, filter) => core.webhooks.lose(count, filter),
    failWebhookDeliveries: (count) => core.webhooks.failNextAttempts(count),
    redeliverEvent: (eventId) => core.redeliverEvent(eventId),
    close,
  };
}

/** In-process callers may be plain JavaScript: a wrong mode is a loud TypeError, not a silent default. */
function checkChoice<T extends string>(value: T, allowed: readonly T[], name: string): T {
  if (!allowed.includes(value)) throw new TypeError(`${name} must be one of ${allowed.join(', ')}; got ${String(value)}`);
  return value;
}
