/**
 * HTML built on the server with every value escaped: `html` escapes whatever it interpolates
 * unless it is already Html (made by `html` itself), so a page cannot forget to.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES = new Map([
  ['&', '&amp;'],
  ['<', '&lt;'],
  ['>', '&gt;'],
  ['"', '&quot;'],
  ["'", '&#39;'],
]);

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES.get(c) as string);

type Value = Html | string | number | boolean | null | undefined | Date | readonly Value[];

const render = (value: Value): string => {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Date) return escapeHtml(value.toISOString());
  return escapeHtml(String(value));
};

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new Html(out);
}

/** A time as operators read it: UTC, to the second. */
export const when = (value: Date | string | null | undefined): string =>
  value == null
    ? ''
    : new Date(value)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, ' UTC');

/** A duration in words an operator reads at a glance: 42 s, 7 min, 3 h, 2 d. */
export function ago(ms: number | null): string {
  if (ms === null) return 'none';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{background:#1f2d3d;color:#fff;padding:.5em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
header a{color:#fff}header form{margin-left:auto}
main{padding:1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.flash{padding:.5em 1em;margin-bottom:1em;border:1px solid #8a8}.flash.error{border-color:#c66;background:#fee}
.need{background:#fff3e0}
form.inline{display:inline}
code{font-size:13px}
`;

export interface Layout {
  title: string;
  /** The operator logged in (none on the login page). */
  operator?: string;
  csrf?: string;
  flash?: { kind: 'ok' | 'error'; text: string };
}

/** A whole page: the console's header (navigation, search, log out) around `body`. */
export function page(layout: Layout, body: Html): string {
  const nav = layout.operator
    ? html`<header>
        <strong>Payment gateway console</strong>
        <a href="/console">Overview</a>
        <a href="/console/card-setups">Card setups</a>
        <a href="/console/charges">Charges</a>
        <a href="/console/stripe-events">Stripe events</a>
        <a href="/console/deliveries">Merchant webhooks</a>
        <a href="/console/actions">Operator actions</a>
        <form method="get" action="/console/search" class="inline">
          <input name="q" placeholder="aid, txId, reference, pi_..., merchant_ref_code" size="40" aria-label="Search" />
          <button type="submit">Search</button>
        </form>
        <form method="post" action="/console/logout" class="inline">
          <input type="hidden" name="_csrf" value="${layout.csrf}" />
          <span>${layout.operator}</span> <button type="submit" id="logout">Log out</button>
        </form>
      </header>`
    : html`<header><strong>Payment gateway console</strong></header>`;
  const flash = layout.flash ? html`<div class="flash ${layout.flash.kind}" role="status">${layout.flash.text}</div>` : '';
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>${layout.title} · console</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        ${nav}
        <main>
          ${flash}
          <h1>${layout.title}</h1>
          ${body}
        </main>
      </body>
    </html>`.text;
}

/** A POST button with the session's CSRF token (every console action is one). */
export const postButton = (action: string, label: string, csrf: string, id?: string): Html =>
  html`<form method="post" action="${action}" class="inline">
    <input type="hidden" name="_csrf" value="${csrf}" /><button type="submit" ${id ? html` id="${id}"` : ''}>${label}</button>
  </form>`;

/** A table of rows; `cells` gives each row's cells (values escaped, Html kept). */
export function table<T>(headers: string[], rows: readonly T[], cells: (row: T) => Value[], rowClass?: (row: T) => string | undefined): Html {
  if (rows.length === 0) return html`<p><em>None.</em></p>`;
  return html`<table>
    <thead>
      <tr>
        ${headers.map((h) => html`<th>${h}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows.map((row) => {
        const cls = rowClass?.(row);
        return html`<tr${cls ? html` class="${cls}"` : ''}>
          ${cells(row).map((c) => html`<td>${c}</td>`)}
        </tr>`;
      })}
    </tbody>
  </table>`;
}
