/**
 * Seeded request fuzzing for every route the service serves, shared by the fuzz test and the
 * secret-hygiene test. Everything random comes from one mulberry32 stream, so a seed names one
 * exact sequence of requests (apart from ids and timestamps the service itself makes).
 */
import request from 'supertest';
import type Stripe from 'stripe';
import { signData } from '../../app/billrun';

/** The default seed; `FUZZ_SEED=<n>` runs another sequence (the failing seed is in the test name). */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 0x5eed_2026;

/** mulberry32: tiny, fast, good enough to pick inputs, and the same on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** `[weight, value]` pairs. */
  weighted<T>(pairs: ReadonlyArray<readonly [number, T]>): T {
    const total = pairs.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of pairs) {
      r -= w;
      if (r < 0) return v;
    }
    return pairs[pairs.length - 1][1];
  }
  /** Random upper/lower case per letter: action names and paths are case-insensitive. */
  anyCase(text: string): string {
    if (this.chance(0.5)) return text;
    return [...text].map((c) => (this.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
}

export const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__'] as const;

// ---------------------------------------------------------------------------------------------
// JSON built as text, so keys such as `__proto__`, duplicate keys and odd number tokens survive
// exactly as a client could send them (a JS object literal would swallow `__proto__`).

export class Num {
  constructor(readonly raw: string) {}
}
export class Obj {
  constructor(readonly entries: Array<[string, Json]>) {}
}
/** JSON text inserted verbatim (deep nesting, broken fragments). */
export class Raw {
  constructor(readonly text: string) {}
}
export type Json = null | boolean | string | Num | Obj | Raw | Json[];

export function jsonText(value: Json): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Num) return value.raw;
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  return `[${value.map(jsonText).join(',')}]`;
}

const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number, key = 'a'): string => `{"${key}":`.repeat(depth) + '1' + '}'.repeat(depth);

/** Strings a name, id, URL or amount could be read from. */
export function fuzzString(rng: Rng): string {
  return rng.weighted<() => string>([
    [6, () => rng.pick(PROTOTYPE_NAMES)],
    [1, () => `StripeCheckout#${rng.pick(PROTOTYPE_NAMES)}`],
    [1, () => rng.pick(['', ' ', 'StripeCheckout', 'StripeCheckout#1', 'stripecheckout', 'Stripe Checkout'])],
    [
      2,
      () =>
        rng.pick([
          '\u0000',
          'a\u0000b',
          'StripeCheckout\u0000',
          '\r\n',
          'x\r\nSet-Cookie: pwned=1',
          'https://portal.example/ok\r\nLocation: https://evil.example',
          '\t\u000b\u001b[31m',
        ]),
    ],
    [2, () => rng.pick(['%00', '%zz', '%', '%E0%A4%A', '%u0000', '%%32%65', '\ud800', '\udfff\ud800', '𝄞', 'Ā'])],
    [1, () => rng.pick(['A'.repeat(5_000), 'é'.repeat(3_000), '𝄞'.repeat(1_000), '9'.repeat(400), `${'%'.repeat(2_000)}`])],
    [
      1,
      () =>
        rng.pick([
          'javascript:alert(1)',
          'http://evil.example/',
          'https://portal.example/billing/ok',
          'file:///etc/passwd',
          '//evil.example',
          'https://user:pw@portal.example/x',
          'http://[::1',
          'data:text/html,<script>alert(1)</script>',
        ]),
    ],
    [
      1,
      () =>
        rng.pick(["'; DROP TABLE charges; --", '${7*7}', '{{7*7}}', '<script>alert(1)</script>', '../../etc/passwd', '\\u0000', 'null', 'undefined', 'NaN']),
    ],
    [2, () => rng.pick(['0', '-1', '1', '13', '1e400', '19.99', '0.001', '9999999999999999999999', '-0', '0x10', '1,5', ' 20 ', '5.', '.5'])],
    [
      1,
      () => rng.pick(['pi_constructor', 'pi___proto__', 'cus_constructor', 'cs_test___proto__', 'seti_toString', 're_valueOf', 'pi_', `pi_${'x'.repeat(300)}`]),
    ],
    [1, () => rng.digits(19)],
  ])();
}

/** Any JSON value, nested at most `depth` more levels. */
export function fuzzValue(rng: Rng, depth = 2): Json {
  return rng.weighted<() => Json>([
    [8, () => fuzzString(rng)],
    [2, () => new Num(rng.pick(['0', '-1', '1', '1.5', '1e400', '-0', '12345678901234567890', '1E-7', '10.0', '4242424242', '1e3']))],
    [2, () => rng.pick([null, true, false])],
    [1, () => (depth > 0 ? Array.from({ length: rng.int(3) }, () => fuzzValue(rng, depth - 1)) : [])],
    [2, () => (depth > 0 ? fuzzObject(rng, depth - 1) : new Obj([]))],
    [1, () => new Raw(rng.pick([deepArray(rng.pick([50, 800, 5_000])), deepObject(rng.pick([50, 800, 3_000])), deepObject(200, '__proto__')]))],
  ])();
}

export function fuzzKey(rng: Rng): string {
  return rng.weighted<() => string>([
    [8, () => rng.pick(PROTOTYPE_NAMES)],
    [2, () => rng.pick(['', 'data', '_sig_', '_t_', 'aid', 'name', 'txId', '10', '0', 'polluted', 'constructor.prototype', '__proto__.polluted'])],
    [1, () => rng.pick(['\u0000', 'a\u0000b', '\r\n', 'k'.repeat(1_000), '𝄞', '%zz'])],
  ])();
}

/** An object with keys that are prototype names, often with a `polluted` payload under them. */
export function fuzzObject(rng: Rng, depth = 1): Obj {
  const entries: Array<[string, Json]> = [];
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const key = fuzzKey(rng);
    const value = rng.chance(0.4) ? pollutionPayload(rng) : fuzzValue(rng, depth);
    entries.push([key, value]);
  }
  return new Obj(entries);
}

