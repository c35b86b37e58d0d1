import type { Request } from 'express';
import { type JsonNode, parseJsonTree, toPlainValue } from './php-json';

export type DataParam = { ok: true; tree: JsonNode & { kind: 'object' }; values: Record<string, unknown> } | { ok: false; reason: 'missing' | 'malformed' };

/** A request parameter from the body (POST) or the query string (GET), like PHP's `$request->get()`. */
export function param(req: Request, key: string): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && !Array.isArray(body) && Object.hasOwn(body, key)) return body[key];
  const query = req.query as Record<string, unknown>;
  const value = Object.hasOwn(query, key) ? query[key] : undefined;
  return Array.isArray(value) ? undefined : value;
}

/** A parameter that must be a plain string (numbers from JSON bodies are accepted as text). */
export function stringParam(req: Request, key: string): string | undefined {
  const v = param(req, key);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function objectNode(node: JsonNode | undefined): (JsonNode & { kind: 'object' }) | undefined {
  return node && node.kind === 'object' ? node : undefined;
}

/**
 * BillRun's `data` parameter, kept as the token-preserving tree the signature needs. It arrives as
 * JSON text in a query string or form field, or inside a JSON body either as text or as an object
 * (then it is read back out of the raw body so key order and number tokens survive).
 */
export function readDataParam(req: Request): DataParam {
  const raw = param(req, 'data');
  if (raw === undefined || raw === null || raw === '') return { ok: false, reason: 'missing' };
  let tree: (JsonNode & { kind: 'object' }) | undefined;
  try {
    if (typeof raw === 'string') {
      tree = objectNode(parseJsonTree(raw));
    } else if (typeof raw === 'object' && !Array.isArray(raw) && req.rawBody) {
      const body = parseJsonTree(req.rawBody.toString('utf8'));
      if (body.kind === 'object') {
        let found: JsonNode | undefined;
        for (const [k, v] of body.entries) if (k === 'data') found = v;
        tree = objectNode(found);
      }
    }
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!tree) return { ok: false, reason: 'malformed' };
  return { ok: true, tree, values: toPlainValue(tree) as Record<string, unknown> };
}
