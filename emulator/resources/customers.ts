/** Customers: create, retrieve, update, delete, list. */
import type Stripe from 'stripe';
import { defineRoute, newestFirst, paginate, type ApiRoute } from '../api-routes';
import { newId, randomAlnum } from '../ids';
import { checkPreferredLocales } from '../locales';
import { listParams, mergeMetadata, p, type Infer } from '../params';
import type { Store } from '../store';
import { invalidRequest, resourceMissing } from '../stripe-errors';
import { requireCustomerPath } from './lookups';
import { attachCheckingCard, resolvePaymentMethodParam } from './payment-methods';

const address = p.emptyableObject({
  line1: p.emptyableString(),
  line2: p.emptyableString(),
  city: p.emptyableString(),
  state: p.emptyableString(),
  postal_code: p.emptyableString(),
  country: p.emptyableString(),
});

const invoiceSettings = p.object({
  default_payment_method: p.emptyableString(),
  footer: p.emptyableString(),
  custom_fields: p.opaque(),
  rendering_options: p.opaque(),
});

const writable = {
  address,
  description: p.emptyableString(),
  email: p.emptyableString(),
  name: p.emptyableString(),
  phone: p.emptyableString(),
  metadata: p.metadata(),
  preferred_locales: p.arrayOf(p.string()),
  invoice_settings: invoiceSettings,
  expand: p.expand(),
} as const;

const createParams = { ...writable, payment_method: p.string() } as const;

type AddressInput = Infer<{ a: typeof address }>['a'];

function toAddress(input: AddressInput | undefined, current: Stripe.Address | null | undefined): Stripe.Address | null {
  if (input === undefined) return current ?? null;
  if (input === null) return null;
  return {
    city: input.city ?? null,
    country: input.country ?? null,
    line1: input.line1 ?? null,
    line2: input.line2 ?? null,
    postal_code: input.postal_code ?? null,
    state: input.state ?? null,
  };
}

function checkEmail(email: string | null | undefined): void {
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw invalidRequest(`Invalid email address: ${email}`, { code: 'email_invalid', param: 'email' });
  }
}

/** default_payment_method must be a PaymentMethod attached to this customer. */
function applyDefaultPaymentMethod(store: Store, customer: Stripe.Customer, pmId: string | null | undefined): void {
  if (pmId === undefined) return;
  if (pmId === null) {
    customer.invoice_settings.default_payment_method = null;
    return;
  }
  const pm = store.paymentMethods.get(pmId);
  if (!pm) {
    throw invalidRequest(`No such PaymentMethod: '${pmId}'`, {
      code: 'resource_missing',
      param: 'invoice_settings[default_payment_method]',
    });
  }
  if (pm.api.customer !== customer.id) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`, {
      param: 'invoice_settings[default_payment_method]',
    });
  }
  customer.invoice_settings.default_payment_method = pmId;
}

const create = defineRoute({
  method: 'POST',
  path: '/v1/customers',
  params: createParams,
  expandable: ['invoice_settings.default_payment_method'],
  handle: ({ store, params }) => {
    checkEmail(params.email);
    checkPreferredLocales(params.preferred_locales);
    // Check the PaymentMethod before creating anything, so a bad id leaves no half-made customer.
    const pm = params.payment_method !== undefined ? resolvePaymentMethodParam(store, params.payment_method) : undefined;
    const defaultPm = params.invoice_settings?.default_payment_method;
    if (defaultPm && defaultPm !== pm?.api.id) {
      throw invalidRequest(`The customer does not have a payment method with the ID ${defaultPm}. The payment method must be attached to the customer.`, {
        param: 'invoice_settings[default_payment_method]',
      });
    }
    const customer: Stripe.Customer = {
      id: newId.customer(),
      object: 'customer',
      address: toAddress(params.address, null),
      balance: 0,
      created: store.now(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: params.description ?? null,
      discount: null,
      email: params.email ?? null,
      invoice_prefix: randomAlnum(8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: params.invoice_settings?.footer ?? null, rendering_options: null },
      livemode: false,
      metadata: mergeMetadata({}, params.metadata),
      name: params.name ?? null,
      next_invoice_sequence: 1,
      phone: params.phone ?? null,
      preferred_locales: params.preferred_locales ?? [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    if (pm) attachCheckingCard(store, pm, customer.id);
    store.customers.set(customer.id, customer);
    if (defaultPm) customer.invoice_settings.default_payment_method = defaultPm;
    store.emit('customer.created', customer);
    return { body: structuredClone(customer) };
  },
});

const retrieve = defineRoute({
  method: 'GET',
  path: '/v1/customers/:id',
  params: { expand: p.expand() },
  expandable: ['invoice_settings.default_payment_method'],
  handle: ({ store, path }) => {
    // A deleted customer still answers, as `{id, object, deleted: true}`.
    const customer = store.customers.get(path.id);
    if (!customer) throw resourceMissing('customer', path.id);
    return { body: structuredClone(customer) };
  },
});

const update = defineRoute({
  method: 'POST',
  path: '/v1/customers/:id',
  params: writable,
  expandable: ['invoice_settings.default_payment_method'],
  handle: ({ store, path, params }) => {
    const customer = requireCustomerPath(store, path.id);
    checkEmail(params.email);
    checkPreferredLocales(params.preferred_locales);
    applyDefaultPaymentMethod(store, customer, params.invoice_settings?.default_payment_method);
    if (params.address !== undefined) customer.address = toAddress(params.address, customer.address);
    if (params.description !== undefined) customer.description = params.description;
    if (params.email !== undefined) customer.email = params.email;
    if (params.name !== undefined) customer.name = params.name;
    if (params.phone !== undefined) customer.phone = params.phone;
    if (params.preferred_locales !== undefined) customer.preferred_locales = params.preferred_locales;
    if (params.invoice_settings?.footer !== undefined) customer.invoice_settings.footer = params.invoice_settings.footer;
    customer.metadata = mergeMetadata(customer.metadata, params.metadata);
    store.emit('customer.updated', customer);
    return { body: structuredClone(customer) };
  },
});

const del = defineRoute({
  method: 'DELETE',
  path: '/v1/customers/:id',
  params: {},
  handle: ({ store, path }) => {
    const customer = requireCustomerPath(store, path.id);
    const deleted: Stripe.DeletedCustomer = { id: customer.id, object: 'customer', deleted: true };
    store.customers.set(customer.id, deleted);
    for (const pm of store.paymentMethods.values()) {
      if (pm.api.customer === customer.id) pm.api.customer = null;
    }
    store.emit('customer.deleted', customer);
    return { body: deleted };
  },
});

const list = defineRoute({
  method: 'GET',
  path: '/v1/customers',
  params: { ...listParams, email: p.string() },
  list: true,
  expandable: ['invoice_settings.default_payment_method'],
  handle: ({ store, params }) => {
    const live = [...store.customers.values()].filter((c): c is Stripe.Customer => !c.deleted);
    const matching = newestFirst(live).filter((c) => params.email === undefined || c.email === params.email);
    return {
      body: paginate(
        matching.map((c) => structuredClone(c)),
        params,
        '/v1/customers',
      ),
    };
  },
});

export const customerRoutes: ApiRoute[] = [create, retrieve, update, del, list];
