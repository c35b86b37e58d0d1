import { formatMinor, type Currency } from '../payments';
import { ago, html, postButton, table, when, type Html } from './console-html';
import { timeline, type ChargeDetail, type Overview, type SearchResult, type StatusCount } from './console-queries';

/** The console's pages as Html bodies (the layout is console-html's `page`). */

type Row = Record<string, unknown>;

const money = (amount: unknown, currency: unknown): string => {
  try {
    return `${formatMinor(Number(amount), String(currency) as Currency)} ${String(currency)}`;
  } catch {
    return `${String(amount)} (minor units) ${String(currency)}`;
  }
};

/** Card data as brand and last 4, nothing more (nothing more is stored). */
const card = (r: Row): string => (r.four_digits ? `${String(r.brand ?? 'card')} •••• ${String(r.four_digits)}` : '');

const chargeLink = (id: unknown): Html => html`<a href="/console/charges/${String(id)}">charge ${String(id)}</a>`;

const countTable = (title: string, rows: StatusCount[], link?: (status: string) => string): Html =>
  html`<h3>${title}</h3>
    ${table(['Status', 'Rows'], rows, (r) => [link ? html`<a href="${link(r.status)}">${r.status}</a>` : r.status, r.count])}`;

/** Rows the reconciler keeps failing on: what they are, then their status, failures and next look. */
const flaggedTable = (headers: string[], rows: Row[], first: (r: Row) => Array<string | Html>): Html =>
  table([...headers, 'Status', 'Failed checks', 'Next check'], rows, (r) => [
    ...first(r),
    (r.status ?? r.state) as string,
    r.check_failures as number,
    when(r.next_check_at as string),
  ]);

export function overviewBody(o: Overview, alertFailures: number): Html {
  const n = o.needOperator;
  return html`<h2>Needing an operator</h2>
    <p>
      Rows the reconciler failed to read from Stripe ${alertFailures} times or more (still retried), merchant webhooks given up, Stripe events not processed
      within 5 minutes.
    </p>
    <h3>Card setups</h3>
    ${flaggedTable(['Card setup', 'Owner', 'Customer'], n.cardSetups, (r) => [r.id as string, r.owner_id as string, r.customer_ref as string])}
    <h3>Charges</h3>
    ${flaggedTable(['Charge', 'Owner', 'Reference'], n.charges, (r) => [chargeLink(r.id), r.owner_id as string, r.reference as string])}
    <h3>Refunds</h3>
    ${flaggedTable(['Refund', 'Charge', 'Reference'], n.refunds, (r) => [r.id as string, chargeLink(r.charge_id), r.reference as string])}
    <h3>Merchant webhooks given up</h3>
    ${table(['Delivery', 'Merchant', 'Event', 'Attempts', 'Last status', 'Last error'], n.deliveries, (r) => [
      html`<a href="/console/deliveries?state=failed">${String(r.id)}</a>`,
      r.owner_id as string,
      r.event_type as string,
      r.attempts as number,
      r.last_status as number,
      r.last_error as string,
    ])}
    <h3>Stripe events not processed</h3>
    ${table(['Event', 'Type', 'Object', 'Deliveries', 'Received'], n.stripeEvents, (r) => [
      r.id as string,
      r.type as string,
      r.object_id as string,
      r.deliveries as number,
      when(r.received_at as string),
    ])}
    <h2>Lag</h2>
    <table>
      <tr>
        <th>Reconciler: most overdue row waiting</th>
        <td id="lag-reconciler">${ago(o.lag.reconcilerMs)} (${o.lag.reconcilerDue} rows due)</td>
      </tr>
      <tr>
        <th>Stripe webhooks: oldest event not processed</th>
        <td id="lag-stripe">${ago(o.lag.stripeEventsMs)}</td>
      </tr>
      <tr>
        <th>Stripe webhooks: last event received</th>
        <td>${o.lag.lastStripeEventAgoMs === null ? 'none yet' : `${ago(o.lag.lastStripeEventAgoMs)} ago`}</td>
      </tr>
      <tr>
        <th>Merchant webhooks: oldest signal waiting</th>
        <td id="lag-merchant">${ago(o.lag.merchantWebhooksMs)}</td>
      </tr>
    </table>
    <h2>Counts</h2>
    ${countTable('Card setups', o.cardSetups, (s) => `/console/card-setups?state=${encodeURIComponent(s)}`)}
    ${countTable('Charges', o.charges, (s) => `/console/charges?status=${encodeURIComponent(s)}`)} ${countTable('Refunds', o.refunds)}
    ${countTable('Hub transactions (by their charge)', o.hubTransactions)}
    ${countTable('Merchant webhook deliveries', o.deliveries, (s) => `/console/deliveries?state=${encodeURIComponent(s)}`)}
    ${countTable('Stripe events received', o.stripeEvents)}`;
}

