/**
 * Webhook endpoints: where events are delivered, signed with the endpoint's `whsec_` secret.
 * The secret is shown only in the create answer, as on Stripe. Delivery itself is in
 * ../webhook-delivery.ts.
 */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute } from '../api-routes';
import { newId } from '../ids';
import { listParams, mergeMetadata, p, type MetadataInput } from '../params';
import type { Store, StoredWebhookEndpoint } from '../store';
import { invalidRequest, resourceMissing } from '../stripe-errors';
import { isHttpUrl } from '../urls';

/** Stripe's cap on webhook endpoints per account in test mode. */
const MAX_ENDPOINTS = 16;

export function requireEndpointPath(store: Store, id: string): StoredWebhookEndpoint {
  const endpoint = store.webhookEndpoints.get(id);
  if (!endpoint) throw resourceMissing('webhook_endpoint', id);
  return endpoint;
}

function checkUrl(value: string): void {
  if (!isHttpUrl(value)) throw invalidRequest('Invalid URL: URL must be a valid http or https URL.', { code: 'url_invalid', param: 'url' });
}

function checkEnabledEvents(events: string[]): void {
  if (events.length === 0) throw invalidRequest('enabled_events must contain at least one event type.', { param: 'enabled_events' });
  events.forEach((e, i) => {
    if (e !== '*' && !/^[a-z_]+(\.[a-z_]+)+$/.test(e)) {
      throw invalidRequest(`Invalid enabled_events[${i}]: ${e} is not a known event type.`, { param: `enabled_events[${i}]` });
    }
  });
}

export interface EndpointInit {
  url: string;
  enabledEvents: string[];
  description?: string | null;
  metadata?: MetadataInput;
}

/** Creates an endpoint; the answer (and only the answer) carries the secret. */
export function createWebhookEndpoint(store: Store, init: EndpointInit): Stripe.WebhookEndpoint {
  checkUrl(init.url);
  checkEnabledEvents(init.enabledEvents);
  if (store.webhookEndpoints.size >= MAX_ENDPOINTS) {
    throw invalidRequest(`You have reached the maximum of ${MAX_ENDPOINTS} test webhook endpoints.`);
  }
  const api: Stripe.WebhookEndpoint = {
    id: newId.webhookEndpoint(),
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: store.now(),
    description: init.description ?? null,
    enabled_events: [...init.enabledEvents],
    livemode: false,
    metadata: mergeMetadata({}, init.metadata),
    status: 'enabled',
    url: init.url,
  };
  const secret = newId.webhookSecret();
  store.webhookEndpoints.set(api.id, { api, secret });
  return { ...structuredClone(api), secret };
}

/**
 * The in-process and control-API registration: an enabled endpoint for the same url is reused
 * (same id and secret), so a service that registers its endpoint on every start against a
 * persisted emulator keeps one endpoint. Its `enabled_events` become the ones asked for.
 */
export function registerWebhookEndpoint(store: Store, url: string, enabledEvents: string[]): { id: string; secret: string } {
  const existing = [...store.webhookEndpoints.values()].find((e) => e.api.status === 'enabled' && e.api.url === url);
  if (existing) {
    checkEnabledEvents(enabledEvents);
    existing.api.enabled_events = [...enabledEvents];
    return { id: existing.api.id, secret: existing.secret };
  }
  const endpoint = createWebhookEndpoint(store, { url, enabledEvents });
  return { id: endpoint.id, secret: endpoint.secret as string };
}

const create = defineRoute({
  method: 'POST',
  path: '/v1/webhook_endpoints',
  params: {
    url: p.string(),
    enabled_events: p.arrayOf(p.string()),
    description: p.emptyableString(),
    metadata: p.metadata(),
    api_version: p.string(),
    connect: p.boolean(),
    expand: p.expand(),
  },
  required: ['url', 'enabled_events'],
  handle: ({ store, params }) => {
    if (params.connect) throw invalidRequest('Connect webhook endpoints are not supported by the emulator yet.', { param: 'connect' });
    if (params.api_version !== undefined && params.api_version !== '2026-10-28.endive') {
      throw invalidRequest('The emulator renders events in 2026-10-28.endive only.', { param: 'api_version' });
    }
    const endpoint = createWebhookEndpoint(store, {
      url: params.url as string,
      enabledEvents: params.enabled_events as string[],
      description: params.description,
      metadata: params.metadata,
    });
    return { body: endpoint };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/webhook_endpoints/:id',
  params: { expand: p.expand() },
  handle: ({ store, path }) => ({ body: structuredClone(requireEndpointPath(store, path.id).api) }),
});

const update = defineRoute({
  method: 'POST',
  path: '/v1/webhook_endpoints/:id',
  params: {
    url: p.string(),
    enabled_events: p.arrayOf(p.string()),
    description: p.emptyableString(),
    metadata: p.metadata(),
    disabled: p.boolean(),
    expand: p.expand(),
  },
  handle: ({ store, path, params }) => {
    const endpoint = requireEndpointPath(store, path.id);
    if (params.url !== undefined) checkUrl(params.url);
    if (params.enabled_events !== undefined) checkEnabledEvents(params.enabled_events);
    if (params.url !== undefined) endpoint.api.url = params.url;
    if (params.enabled_events !== undefined) endpoint.api.enabled_events = params.enabled_events;
    if (params.description !== undefined) endpoint.api.description = params.description;
    if (params.disabled !== undefined) endpoint.api.status = params.disabled ? 'disabled' : 'enabled';
    endpoint.api.metadata = mergeMetadata(endpoint.api.metadata, params.metadata);
    return { body: structuredClone(endpoint.api) };
  },
});

const del = defineRoute({
  method: 'DELETE',
  path: '/v1/webhook_endpoints/:id',
  params: {},
  handle: ({ store, path }) => {
    const endpoint = requireEndpointPath(store, path.id);
    store.webhookEndpoints.delete(endpoint.api.id);
    return { body: { id: endpoint.api.id, object: 'webhook_endpoint', deleted: true } };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/webhook_endpoints',
  params: listParams,
  list: true,
  handle: ({ store, params }) => {
    const items = newestFirst([...store.webhookEndpoints.values()].map((e) => e.api)).map((e) => structuredClone(e));
    return { body: paginate(items, params, '/v1/webhook_endpoints') };
  },
});

export const webhookEndpointRoutes: ApiRoute[] = [create, retrieve, update, del, list];
