/**
 * What a /v1 endpoint declares (method, path, parameters, expandable fields) and what its
 * handler receives. The server does auth, idempotency, faults, parameter checks and `expand`;
 * handlers only tell the resource's story.
 */
import type { AccountIdentity } from './accounts';
import type { Store } from './store';
import type { Infer, ParamSpec } from './params';
import { invalidRequest } from './stripe-errors';

export interface EmulatorRuntime {
  /** Base URL for links to hosted pages (no trailing slash). */
  readonly publicUrl: string;
  log(msg: string, fields?: Record<string, unknown>): void;
}

export interface ApiContext<P> {
  params: P;
  /** Path parameters, e.g. `{ id: 'cus_...' }` for /v1/customers/:id. */
  path: Record<string, string>;
  /** The account the request's key belongs to, and its store: handlers see nothing else. */
  account: AccountIdentity;
  store: Store;
  runtime: EmulatorRuntime;
  stripeVersion: string | undefined;
}

export interface ApiResult {
  status?: number;
  body: object;
}

export interface ApiRoute<S extends ParamSpec = ParamSpec> {
  method: 'GET' | 'POST' | 'DELETE';
  /** e.g. '/v1/customers/:id' */
  path: string;
  params: S;
  required?: readonly (keyof S & string)[];
  /** Dotted paths accepted in `expand[]`; list endpoints take them under `data.`. */
  expandable?: readonly string[];
  list?: boolean;
  handle(ctx: ApiContext<Infer<S>>): ApiResult | Promise<ApiResult>;
}

/** Keeps the parameter types of one route while letting routes of different shapes share a list. */
export function defineRoute<S extends ParamSpec>(route: ApiRoute<S>): ApiRoute {
  return route as unknown as ApiRoute;
}

export interface ListObject<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

export interface PageParams {
  limit?: number;
  starting_after?: string;
  ending_before?: string;
}

/** Stripe list semantics over items given newest first. */
export function paginate<T extends { id: string }>(items: T[], params: PageParams, url: string): ListObject<T> {
  const limit = params.limit ?? 10;
  if (limit < 1 || limit > 100) {
    throw invalidRequest(`Invalid limit: must be between 1 and 100`, { param: 'limit' });
  }
  if (params.starting_after !== undefined && params.ending_before !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', {
      code: 'parameters_exclusive',
    });
  }
  let start = 0;
  let end = items.length;
  if (params.starting_after !== undefined) {
    const i = items.findIndex((x) => x.id === params.starting_after);
    if (i === -1) throw invalidRequest(`No such object: '${params.starting_after}'`, { code: 'resource_missing', param: 'starting_after' });
    start = i + 1;
  }
  if (params.ending_before !== undefined) {
    const i = items.findIndex((x) => x.id === params.ending_before);
    if (i === -1) throw invalidRequest(`No such object: '${params.ending_before}'`, { code: 'resource_missing', param: 'ending_before' });
    end = i;
    start = Math.max(0, end - limit);
  }
  const page = items.slice(start, Math.min(end, start + limit));
  const has_more = params.ending_before !== undefined ? start > 0 : start + page.length < end;
  return { object: 'list', data: page, has_more, url };
}

/** Newest first, the order Stripe lists in. */
export function newestFirst<T extends { created: number }>(items: Iterable<T>): T[] {
  return [...items].reverse().sort((a, b) => b.created - a.created);
}