/** What a prototype-pollution attempt puts under `__proto__` or `constructor`. */
function pollutionPayload(rng: Rng): Json {
  return rng.pick<Json>([
    new Obj([['polluted', 'yes']]),
    new Obj([['prototype', new Obj([['polluted', 'yes']])]]),
    new Obj([
      ['toString', 'polluted'],
      ['valueOf', new Num('1')],
    ]),
    new Obj([['__proto__', new Obj([['polluted', 'yes']])]]),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Requests

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
export type RouteKind = 'billrun' | 'oauth' | 'webhook' | 'authentication' | 'health' | 'unknown';

export interface FuzzRequest {
  kind: RouteKind;
  method: Method;
  /** Path and query exactly as sent (already percent-encoded, or deliberately not). */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The BillRun action segment as sent (billrun requests only). */
  action?: string;
}

/** The things of the service under test that make inputs valid: secrets, ids, live objects. */
export interface FuzzTargets {
  billrunSecret: string;
  webhookSecret: string;
  oauthClient: { client_id: string; client_secret: string };
  bearerToken?: string;
  /** Accounts; the first ones have saved cards. */
  aids: number[];
  txIds: string[];
  paymentIntentIds: string[];
  authTokens: string[];
  /** Signs webhook bodies the way Stripe does (stripe.webhooks.generateTestHeaderString). */
  signWebhook: Stripe['webhooks']['generateTestHeaderString'];
  now: () => Date;
}

const METHODS: ReadonlyArray<readonly [number, Method]> = [
  [35, 'GET'],
  [35, 'POST'],
  [10, 'PUT'],
  [10, 'DELETE'],
  [10, 'PATCH'],
];

export const BILLRUN_ACTIONS = ['getRequest', 'OkPage', 'failPage', 'list', 'pay', 'credit', 'success'] as const;
const DATA_ACTIONS = new Set(['getrequest', 'list', 'pay', 'credit']);

const seconds = (d: Date): string => String(Math.floor(d.getTime() / 1000));
let sequence = 0;
const unique = (rng: Rng): string => `${rng.digits(6)}-${++sequence}`;

/** The valid `data` of an action, to be mutated: the closer to valid, the deeper an input gets. */
function baselineData(rng: Rng, action: string, t: FuzzTargets): Obj {
  const ts: Json = seconds(t.now());
  switch (action) {
    case 'pay':
      return new Obj([
        ['aid', rng.chance(0.7) ? new Num(String(rng.pick(t.aids))) : String(rng.pick(t.aids))],
        ['amount', rng.pick<Json>(['19.99', '5', '0.49', '100000000', '1e3', new Num('20'), '1.999', '600'])],
        ['currency', rng.pick<Json>(['USD', 'JPY', 'usd', 'XXX', ...PROTOTYPE_NAMES])],
        ['reference', `fuzz-${unique(rng)}`],
        ['_t_', ts],
      ]);
    case 'credit':
      return new Obj([
        ['transaction_id', rng.pick<Json>([...t.paymentIntentIds, 'pi_unknown123', ...PROTOTYPE_NAMES])],
        ['amount', rng.pick<Json>(['1.00', '0.01', '1000000', null, ''])],
        ['reference', `fuzz-refund-${unique(rng)}`],
        ['_t_', ts],
      ]);
    case 'list':
      return new Obj([['_t_', ts]]);
    default: {
      const entries: Array<[string, Json]> = [
        ['iframe', rng.pick<Json>([true, true, false, new Num('1'), '0'])],
        ['aid', new Num(String(rng.pick(t.aids)))],
        ['name', rng.pick(['StripeCheckout', 'StripeCheckout', 'StripeCheckout#2'])],
        ['type', 'account'],
        ['_t_', ts],
        ['ok_page', 'https://portal.example/billing/ok'],
        ['fail_page', 'https://portal.example/billing/fail'],
      ];
      if (rng.chance(0.3)) entries.push(['request_parameters', true]);
      if (rng.chance(0.15)) entries.push(['custom_flow', true]);
      if (rng.chance(0.2)) entries.push(['return_url', 'https://billrun.example/return?x=1']);
      if (rng.chance(0.2)) entries.push(['email', 'fuzz@example.com'], ['firstname', 'Fu'], ['lastname', 'Zz']);
      return new Obj(entries);
    }
  }
}

/** `data` as text: valid and signed, mutated and signed, unsigned, wrongly signed, or not an object at all. */
function fuzzData(rng: Rng, action: string, t: FuzzTargets): string {
  if (rng.chance(0.12)) {
    return rng.pick([
      'not json',
      '{"aid":',
      '[]',
      'null',
      '"StripeCheckout"',
      '123',
      'true',
      '{}',
      '{"aid":1}\u0000',
      '\u0000',
      deepArray(rng.pick([100, 3_000, 20_000])),
      deepObject(rng.pick([100, 2_000, 8_000])),
      `{"a":"${'A'.repeat(60_000)}"}`,
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
    ]);
  }
  const base = baselineData(rng, DATA_ACTIONS.has(action) ? action : rng.pick(['getrequest', 'pay', 'credit', 'list']), t);
  const entries = base.entries.filter(() => !rng.chance(0.05));
  for (const entry of entries) if (rng.chance(0.15)) entry[1] = fuzzValue(rng);
  const extra = rng.chance(0.5) ? 1 + rng.int(3) : 0;
  for (let i = 0; i < extra; i++) entries.splice(rng.int(entries.length + 1), 0, [fuzzKey(rng), rng.chance(0.4) ? pollutionPayload(rng) : fuzzValue(rng)]);
  const text = jsonText(new Obj(entries));
  const how = rng.weighted<'signed' | 'wrong' | 'unsigned' | 'odd-sig'>([
    [65, 'signed'],
    [10, 'wrong'],
    [15, 'unsigned'],
    [10, 'odd-sig'],
  ]);
  try {
    if (how === 'signed') return signData(text, t.billrunSecret);
    if (how === 'wrong') return signData(text, 'not-the-shared-secret');
  } catch {
    // Too deep or otherwise unsignable: it goes out unsigned, which is also worth sending.
  }
  if (how === 'odd-sig')
    return `${text.slice(0, -1)}${entries.length ? ',' : ''}"_sig_":${jsonText(rng.pick<Json>([new Num('123'), null, [], new Obj([]), ...PROTOTYPE_NAMES, 'A'.repeat(128)]))}}`;
  return text;
}

type Param = [key: string, value: string];

/** encodeURIComponent, except that a lone surrogate goes out as the invalid UTF-8 a sloppy client would send. */
function pct(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return Array.from(text, (c) => (/^[\ud800-\udfff]$/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

/** Query string or form body; now and then a value goes out not encoded (`%zz`, a bare `%`). */
function urlEncoded(rng: Rng, params: Param[]): string {
  return params
    .map(([k, v]) => {
      // Only printable ASCII can go out unencoded: Node refuses anything else in a request path.
      const bare = (text: string, strip: RegExp): string | undefined => {
        const left = text.replace(strip, '');
        return /^[\x21-\x7e]*$/.test(left) ? left : undefined;
      };
      const key = (rng.chance(0.05) ? bare(k, /[&#=\s]/g) : undefined) ?? pct(k);
      const value = (rng.chance(0.04) ? bare(v, /[&#\s]/g) : undefined) ?? pct(v);
      return `${key}=${value}`;
    })
    .join('&');
}

const MAX_QUERY = 6_000;
const pathQuery = (path: string, query: string): string => (query ? `${path}?${query.length > MAX_QUERY ? query.slice(0, MAX_QUERY) : query}` : path);

/** Header names such as `__proto__` must become real entries, not a prototype change. */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
}

interface Transport {
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Sends parameters the ways clients do (and do not): query, form, JSON with `data` as text or object, broken bodies. */
function transport(rng: Rng, method: Method, path: string, params: Param[], dataIsJson: boolean): Transport {
  const query = urlEncoded(rng, params);
  // Node answers 431 itself to a request line over 16 KB (often resetting the connection while the
  // client still writes): long inputs go in the body, where the service's own limits apply.
  const inQuery = query.length <= MAX_QUERY && (method === 'GET' ? rng.chance(0.95) : rng.chance(0.15));
  if (inQuery) {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (method !== 'GET' && rng.chance(0.3)) {
      headers['Content-Type'] = rng.pick(['application/json', 'application/x-www-form-urlencoded']);
      body = rng.pick(['', 'null', '{', '[]', '{"data":null}']);
    }
    return { path: pathQuery(path, query), headers, body };
  }
  const style = rng.weighted<string>([
    [40, 'form'],
    [25, 'json-text'],
    [15, 'json-object'],
    [20, 'odd'],
  ]);
  switch (style) {
    case 'form':
      return {
        path,
        headers: { 'Content-Type': rng.pick(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8']) },
        body: urlEncoded(rng, params),
      };
    case 'json-text':
    case 'json-object': {
      const entries: Array<[string, Json]> = params.map(([k, v]) => [k, style === 'json-object' && k === 'data' && dataIsJson ? new Raw(v) : v]);
      if (rng.chance(0.2)) entries.push([rng.pick(['data', 'txId', 'name', ...PROTOTYPE_NAMES]), fuzzValue(rng)]);
      return {
        path,
        headers: { 'Content-Type': rng.pick(['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json']) },
        body: jsonText(new Obj(entries)),
      };
    }
    default: {
      const odd = rng.pick([
        () => ({ headers: { 'Content-Type': 'application/json' }, body: 'null' }),
        () => ({ headers: { 'Content-Type': 'application/json' }, body: '' }),
        () => ({ headers: { 'Content-Type': 'application/json' }, body: '{"data":' }),
        () => ({ headers: { 'Content-Type': 'application/json' }, body: `[${jsonText(new Obj(params.map(([k, v]) => [k, v])))}]` }),
        () => ({ headers: { 'Content-Type': 'application/json' }, body: '"just a string"' }),
        () => ({ headers: { 'Content-Type': 'application/json' }, body: deepArray(rng.pick([1_000, 20_000])) }),
        () => ({ headers: { 'Content-Type': 'application/json' }, body: `{"data":"${'A'.repeat(120_000)}"}` }),
        () => ({ headers: { 'Content-Type': 'application/json; charset=utf-16' }, body: '{"data":"{}"}' }),
        () => ({ headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=koi8-r' }, body: urlEncoded(rng, params) }),
        () => ({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Array.from({ length: 300 }, (_, i) => `k${i}=v`).join('&') }),
        () => ({ headers: { 'Content-Type': 'text/plain' }, body: urlEncoded(rng, params) }),
        () => ({ headers: { 'Content-Type': 'multipart/form-data' }, body: urlEncoded(rng, params) }),
        () => ({ headers: { 'Content-Type': 'application/xml' }, body: '<data>constructor</data>' }),
        () => ({ headers: { 'Content-Type': rng.pick(PROTOTYPE_NAMES) }, body: urlEncoded(rng, params) }),
        () => ({ headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: '{"data":"x"}' }),
        () => ({ headers: { 'Content-Type': 'application/json', 'Content-Encoding': rng.pick(PROTOTYPE_NAMES) }, body: '{"data":"x"}' }),
        () => ({ headers: {}, body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]) }),
      ])();
      return { path, ...odd };
    }
  }
}

/** Headers a name or credential is read from, with prototype names and junk in them. */
function fuzzHeaders(rng: Rng, t: FuzzTargets): Record<string, string> {
  const headers: Record<string, string> = {};
  if (rng.chance(0.3)) {
    headers.Authorization = rng.pick([
      ...(t.bearerToken ? [`Bearer ${t.bearerToken}`, `Bearer ${t.bearerToken}`, `bearer ${t.bearerToken}`, `Bearer ${t.bearerToken}x`] : []),
      `Bearer ${rng.pick(PROTOTYPE_NAMES)}`,
      `Bearer billrun.${rng.pick(PROTOTYPE_NAMES)}.${rng.pick(PROTOTYPE_NAMES)}`,
      'Bearer ',
      'Bearer a.b.c',
      `Bearer ${'A'.repeat(6_000)}`,
      `Basic ${Buffer.from(`${rng.pick(PROTOTYPE_NAMES)}:${rng.pick(PROTOTYPE_NAMES)}`).toString('base64')}`,
      rng.pick(PROTOTYPE_NAMES),
    ]);
  }
  if (rng.chance(0.15)) headers['X-Request-Id'] = rng.pick([...PROTOTYPE_NAMES, 'A'.repeat(500), '../../x', 'id with spaces']);
  if (rng.chance(0.1))
    headers.Cookie = rng.pick([
      `pgw.sid=${rng.pick(PROTOTYPE_NAMES)}`,
      'pgw.sid=s%3Aconstructor.__proto__',
      `${rng.pick(PROTOTYPE_NAMES)}=1`,
      'pgw.sid=%zz',
      `pgw.sid=${'A'.repeat(3_000)}`,
    ]);
  if (rng.chance(0.1)) headers['X-Forwarded-For'] = rng.pick([...PROTOTYPE_NAMES, '203.0.113.7', '::ffff:10.0.0.1', '1.1.1.1, constructor', 'not an ip']);
  if (rng.chance(0.05)) headers['X-Forwarded-Proto'] = rng.pick([...PROTOTYPE_NAMES, 'https']);
  if (rng.chance(0.05)) headers.Accept = rng.pick([...PROTOTYPE_NAMES, 'text/html', '*/*;q=constructor']);
  if (rng.chance(0.05)) setHeader(headers, rng.pick(PROTOTYPE_NAMES), rng.pick(PROTOTYPE_NAMES));
  return headers;
}

function extraParams(rng: Rng): Param[] {
  const out: Param[] = [];
  const n = rng.chance(0.35) ? 1 + rng.int(3) : 0;
  for (let i = 0; i < n; i++) {
    out.push(
      rng.pick<() => Param>([
        () => [rng.pick(PROTOTYPE_NAMES), fuzzString(rng)],
        () => [`${rng.pick(PROTOTYPE_NAMES)}[polluted]`, 'yes'],
        () => ['constructor[prototype][polluted]', 'yes'],
        () => ['__proto__.polluted', 'yes'],
        () => [rng.pick(['data', 'txId', 'name', 'redirect']), fuzzString(rng)],
      ])(),
    );
  }
  return out;
}

function actionSegment(rng: Rng): string {
  return rng.weighted<() => string>([
    [70, () => rng.anyCase(rng.pick(BILLRUN_ACTIONS))],
    [15, () => rng.anyCase(rng.pick(PROTOTYPE_NAMES))],
    [
      15,
      () =>
        rng.pick([
          'unknown',
          'getRequests',
          '%00',
          'getRequest%00',
          '%zz',
          '%',
          'get%52equest',
          'a%2Fb',
          '%2e%2e',
          '..%2F..%2Fhealth%2Flive',
          'x'.repeat(4_000),
          '%0d%0aSet-Cookie:%20x=1',
          '%F0%9D%84%9E',
          encodeURIComponent('constructor.prototype'),
          '__proto__%00',
        ]),
    ],
  ])();
}

function billrunRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const action = actionSegment(rng);
  const method = rng.weighted(METHODS);
  let lower: string;
  try {
    lower = decodeURIComponent(action).toLowerCase();
  } catch {
    lower = action.toLowerCase();
  }
  const params: Param[] = [];
  let dataIsJson = false;
  if (lower === 'okpage' || lower === 'failpage' || rng.chance(0.1)) {
    if (rng.chance(0.9)) params.push(['name', rng.chance(0.7) ? 'StripeCheckout' : fuzzString(rng)]);
    if (rng.chance(0.92)) params.push(['txId', rng.chance(0.5) && t.txIds.length ? rng.pick(t.txIds) : rng.chance(0.3) ? rng.digits(19) : fuzzString(rng)]);
    if (rng.chance(0.7)) params.push(['redirect', rng.pick(['0', '0', '', 'false', '1', ...PROTOTYPE_NAMES])]);
    if (rng.chance(0.05)) params.push(['txId', rng.digits(19)]);
  }
  if (DATA_ACTIONS.has(lower) || !BILLRUN_ACTIONS.some((a) => a.toLowerCase() === lower) || rng.chance(0.1)) {
    if (rng.chance(0.92)) {
      params.push(['data', fuzzData(rng, lower, t)]);
      dataIsJson = true;
    }
    if (rng.chance(0.03)) params.push(['data', '{}']);
  }
  params.push(...extraParams(rng));
  if (rng.chance(0.5)) {
    for (let i = params.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [params[i], params[j]] = [params[j], params[i]];
    }
  }
  const sent = transport(rng, method, `/${rng.chance(0.1) ? rng.anyCase('paymentgateways') : 'paymentgateways'}/${action}`, params, dataIsJson);
  return { kind: 'billrun', method, action, ...sent, headers: { ...fuzzHeaders(rng, t), ...sent.headers } };
}

const EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.expired',
  'setup_intent.succeeded',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.processing',
  'payment_intent.canceled',
  'payment_intent.requires_action',
  'charge.refunded',
  'charge.failed',
  'charge.expired',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'invoice.paid',
  'customer.created',
];

function eventObject(rng: Rng, t: FuzzTargets): Json {
  const id = (): Json =>
    rng.weighted<() => Json>([
      [4, () => rng.pick([...t.paymentIntentIds, 'pi_unknown123', 'cs_test_unknown', 'seti_unknown', 're_unknown', 'ch_unknown'])],
      [3, () => rng.pick(PROTOTYPE_NAMES)],
      [1, () => fuzzValue(rng, 1)],
    ])();
  const metadata = new Obj([
    ['txId', rng.pick<Json>([...t.txIds, rng.digits(19), ...PROTOTYPE_NAMES])],
    ['billrun_aid', rng.pick<Json>([String(rng.pick(t.aids)), ...PROTOTYPE_NAMES])],
    ['charge_id', rng.pick<Json>(['1', '999999', ...PROTOTYPE_NAMES])],
  ]);
  const entries: Array<[string, Json]> = [
    ['id', id()],
    ['object', rng.pick<Json>(['payment_intent', 'checkout.session', 'setup_intent', 'charge', 'refund', ...PROTOTYPE_NAMES])],
    ['metadata', rng.chance(0.8) ? metadata : fuzzValue(rng)],
    ['payment_intent', rng.chance(0.6) ? id() : null],
    ['setup_intent', rng.chance(0.4) ? rng.pick<Json>(['seti_unknown', ...PROTOTYPE_NAMES, new Obj([['id', rng.pick(PROTOTYPE_NAMES)]])]) : null],
    ['mode', rng.pick<Json>(['setup', 'payment', ...PROTOTYPE_NAMES, new Num('1')])],
    ['status', rng.pick<Json>(['succeeded', 'requires_action', 'complete', 'failed', ...PROTOTYPE_NAMES])],
    ['customer', rng.pick<Json>(['cus_unknown', ...PROTOTYPE_NAMES, null])],
  ];
  for (const entry of entries) if (rng.chance(0.1)) entry[1] = fuzzValue(rng);
  if (rng.chance(0.4)) entries.push([fuzzKey(rng), rng.chance(0.5) ? pollutionPayload(rng) : fuzzValue(rng)]);
  return rng.chance(0.92) ? new Obj(entries.filter(() => !rng.chance(0.05))) : fuzzValue(rng);
}

/** A webhook body: an event shaped like Stripe's with fuzz in every field, or not an event at all. */
export function webhookPayload(rng: Rng, t: FuzzTargets, type?: Json): string {
  if (type === undefined && rng.chance(0.2)) {
    return rng.pick([
      'null',
      '[]',
      '{}',
      '"evt"',
      '123',
      'true',
      '',
      'not json',
      '{"id":',
      deepArray(rng.pick([1_000, 50_000])),
      deepObject(rng.pick([1_000, 20_000])),
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      `{"id":"evt_big","type":"invoice.paid","data":{"object":{"id":"${'A'.repeat(rng.chance(0.1) ? 1_100_000 : 200_000)}"}}}`,
      '{"id":"evt_x","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered"}',
    ]);
  }
  const entries: Array<[string, Json]> = [
    ['id', rng.chance(0.85) ? `evt_fuzz_${rng.digits(6)}_${++sequence}` : rng.chance(0.5) ? rng.pick(PROTOTYPE_NAMES) : fuzzValue(rng)],
    ['object', 'event'],
    ['api_version', '2025-01-01'],
    ['created', new Num(seconds(t.now()))],
    [
      'type',
      type !== undefined
        ? type
        : rng.weighted<() => Json>([
            [5, () => rng.pick(EVENT_TYPES)],
            [4, () => rng.pick(PROTOTYPE_NAMES)],
            [1, () => fuzzValue(rng)],
          ])(),
    ],
    [
      'data',
      rng.chance(0.92)
        ? new Obj([['object', eventObject(rng, t)], ...(rng.chance(0.2) ? [[fuzzKey(rng), fuzzValue(rng)] as [string, Json]] : [])])
        : fuzzValue(rng),
    ],
    ['livemode', false],
  ];
  if (rng.chance(0.3)) entries.splice(rng.int(entries.length + 1), 0, [fuzzKey(rng), rng.chance(0.5) ? pollutionPayload(rng) : fuzzValue(rng)]);
  return jsonText(new Obj(entries.filter(([k]) => k === 'type' || !rng.chance(0.04))));
}

/** A Stripe-Signature header: right, wrong secret, stale, malformed, or none. */
export function webhookSignature(rng: Rng, t: FuzzTargets, payload: string): string | undefined {
  const how = rng.weighted<string>([
    [65, 'right'],
    [8, 'wrong'],
    [8, 'none'],
    [12, 'malformed'],
    [7, 'stale'],
  ]);
  const timestamp = Math.floor(t.now().getTime() / 1000);
  switch (how) {
    case 'right':
      return t.signWebhook({ payload, secret: t.webhookSecret, timestamp });
    case 'wrong':
      return t.signWebhook({ payload, secret: 'whsec_not_ours', timestamp });
    case 'stale':
      return t.signWebhook({ payload, secret: t.webhookSecret, timestamp: timestamp - 3_600 });
    case 'none':
      return undefined;
    default:
      return rng.pick([
        rng.pick(PROTOTYPE_NAMES),
        `t=${rng.pick(PROTOTYPE_NAMES)},v1=${rng.pick(PROTOTYPE_NAMES)}`,
        `t=${timestamp},v1=`,
        `t=${timestamp},${rng.pick(PROTOTYPE_NAMES)}=${'0'.repeat(64)}`,
        't=,v1=,v0=',
        `t=${'9'.repeat(400)},v1=${'f'.repeat(64)}`,
        `${'A'.repeat(7_000)}`,
        ',,,,=,=',
      ]);
  }
}

function webhookRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const method = rng.chance(0.88) ? 'POST' : rng.weighted(METHODS);
  const path = rng.pick(['/webhooks/stripe', '/api/v1/hook/stripe', rng.anyCase('/webhooks/stripe'), rng.anyCase('/api/v1/hook/stripe')]);
  const payload = webhookPayload(rng, t);
  const signature = webhookSignature(rng, t, payload);
  const headers: Record<string, string> = { ...(rng.chance(0.3) ? fuzzHeaders(rng, t) : {}) };
  if (signature !== undefined) headers['Stripe-Signature'] = signature;
  const ct = rng.weighted<string | undefined>([
    [80, 'application/json; charset=utf-8'],
    [5, 'application/json'],
    [5, 'text/plain'],
    [5, undefined],
    [5, rng.pick(['application/x-www-form-urlencoded', ...PROTOTYPE_NAMES])],
  ]);
  if (ct) headers['Content-Type'] = ct;
  const query = rng.chance(0.1) ? urlEncoded(rng, extraParams(rng)) : '';
  return { kind: 'webhook', method, path: pathQuery(path, query), headers, body: payload };
}

function oauthRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const method = rng.chance(0.85) ? 'POST' : rng.weighted(METHODS);
  const path = rng.chance(0.8) ? '/oauth2/token' : rng.anyCase('/oauth2/token');
  // Wrong secrets for the real client id stay rare: ten a minute lock that client out (by design),
  // and the rest of the run would then never reach a token.
  const credentials = rng.weighted<'valid' | 'wrong-secret' | 'fuzz'>([
    [35, 'valid'],
    [3, 'wrong-secret'],
    [62, 'fuzz'],
  ]);
  const params: Param[] = [];
  if (rng.chance(0.95)) params.push(['grant_type', rng.chance(0.75) ? 'client_credentials' : fuzzString(rng)]);
  const id = credentials === 'fuzz' ? fuzzString(rng) : t.oauthClient.client_id;
  const secret = credentials === 'valid' ? t.oauthClient.client_secret : fuzzString(rng);
  const headers: Record<string, string> = { ...(rng.chance(0.2) ? fuzzHeaders(rng, t) : {}) };
  if (rng.chance(0.2)) {
    headers.Authorization = rng.pick([
      `Basic ${Buffer.from(`${pct(id)}:${pct(secret)}`).toString('base64')}`,
      `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
      `Basic ${Buffer.from('%zz:%zz').toString('base64')}`,
      `Basic ${Buffer.from(rng.pick(PROTOTYPE_NAMES)).toString('base64')}`,
      `Basic ${rng.pick(PROTOTYPE_NAMES)}`,
      'Basic ',
    ]);
  } else {
    if (rng.chance(0.95)) params.push(['client_id', id]);
    if (rng.chance(0.95)) params.push(['client_secret', secret]);
  }
  params.push(...extraParams(rng));
  const sent = transport(rng, method, path, params, false);
  // Failed attempts are limited per address: the fuzz comes from many, as a real attack would.
  const forwarded: Record<string, string> = rng.chance(0.9) ? { 'X-Forwarded-For': `198.51.${rng.int(256)}.${rng.int(256)}` } : {};
  return { kind: 'oauth', method, path: sent.path, headers: { ...headers, ...forwarded, ...sent.headers }, body: sent.body };
}

function authenticationRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const token = rng.weighted<() => string>([
    [3, () => (t.authTokens.length ? rng.pick(t.authTokens) : 'no-token')],
    [3, () => rng.pick(PROTOTYPE_NAMES)],
    [
      3,
      () =>
        rng.pick([
          '%00',
          'x%00',
          '%zz',
          '%',
          '%0d%0a',
          encodeURIComponent('\r\nLocation: https://evil.example'),
          'A'.repeat(3_000),
          'a'.repeat(32),
          `${'_'.repeat(31)}-`,
          '%F0%9D%84%9E',
          '%C0%AF',
          '%ED%A0%80',
          "'%20OR%201=1--",
          '..%2F..%2F',
          '%2F',
          'not-a-real-token',
        ]),
    ],
  ])();
  const sub = rng.weighted<string>([
    [6, ''],
    [3, '/return'],
    [1, '/constructor'],
  ]);
  const method =
    sub === '/return'
      ? rng.chance(0.85)
        ? 'GET'
        : rng.weighted(METHODS)
      : rng.weighted<Method>([
          [45, 'GET'],
          [40, 'POST'],
          [5, 'PUT'],
          [5, 'DELETE'],
          [5, 'PATCH'],
        ]);
  const query = rng.chance(0.3) ? urlEncoded(rng, [['payment_intent', rng.pick([...t.paymentIntentIds, ...PROTOTYPE_NAMES])], ...extraParams(rng)]) : '';
  const path = pathQuery(`/${rng.chance(0.1) ? rng.anyCase('pay/authenticate') : 'pay/authenticate'}/${token}${sub}`, query);
  const headers = rng.chance(0.3) ? fuzzHeaders(rng, t) : {};
  const body = method !== 'GET' && rng.chance(0.3) ? rng.pick(['null', '{"__proto__":{"polluted":"yes"}}', 'constructor=1']) : undefined;
  if (body !== undefined) headers['Content-Type'] = rng.pick(['application/json', 'application/x-www-form-urlencoded']);
  return { kind: 'authentication', method, path, headers, body };
}

function healthRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const method = rng.chance(0.7) ? 'GET' : rng.weighted(METHODS);
  const path = rng.pick([
    '/health/live',
    '/health/ready',
    '/health/live',
    `/health/${rng.pick(PROTOTYPE_NAMES)}`,
    '/health/%00',
    '/health/%zz',
    rng.anyCase('/health/live'),
  ]);
  const query = rng.chance(0.2) ? urlEncoded(rng, extraParams(rng)) : '';
  return { kind: 'health', method, path: pathQuery(path, query), headers: rng.chance(0.2) ? fuzzHeaders(rng, t) : {} };
}

const UNKNOWN_PATHS = [
  '/',
  '/unknown',
  '/paymentgateways',
  '/paymentgateways/getRequest/extra',
  '/paymentgateways/a%2Fb/c',
  '/api/v1/hook',
  '/webhooks',
  '/oauth2',
  '/oauth2/token/x',
  '/health',
  '/pay/authenticate',
  '/pay/authenticate/a/b/c',
  '/constructor',
  '/__proto__',
  '/prototype/toString',
  '/hasOwnProperty',
  '/%00',
  '/%zz',
  '/..%2F..%2Fetc%2Fpasswd',
  '/.env',
  `/${'a'.repeat(3_000)}`,
  '/%F0%9D%84%9E',
];

function unknownRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  const method = rng.weighted(METHODS);
  const query = rng.chance(0.3) ? urlEncoded(rng, [['data', fuzzData(rng, 'getrequest', t)], ...extraParams(rng)]) : '';
  const body = method !== 'GET' && rng.chance(0.3) ? rng.pick(['null', '{"__proto__":{"polluted":"yes"}}', '{']) : undefined;
  return {
    kind: 'unknown',
    method,
    path: pathQuery(rng.pick(UNKNOWN_PATHS), query),
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    body,
  };
}

/** One request to any route; the mix leans to the routes that read the most input. */
export function fuzzRequest(rng: Rng, t: FuzzTargets): FuzzRequest {
  return rng.weighted<(rng: Rng, t: FuzzTargets) => FuzzRequest>([
    [45, billrunRequest],
    [20, webhookRequest],
    [10, oauthRequest],
    [10, authenticationRequest],
    [5, healthRequest],
    [10, unknownRequest],
  ])(rng, t);
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

export type FuzzAnswer = { status: number; contentType: string; location?: string; text: string; ms: number } | { error: string; ms: number };

export const ANSWER_TIMEOUT_MS = 5_000;

/** Sends over real HTTP to the listening app (a hanging request is then closed with the server). */
export async function sendFuzzRequest(baseUrl: string, r: FuzzRequest): Promise<FuzzAnswer> {
  const started = Date.now();
  const agent = request(baseUrl);
  const verb = { GET: agent.get, POST: agent.post, PUT: agent.put, DELETE: agent.delete, PATCH: agent.patch }[r.method].bind(agent);
  let test = verb(r.path)
    .redirects(0)
    .ok(() => true)
    .timeout({ response: ANSWER_TIMEOUT_MS, deadline: ANSWER_TIMEOUT_MS * 2 })
    // The raw text, whatever the content type says: judging the body is our job.
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err: Error) => done(err, undefined));
    });
  for (const [k, v] of Object.entries(r.headers)) test = test.set(k, v);
  if (r.body !== undefined) test = test.send(r.body as string);
  try {
    const res = await test;
    return {
      status: res.status,
      contentType: String(res.headers['content-type'] ?? ''),
      location: res.headers.location as string | undefined,
      text: String(res.body ?? ''),
      ms: Date.now() - started,
    };
  } catch (err) {
    const e = err as { timeout?: number; code?: string; message?: string };
    return { error: e.timeout ? `no answer within ${e.timeout} ms` : `${e.code ?? ''} ${e.message ?? String(err)}`.trim(), ms: Date.now() - started };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isBillrunEnvelope(body: unknown): boolean {
  if (!isObject(body)) return false;
  if (body.status === 1) return body.desc === 'success' && 'details' in body;
  if (body.status !== 0) return false;
  const thrown =
    typeof body.code === 'number' &&
    typeof body.message === 'string' &&
    isObject(body.display) &&
    typeof body.display.code === 'number' &&
    typeof body.display.desc === 'string';
  const failed = isObject(body.details) && typeof body.details.message === 'string';
  return thrown || failed;
}

const isThrownError = (body: unknown): boolean => isBillrunEnvelope(body) && isObject(body) && body.status === 0 && typeof body.code === 'number';
const isGenericError = (body: unknown): boolean =>
  isObject(body) && isObject(body.error) && typeof body.error.type === 'string' && typeof body.error.message === 'string';
const isOauthError = (body: unknown): boolean => isObject(body) && typeof body.error === 'string' && typeof body.error_description === 'string';
const isToken = (body: unknown): boolean =>
  isObject(body) && typeof body.access_token === 'string' && body.token_type === 'Bearer' && typeof body.expires_in === 'number';

const decodes = (text: string): boolean => {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
};

/** Stack frames, "Error: ... /path/file.ts", source paths: none of it belongs in an answer. */
const STACK_TRACE = [/^\s*at .+[(:]\S+:\d+/m, /\n {4}at /, /\b\w*Error: [^\n]*\.(?:ts|js)\b/, /node_modules[/\\]/, /\.(?:ts|js):\d+:\d+/];

/** The BillRun action a request names, as the router would read it (undefined: not decodable). */
export function decodedAction(r: FuzzRequest): string | undefined {
  if (r.action === undefined) return undefined;
  try {
    return decodeURIComponent(r.action).toLowerCase();
  } catch {
    return undefined;
  }
}

/** Everything wrong with one answer; empty when it is as documented. */
export function answerProblems(r: FuzzRequest, a: FuzzAnswer, forbidden: readonly string[] = []): string[] {
  if ('error' in a) return [`no answer: ${a.error}`];
  const problems: string[] = [];
  if (a.status >= 500) problems.push(`status ${a.status}`);
  for (const pattern of STACK_TRACE) if (pattern.test(a.text)) problems.push(`stack trace or source path in the body (${pattern})`);
  for (const secret of forbidden) if (secret && (a.text.includes(secret) || (a.location ?? '').includes(secret))) problems.push('a secret in the answer');
  const json = a.contentType.includes('json');
  let body: unknown;
  if (json) {
    try {
      body = JSON.parse(a.text);
    } catch {
      problems.push('JSON content type with a body that is not JSON');
    }
  }
  const bare = (): string => `status ${a.status} ${a.contentType || '(no content type)'}: not a documented answer`;
  const urlTooLong = r.path.length + Object.values(r.headers).join('').length > 8_000;
  if (a.status === 431 && urlTooLong) return problems;
  const path = r.path.split('?')[0];
  switch (r.kind) {
    case 'billrun': {
      const action = decodedAction(r);
      const known = action !== undefined && (BILLRUN_ACTIONS as readonly string[]).some((x) => x.toLowerCase() === action);
      if (a.status === 200 && action === 'success' && a.text === 'SUCCESS') break;
      if (a.status === 200 && json && isBillrunEnvelope(body)) {
        const message = isObject(body)
          ? typeof body.message === 'string'
            ? body.message
            : isObject(body.details)
              ? body.details.message
              : undefined
          : undefined;
        if (typeof message === 'string' && /^Internal error/.test(message)) problems.push(`an unhandled error behind the envelope: ${message}`);
        break;
      }
      if (a.status === 302 && a.location) break;
      if (a.status === 404 && json && isThrownError(body) && !known) break;
      if (a.status === 405 && json && isThrownError(body) && (action === 'pay' || action === 'credit') && r.method !== 'POST') break;
      problems.push(bare());
      break;
    }
    case 'oauth':
      if (r.method !== 'POST') {
        if (!(a.status === 404 && isGenericError(body))) problems.push(bare());
        break;
      }
      if (a.status === 200 && isToken(body)) break;
      if ([400, 401, 429].includes(a.status) && isOauthError(body)) break;
      problems.push(bare());
      break;
    case 'webhook':
      if (r.method !== 'POST') {
        if (!(a.status === 404 && isGenericError(body))) problems.push(bare());
        break;
      }
      if (a.status === 200 && isObject(body) && body.received === true) break;
      if ([400, 503].includes(a.status) && isObject(body) && typeof body.error === 'string') break;
      // The raw-body limit (1 MB) is enforced before the route: the last-resort client-error shape.
      if (a.status === 413 && isGenericError(body)) break;
      problems.push(bare());
      break;
    case 'authentication': {
      // Express decodes a route's parameters before it looks at the method: a token that is not
      // valid percent-encoding is a client error on any method.
      if (a.status === 400 && isGenericError(body) && !decodes(path)) break;
      const route = /^\/pay\/authenticate\/[^/]+(\/return)?$/i.exec(path);
      const served = route && (route[1] ? r.method === 'GET' : r.method === 'GET' || r.method === 'POST');
      if (!served) {
        if (!(a.status === 404 && isGenericError(body))) problems.push(bare());
        break;
      }
      if ((a.status === 200 || a.status === 404) && a.contentType.includes('text/html')) break;
      if (a.status === 303 && r.method === 'POST' && a.location) break;
      problems.push(bare());
      break;
    }
    case 'health': {
      const which = path.toLowerCase();
      if (r.method === 'GET' && which === '/health/live') {
        if (!(a.status === 200 && isObject(body) && body.status === 'ok')) problems.push(bare());
      } else if (r.method === 'GET' && which === '/health/ready') {
        if (!(a.status === 200 && isObject(body) && body.status === 'ok' && isObject(body.checks)))
          problems.push(`${bare()} (the emulator is up: /health/ready must be 200)`);
      } else if (!(a.status === 404 && isGenericError(body))) problems.push(bare());
      break;
    }
    case 'unknown':
      if (!(a.status === 404 && isGenericError(body))) problems.push(bare());
      break;
  }
  return problems;
}

const clip = (text: string, max = 240): string => {
  const shown = JSON.stringify(text);
  return shown.length > max ? `${shown.slice(0, max)}..." (${text.length} chars)` : shown;
};

/** A request as a line a human can replay. */
export function describeRequest(r: FuzzRequest): string {
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${clip(v, 120)}`)
    .join('; ');
  const body = r.body === undefined ? '' : ` body ${clip(Buffer.isBuffer(r.body) ? r.body.toString('latin1') : r.body)}`;
  return `${r.method} ${clip(r.path, 400)}${headers ? ` [${headers}]` : ''}${body}`;
}

export function describeAnswer(a: FuzzAnswer): string {
  if ('error' in a) return `${a.error} (after ${a.ms} ms)`;
  return `${a.status} ${a.contentType}${a.location ? ` Location ${clip(a.location, 200)}` : ''} ${clip(a.text, 300)} (${a.ms} ms)`;
}

export interface FuzzFailure {
  index: number;
  request: FuzzRequest;
  answer: FuzzAnswer;
  problems: string[];
}

export interface FuzzRun {
  seed: number;
  sent: number;
  failures: FuzzFailure[];
  /** Answers per route kind and status, to see the fuzz reached past the front doors. */
  tally: Map<string, number>;
  accepted: { billrunSuccess: number; webhookReceived: number; tokens: number; authenticationPages: number };
  ms: number;
}

/**
 * Generates `count` requests from `seed` and sends them `concurrency` at a time. Stops early after
 * `stopAfterFailures`, so a hang that repeats does not cost the whole run 5 s a time.
 */
export async function runFuzz(options: {
  baseUrl: string;
  targets: FuzzTargets;
  seed: number;
  count: number;
  concurrency: number;
  forbidden?: readonly string[];
  stopAfterFailures?: number;
}): Promise<FuzzRun> {
  const started = Date.now();
  const rng = new Rng(options.seed);
  const stopAfter = options.stopAfterFailures ?? Infinity;
  const run: FuzzRun = {
    seed: options.seed,
    sent: 0,
    failures: [],
    tally: new Map(),
    accepted: { billrunSuccess: 0, webhookReceived: 0, tokens: 0, authenticationPages: 0 },
    ms: 0,
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.count && run.failures.length < stopAfter) {
      const index = next++;
      // Generated just before it is sent, so signed `_t_` values are fresh.
      const r = fuzzRequest(rng, options.targets);
      const answer = await sendFuzzRequest(options.baseUrl, r);
      run.sent++;
      const key = `${r.kind} ${'error' in answer ? 'no-answer' : answer.status}`;
      run.tally.set(key, (run.tally.get(key) ?? 0) + 1);
      if (!('error' in answer)) {
        if (r.kind === 'billrun' && answer.text.startsWith('{"status":1')) run.accepted.billrunSuccess++;
        if (r.kind === 'webhook' && answer.text.startsWith('{"received":true')) run.accepted.webhookReceived++;
        if (r.kind === 'oauth' && answer.text.includes('"access_token"')) run.accepted.tokens++;
        if (r.kind === 'authentication' && answer.status === 200) run.accepted.authenticationPages++;
      }
      const problems = answerProblems(r, answer, options.forbidden);
      if (problems.length > 0) run.failures.push({ index, request: r, answer, problems });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  run.ms = Date.now() - started;
  return run;
}

/** How many failures of each kind (route and problem), then the first `max` in full, in sending order. */
export function failureReport(run: FuzzRun, max = 25): string[] {
  const groups = new Map<string, number>();
  for (const f of run.failures) {
    const key = `${f.request.kind}: ${f.problems.map((p) => p.replace(/: .*$/, '')).join('; ')}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const summary = [...groups].map(([key, n]) => `${n}x ${key}`);
  const first = [...run.failures]
    .sort((a, b) => a.index - b.index)
    .slice(0, max)
    .map((f) => `#${f.index} ${describeRequest(f.request)}\n    -> ${describeAnswer(f.answer)}\n    !! ${f.problems.join('; ')}`);
  return [...summary, ...first];
}
