/** Events: every state change the emulator records, newest first, as `GET /v1/events` shows them. */
import { defineRoute, newestFirst, paginate, type ApiRoute } from '../api-routes';
import { inRange, listParams, p } from '../params';
import type { EmulatorEvent, Store } from '../store';
import { invalidRequest, resourceMissing } from '../stripe-errors';

/** `payment_intent.*` matches every payment_intent event; anything else matches exactly. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function requireEventPath(store: Store, id: string): EmulatorEvent {
  const event = store.events.find((e) => e.id === id);
  if (!event) throw resourceMissing('event', id);
  return event;
}

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/events/:id',
  params: { expand: p.expand() },
  handle: ({ store, path }) => ({ body: structuredClone(requireEventPath(store, path.id)) }),
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/events',
  params: { ...listParams, type: p.string(), types: p.arrayOf(p.string()), created: p.range(), delivery_success: p.boolean() },
  list: true,
  handle: ({ store, params }) => {
    if (params.type !== undefined && params.types !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: type, types.', { code: 'parameters_exclusive' });
    }
    if (params.types !== undefined && params.types.length > 20) {
      throw invalidRequest('You may pass at most 20 types.', { param: 'types' });
    }
    const patterns = params.types ?? (params.type !== undefined ? [params.type] : undefined);
    const items = newestFirst(store.events)
      .filter((e) => patterns === undefined || patterns.some((t) => typeMatches(t, e.type)))
      .filter((e) => inRange(e.created, params.created))
      .filter((e) => params.delivery_success === undefined || (e.pending_webhooks === 0) === params.delivery_success)
      .map((e) => structuredClone(e));
    return { body: paginate(items, params, '/v1/events') };
  },
});

export const eventRoutes: ApiRoute[] = [retrieve, list];