export const chargesTable = (rows: Row[]): Html =>
  table(['Charge', 'Owner', 'Reference', 'merchant_ref_code', 'Customer', 'Amount', 'Status', 'PaymentIntent', 'Card', 'Created'], rows, (r) => [
    chargeLink(r.id),
    r.owner_id as string,
    r.reference as string,
    r.merchant_ref_code as string,
    r.customer_ref as string,
    money(r.amount, r.currency),
    r.status as string,
    r.payment_intent_id as string,
    card(r),
    when(r.created_at as string),
  ]);

export const cardSetupsTable = (rows: Row[], csrf: string): Html =>
  table(
    ['Card setup', 'Owner', 'Customer', 'txId', 'State', 'Checkout session / SetupIntent', 'Card', 'Failed checks', 'Created', 'Finished', ''],
    rows,
    (r) => [
      r.id as string,
      r.owner_id as string,
      r.customer_ref as string,
      r.tx_id as string,
      html`${r.state as string}${r.failure_reason ? html`<br /><small>${r.failure_reason as string}</small>` : ''}`,
      (r.checkout_session_id ?? r.setup_intent_id) as string,
      card(r),
      r.check_failures as number,
      when(r.created_at as string),
      when(r.finished_at as string),
      postButton(`/console/card-setups/${String(r.id)}/recheck`, 'Re-check with Stripe', csrf),
    ],
  );

export const refundsTable = (rows: Row[], csrf?: string): Html =>
  table(['Refund', 'Charge', 'Reference', 'Amount', 'Status', 'Stripe refund', 'Reason', 'Failure', 'Created', ...(csrf ? [''] : [])], rows, (r) => [
    r.id as string,
    chargeLink(r.charge_id),
    r.reference as string,
    money(r.amount, r.currency),
    r.status as string,
    r.stripe_refund_id as string,
    r.reason as string,
    r.failure_reason as string,
    when(r.created_at as string),
    ...(csrf ? [postButton(`/console/refunds/${String(r.id)}/recheck`, 'Re-check with Stripe', csrf)] : []),
  ]);

export const deliveriesTable = (rows: Row[], csrf: string): Html =>
  table(
    ['Delivery', 'Merchant', 'Transaction', 'Event', 'Method', 'URL', 'State', 'Attempts', 'Last status', 'Last error', 'Created', 'Delivered', ''],
    rows,
    (r) => [
      r.id as string,
      r.owner_id as string,
      html`${(r.merchant_ref_code ?? r.token_id) as string}${r.charge_id ? html` (${chargeLink(r.charge_id)})` : ''}`,
      r.event_type as string,
      r.method as string,
      r.url as string,
      r.state as string,
      r.attempts as number,
      r.last_status as number,
      r.last_error as string,
      when(r.created_at as string),
      when(r.delivered_at as string),
      postButton(`/console/deliveries/${String(r.id)}/resend`, 'Resend', csrf),
    ],
  );

export const stripeEventsTable = (rows: Row[]): Html =>
  table(['Event', 'Type', 'Object', 'Account', 'Deliveries', 'Received', 'Processed', 'Outcome'], rows, (r) => [
    r.id as string,
    r.type as string,
    r.object_id as string,
    r.stripe_account as string,
    r.deliveries as number,
    when(r.received_at as string),
    when(r.processed_at as string),
    r.outcome as string,
  ]);

export const actionsTable = (rows: Row[]): Html =>
  table(['When', 'Operator', 'Action', 'Subject', 'Detail'], rows, (r) => [
    when(r.created_at as string),
    r.operator as string,
    r.action as string,
    r.subject === 'charge' ? chargeLink(r.subject_id) : r.subject ? `${String(r.subject)} ${String(r.subject_id)}` : '',
    r.detail as string,
  ]);

