/** `expand[]`: replaces ids with the objects they name, for the paths an endpoint allows. */
import { invalidRequest } from './stripe-errors';

export type Resolver = (id: string) => Record<string, unknown> | undefined;
/** Fields that are absent unless expanded (a Charge's `refunds`): built from the parent object. */
export type FieldResolver = (parent: Record<string, unknown>, field: string) => unknown;

export function checkExpandPaths(paths: readonly string[], allowed: readonly string[], list: boolean): void {
  for (const path of paths) {
    const inner = list ? (path.startsWith('data.') ? path.slice(5) : undefined) : path;
    if (inner === undefined || !allowed.includes(inner)) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
    }
  }
}

export function applyExpand(body: Record<string, unknown>, paths: readonly string[], resolve: Resolver, resolveField: FieldResolver = () => undefined): void {
  // Shorter paths first so `setup_intent` is expanded before `setup_intent.payment_method`.
  const sorted = [...paths].sort((a, b) => a.split('.').length - b.split('.').length);
  for (const path of sorted) expandPath(body, path.split('.'), resolve, resolveField);
}

function expandPath(node: unknown, segments: string[], resolve: Resolver, resolveField: FieldResolver): void {
  if (node === null || typeof node !== 'object') return;
  const [head, ...rest] = segments;
  if (Array.isArray(node)) {
    for (const item of node) expandPath(item, segments, resolve, resolveField);
    return;
  }
  const obj = node as Record<string, unknown>;
  let value = obj[head];
  if (value === undefined) {
    const built = resolveField(obj, head);
    if (built !== undefined) {
      obj[head] = built;
      value = built;
    }
  } else if (typeof value === 'string') {
    const resolved = resolve(value);
    if (resolved !== undefined) {
      obj[head] = resolved;
      value = resolved;
    }
  }
  if (rest.length > 0) expandPath(value, rest, resolve, resolveField);
}
