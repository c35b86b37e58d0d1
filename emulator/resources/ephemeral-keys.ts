/** Ephemeral keys for a customer (mobile SDKs). Stripe requires an explicit Stripe-Version. */
import { defineRoute, type ApiRoute } from '../api-routes';
import { newId } from '../ids';
import { p } from '../params';
import type { EphemeralKeyObject } from '../store';
import { invalidRequest, notSupported, resourceMissing } from '../stripe-errors';
import { requireCustomerParam } from './lookups';

const LIFETIME_SECONDS = 60 * 60;

const create = defineRoute({
  method: 'POST',
  path: '/v1/ephemeral_keys',
  params: {
    customer: p.string(),
    issuing_card: p.string(),
    nonce: p.string(),
    verification_session: p.string(),
    expand: p.expand(),
  },
  handle: ({ store, params, stripeVersion }) => {
    if (!stripeVersion) {
      throw invalidRequest('Stripe-Version header is required to create an ephemeral key.', {});
    }
    for (const other of ['issuing_card', 'nonce', 'verification_session'] as const) {
      if (params[other] !== undefined) throw notSupported(`Ephemeral keys for ${other}`, other);
    }
    if (params.customer === undefined) {
      throw invalidRequest('You must pass one of customer, issuing_card, nonce, or verification_session.', {
        code: 'parameter_missing',
        param: 'customer',
      });
    }
    const customer = requireCustomerParam(store, params.customer);
    const created = store.now();
    const key: EphemeralKeyObject = {
      id: newId.ephemeralKey(),
      object: 'ephemeral_key',
      associated_objects: [{ type: 'customer', id: customer.id }],
      created,
      expires: created + LIFETIME_SECONDS,
      livemode: false,
      secret: newId.ephemeralKeySecret(),
    };
    store.ephemeralKeys.set(key.id, key);
    return { body: structuredClone(key) };
  },
});

const del = defineRoute({
  method: 'DELETE',
  path: '/v1/ephemeral_keys/:id',
  params: { expand: p.expand() },
  handle: ({ store, path }) => {
    const key = store.ephemeralKeys.get(path.id);
    if (!key) throw resourceMissing('ephemeral_key', path.id);
    key.expires = store.now();
    const { secret: _secret, ...withoutSecret } = key;
    return { body: withoutSecret };
  },
});

export const ephemeralKeyRoutes: ApiRoute[] = [create, del];
