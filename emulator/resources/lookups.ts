/** Finding objects by id: 404 for ids in the path, 400 resource_missing for ids in parameters. */
import type Stripe from 'stripe';
import type { Store, StoredPaymentIntent, StoredSetupIntent } from '../store';
import { resourceMissing, resourceMissingParam } from '../stripe-errors';

export function liveCustomer(store: Store, id: string): Stripe.Customer | undefined {
  const c = store.customers.get(id);
  return c && !c.deleted ? c : undefined;
}

/** A customer named by a parameter (`customer=cus_...`). */
export function requireCustomerParam(store: Store, id: string, param = 'customer'): Stripe.Customer {
  const c = liveCustomer(store, id);
  if (!c) throw resourceMissingParam('customer', id, param);
  return c;
}

/** A customer named in the path (`/v1/customers/:id/...`). */
export function requireCustomerPath(store: Store, id: string): Stripe.Customer {
  const c = liveCustomer(store, id);
  if (!c) throw resourceMissing('customer', id);
  return c;
}

export function requireSetupIntentPath(store: Store, id: string): StoredSetupIntent {
  const si = store.setupIntents.get(id);
  if (!si) throw resourceMissing('setupintent', id);
  return si;
}

export function requirePaymentIntentPath(store: Store, id: string): StoredPaymentIntent {
  const pi = store.paymentIntents.get(id);
  if (!pi) throw resourceMissing('payment_intent', id);
  return pi;
}

export function serializePaymentIntent(pi: StoredPaymentIntent): Stripe.PaymentIntent {
  return structuredClone(pi.api);
}
