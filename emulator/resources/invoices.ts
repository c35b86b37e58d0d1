/**
 * Invoices paid in Stripe Billing, outside the service (a merchant's own subscription, say): the
 * service never makes invoices, it only receives their events. `payInvoice` is the test control
 * for "an invoice of this customer was paid": it emits invoice.created, invoice.finalized,
 * invoice.paid and invoice.payment_succeeded, in Stripe's order, with a paid invoice of one
 * amount. The invoice itself is not kept (GET /v1/invoices is not emulated).
 */
import type Stripe from 'stripe';
import { checkChargeAmount, checkCurrency } from '../currencies';
import { newId } from '../ids';
import type { Store } from '../store';
import { invalidRequest, resourceMissingParam } from '../stripe-errors';

export interface PaidInvoiceRequest {
  customer: string;
  amount: number;
  currency: string;
  description?: string;
}

export function payInvoice(store: Store, req: PaidInvoiceRequest): Stripe.Invoice {
  const customer = store.customers.get(req.customer);
  if (!customer || customer.deleted) throw resourceMissingParam('customer', req.customer, 'customer');
  if (!Number.isInteger(req.amount)) throw invalidRequest('amount must be an integer.', { param: 'amount' });
  const currency = checkCurrency(req.currency);
  checkChargeAmount(req.amount, currency);
  const now = store.now();
  const id = newId.invoice();
  const invoice: Stripe.Invoice = {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Stripe emulator',
    account_tax_ids: null,
    amount_due: req.amount,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: req.amount,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: false,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: 'manual',
    collection_method: 'charge_automatically',
    created: now,
    currency,
    custom_fields: null,
    customer: customer.id,
    customer_account: null,
    customer_address: customer.address ?? null,
    customer_email: customer.email,
    customer_name: customer.name ?? null,
    customer_phone: customer.phone ?? null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: req.description ?? null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: now,
    period_start: now,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: req.amount,
    subtotal_excluding_tax: req.amount,
    test_clock: null,
    total: req.amount,
    total_discount_amounts: [],
    total_excluding_tax: req.amount,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
  store.emit('invoice.created', invoice);
  invoice.status = 'open';
  invoice.number = `${id.slice(3, 11).toUpperCase()}-0001`;
  invoice.effective_at = now;
  invoice.status_transitions.finalized_at = now;
  store.emit('invoice.finalized', invoice);
  invoice.status = 'paid';
  invoice.attempted = true;
  invoice.attempt_count = 1;
  invoice.amount_paid = req.amount;
  invoice.amount_remaining = 0;
  invoice.ending_balance = 0;
  invoice.status_transitions.paid_at = now;
  store.emit('invoice.paid', invoice);
  store.emit('invoice.payment_succeeded', invoice);
  return structuredClone(invoice);
}