const luhn = (digits: string): boolean => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
};

/** A search text that could be a card number (a pasted PAN) is shown as its last 4 only. */
export const shownQuery = (q: string): string => {
  const digits = q.replace(/[\s-]/g, '');
  return /^[0-9]{13,19}$/.test(digits) && luhn(digits) ? `•••• ${digits.slice(-4)}` : q;
};

export function searchBody(query: string, r: SearchResult, csrf: string): Html {
  const none = r.charges.length + r.cardSetups.length + r.refunds.length === 0;
  const q = shownQuery(query);
  return html`<form method="get" action="/console/search">
      <input name="q" value="${q === query ? q : ''}" size="50" aria-label="Search again" /> <button type="submit">Search</button>
    </form>
    <p>Matches a BillRun aid, a txId, a charge or refund reference, a PaymentIntent or refund id (pi_..., re_...), a Checkout session, a merchant_ref_code.</p>
    ${
      none && query.trim() !== ''
        ? html`<p id="no-match">Nothing matches <code>${q}</code>.</p>`
        : html`<h2>Charges</h2>
            ${chargesTable(r.charges)}
            <h2>Card setups</h2>
            ${cardSetupsTable(r.cardSetups, csrf)}
            <h2>Refunds</h2>
            ${refundsTable(r.refunds)}`
    }`;
}

export function chargeBody(d: ChargeDetail, csrf: string): Html {
  const c = d.charge;
  const field = (label: string, value: string | number | Html | null | undefined) =>
    html`<tr>
      <th>${label}</th>
      <td>${value ?? ''}</td>
    </tr>`;
  return html`<p>${postButton(`/console/charges/${String(c.id)}/recheck`, 'Re-check with Stripe now', csrf, 'recheck-charge')}</p>
    <table id="charge">
      ${field('Status', html`<strong id="charge-status">${c.status as string}</strong>`)} ${field('Owner', c.owner_id as string)}
      ${field('Channel', `${String(c.channel)} (${String(c.kind)})`)} ${field('Reference', c.reference as string)}
      ${field('merchant_ref_code', c.merchant_ref_code as string)} ${field('Customer', c.customer_ref as string)}
      ${field('Amount', money(c.amount, c.currency))} ${field('PaymentIntent', c.payment_intent_id as string)} ${field('Card', card(c))}
      ${field('Failure', c.failure_code ? `${String(c.failure_code)}: ${String(c.failure_message ?? '')}` : '')}
      ${field('Failed checks', c.check_failures as number)} ${field('Next check', when(c.next_check_at as string))}
      ${field('Created', when(c.created_at as string))} ${field('Updated', when(c.updated_at as string))}
    </table>
    <h2>Refunds</h2>
    <div id="refunds">${refundsTable(d.refunds, csrf)}</div>
    <h2>Payment events</h2>
    <div id="payment-events">
      ${table(['Event', 'Subject', 'Status', 'Routed', 'Recorded'], d.paymentEvents, (e) => [
        e.id as string,
        `${String(e.subject)} ${String(e.subject_id)}`,
        e.status as string,
        e.state as string,
        when(e.created_at as string),
      ])}
    </div>
    <h2>Stripe events</h2>
    <div id="stripe-events">${stripeEventsTable(d.stripeEvents)}</div>
    <h2>Merchant webhooks</h2>
    ${deliveriesTable(d.deliveries, csrf)}
    <h2>Timeline</h2>
    <ol id="timeline">
      ${timeline(d).map((e) => html`<li><time>${when(e.at)}</time> ${e.what}</li>`)}
    </ol>`;
}

export function loginBody(token: string, next: string, message?: string): Html {
  return html`${message ? html`<p class="flash error" role="alert">${message}</p>` : ''}
    <form method="post" action="/console/login">
      <input type="hidden" name="_csrf" value="${token}" />
      <input type="hidden" name="next" value="${next}" />
      <p>
        <label>Operator <input name="username" autocomplete="username" required maxlength="64" /></label>
      </p>
      <p>
        <label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="1024" /></label>
      </p>
      <p><button type="submit" id="login">Log in</button></p>
    </form>`;
}
