/**
 * Parses application/x-www-form-urlencoded text with Stripe's bracket notation
 * (`metadata[k]=v`, `expand[0]=a`, `expand[]=a`, `a[b][c]=d`) into nested objects and arrays.
 *
 * A node becomes an array only when every key under it is an index (`[0]`, `[1]`, `[]`); the
 * parameter schema decides in the end (a metadata key "0" is still accepted as an object key).
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

type Node = { [key: string]: Node | string };

const PUSH = Symbol('push');

/**
 * Nodes have no prototype: `a[constructor][x]=1` must build a child named `constructor`, not
 * walk into Object and write onto it.
 */
const newNode = (): Node => Object.create(null) as Node;

export function parseForm(text: string): Record<string, FormValue> {
  const root = newNode();
  if (!text) return {};
  for (const pair of text.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    const path = splitKey(key);
    if (path.length === 0) continue;
    assign(root, path, value);
  }
  return finish(root) as Record<string, FormValue>;
}

/** Parses the query part of a URL (without the leading '?'). */
export function parseQuery(search: string): Record<string, FormValue> {
  return parseForm(search.startsWith('?') ? search.slice(1) : search);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** `a[b][0][]` -> ['a', 'b', '0', PUSH]; a malformed bracket keeps the rest as one literal segment. */
function splitKey(key: string): Array<string | typeof PUSH> {
  const open = key.indexOf('[');
  if (open <= 0) return key ? [key] : [];
  const segments: Array<string | typeof PUSH> = [key.slice(0, open)];
  let rest = key.slice(open);
  while (rest.length > 0) {
    const m = /^\[([^\]]*)\]/.exec(rest);
    if (!m) {
      segments.push(rest);
      break;
    }
    segments.push(m[1] === '' ? PUSH : m[1]);
    rest = rest.slice(m[0].length);
  }
  return segments;
}

function assign(node: Node, path: Array<string | typeof PUSH>, value: string): void {
  // A `__proto__` segment would reach Object.prototype through plain-object assignment.
  if (path.includes('__proto__')) return;
  let current = node;
  for (let i = 0; i < path.length; i++) {
    const last = i === path.length - 1;
    let seg = path[i];
    if (seg === PUSH) seg = String(nextIndex(current));
    if (last) {
      current[seg] = value;
      return;
    }
    const existing = current[seg];
    if (existing === undefined || typeof existing === 'string') {
      const child = newNode();
      current[seg] = child;
      current = child;
    } else {
      current = existing;
    }
  }
}

function nextIndex(node: Node): number {
  let n = 0;
  for (const k of Object.keys(node)) {
    if (/^\d+$/.test(k)) n = Math.max(n, Number(k) + 1);
  }
  return n;
}

function finish(node: Node | string): FormValue {
  if (typeof node === 'string') return node;
  const keys = Object.keys(node);
  const isArray = keys.length > 0 && keys.every((k) => /^\d+$/.test(k));
  if (isArray) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => finish(node[String(k)]));
  }
  const out: { [key: string]: FormValue } = {};
  for (const k of keys) out[k] = finish(node[k]);
  return out;
}
