/**
 * The hosted pages a customer's browser sees: the Checkout card form (/c/pay/:id), the 3DS
 * challenge (/c/3ds/:id for a session or a SetupIntent, /c/3ds/pi/:id for a PaymentIntent) and a
 * "done" page for sessions without a success_url. Self-contained HTML, every dynamic value escaped, card number and CVC never
 * echoed back or kept.
 */
import type Stripe from 'stripe';
import { cancelTarget, resolveSessionAuthentication, submitCard, type CardSubmission } from './checkout-completion';
import type { EmulatorCore } from './emulator-core';
import type { FormValue } from './form-parser';
import { findSession } from './resources/checkout-sessions';
import { authenticatePaymentIntent, paymentWentThrough } from './resources/payment-attempts';
import { finishAuthentication } from './resources/setup-intents';
import type { StoredCheckoutSession } from './store';
import { EmulatorApiError } from './stripe-errors';
import { TEST_CARDS, luhnValid } from './test-cards';

export type HostedAnswer = { status: number; html: string } | { status: 303; location: string };

const TITLE = 'Stripe emulator — sandbox, no real money';
const AUTH_FAILED = 'We are unable to authenticate your payment method. Please choose a different payment method and try again.';

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function layout(heading: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(TITLE)}</title>
<style>
body{font-family:system-ui,-apple-system,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
.banner{background:#ffde92;color:#5a3e00;text-align:center;padding:6px;font-size:13px;font-weight:600}
main{max-width:420px;margin:32px auto;background:#fff;border-radius:8px;padding:24px;box-shadow:0 2px 8px rgba(0,0,0,.08)}
label{display:block;font-size:13px;margin:12px 0 4px}
input{width:100%;box-sizing:border-box;padding:10px;border:1px solid #cfd7df;border-radius:6px;font-size:15px}
.row{display:flex;gap:12px}.row>div{flex:1}
button{margin-top:18px;width:100%;padding:12px;border:0;border-radius:6px;background:#635bff;color:#fff;font-size:16px;cursor:pointer}
button.secondary{background:#e3e8ee;color:#1a1f36}
.error{background:#fde8e8;color:#9b1c1c;padding:10px;border-radius:6px;margin:12px 0}
.muted{color:#697386;font-size:13px}
a{color:#635bff}
table{font-size:12px;border-collapse:collapse;width:100%}td{padding:2px 4px;border-bottom:1px solid #eef}
</style>
</head>
<body>
<div class="banner">${escapeHtml(TITLE)}</div>
<main>
<h1>${escapeHtml(heading)}</h1>
${content}
</main>
</body>
</html>`;
}

function html(status: number, heading: string, content: string): HostedAnswer {
  return { status, html: layout(heading, content) };
}

function redirect(location: string): HostedAnswer {
  return { status: 303, location };
}

function notFound(): HostedAnswer {
  return html(404, 'Page not found', '<p>There is no checkout page at this address.</p>');
}

function str(fields: Record<string, FormValue>, name: string): string {
  const v = fields[name];
  return typeof v === 'string' ? v.trim() : '';
}

interface FormState {
  error?: string;
  name?: string;
  exp?: string;
}

function testCardHints(): string {
  const rows = TEST_CARDS.map((c) => `<tr><td><code>${escapeHtml(c.number)}</code></td><td>${escapeHtml(c.summary)}</td></tr>`).join('');
  return `<details><summary class="muted">Test cards</summary><table>${rows}</table></details>`;
}

function formPage(stored: StoredCheckoutSession, state: FormState, status = 200): HostedAnswer {
  const s = stored.api;
  const id = encodeURIComponent(s.id);
  const email = s.customer_details?.email ?? s.customer_email;
  const cancel = s.cancel_url ? `<p><a href="/c/pay/${id}/cancel">Cancel</a></p>` : '';
  return html(
    status,
    'Save your card',
    `<p class="muted">Your card will be saved for future payments.${email ? ` Account: ${escapeHtml(email)}` : ''}</p>
${state.error ? `<div class="error" role="alert">${escapeHtml(state.error)}</div>` : ''}
<form method="post" action="/c/pay/${id}" autocomplete="off">
<label for="number">Card number</label>
<input id="number" name="number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required>
<div class="row">
<div><label for="exp">Expiry (MM/YY)</label><input id="exp" name="exp" placeholder="MM/YY" autocomplete="cc-exp" value="${escapeHtml(state.exp)}" required></div>
<div><label for="cvc">CVC</label><input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required></div>
</div>
<label for="name">Name on card</label>
<input id="name" name="name" autocomplete="cc-name" value="${escapeHtml(state.name)}">
<button type="submit">Submit</button>
</form>
${cancel}
${testCardHints()}`,
  );
}

function statePage(stored: StoredCheckoutSession): HostedAnswer {
  const s = stored.api;
  if (s.status === 'expired') {
    return html(410, 'This checkout session has expired', '<p>This checkout page is no longer available. Please return to the merchant and start again.</p>');
  }
  const back = s.success_url ? `<p><a href="${escapeHtml(s.success_url.split('{CHECKOUT_SESSION_ID}').join(s.id))}">Return to the merchant</a></p>` : '';
  return html(200, 'Your card is saved', `<p>This checkout session is already complete.</p>${back}`);
}

function parseExpiry(raw: string, now: number): { month: number; year: number } | string {
  const m = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec(raw);
  if (!m) return "Your card's expiration date is incomplete.";
  const month = Number(m[1]);
  const year = m[2].length === 2 ? 2000 + Number(m[2]) : Number(m[2]);
  if (month < 1 || month > 12) return "Your card's expiration month is invalid.";
  const today = new Date(now * 1000);
  if (year * 12 + month - 1 < today.getUTCFullYear() * 12 + today.getUTCMonth()) {
    return "Your card's expiration year is in the past.";
  }
  return { month, year };
}

function validateForm(fields: Record<string, FormValue>, now: number): { error: string } | { number: string; month: number; year: number; cvc: string } {
  const number = str(fields, 'number').replace(/[\s-]/g, '');
  if (!/^\d+$/.test(number) || number.length < 12) return { error: 'Your card number is incomplete.' };
  if (number.length > 19 || !luhnValid(number)) return { error: 'Your card number is invalid.' };
  const exp = parseExpiry(str(fields, 'exp'), now);
  if (typeof exp === 'string') return { error: exp };
  const cvc = str(fields, 'cvc');
  if (!/^\d{3,4}$/.test(cvc)) return { error: "Your card's security code is incomplete." };
  return { number, month: exp.month, year: exp.year, cvc };
}

function afterSubmission(stored: StoredCheckoutSession, result: CardSubmission, state: FormState): HostedAnswer {
  switch (result.kind) {
    case 'completed':
      return redirect(result.redirectUrl);
    case 'requires_authentication':
      return redirect(`/c/3ds/${encodeURIComponent(stored.api.id)}`);
    case 'failed':
      return formPage(stored, { ...state, error: result.error.message }, 402);
  }
}

/** Answers a /c/ request, or undefined when it is not a hosted page. */
export function handleHostedPage(
  core: EmulatorCore,
  method: string,
  pathname: string,
  query: URLSearchParams,
  fields: Record<string, FormValue>,
): HostedAnswer | undefined {
  const { runtime } = core;
  const pi = /^\/c\/3ds\/pi\/([^/]+)$/.exec(pathname);
  if (pi) return paymentIntentChallenge(core, method, decodeURIComponent(pi[1]), fields);
  const m = /^\/c\/(pay|3ds|done)\/([^/]+)(\/cancel)?$/.exec(pathname);
  if (!m) return undefined;
  const [, page, rawId, cancel] = m;
  const id = decodeURIComponent(rawId);

  if (page === '3ds' && id.startsWith('seti_')) return setupIntentChallenge(core, method, id, fields);

  // A browser carries no API key: the page's id says which account it belongs to.
  const store = core.storeHolding(id);
  const stored = findSession(store, id);
  if (!stored) return notFound();

  if (page === 'done') {
    return stored.api.status === 'complete' ? html(200, 'Your card is saved', '<p>You can close this window.</p>') : statePage(stored);
  }
  if (cancel) {
    if (page !== 'pay' || method !== 'GET' || !stored.api.cancel_url) return notFound();
    return redirect(cancelTarget(store, runtime, id).redirectUrl);
  }
  if (stored.api.status !== 'open') return statePage(stored);

  if (page === 'pay' && method === 'GET') {
    return formPage(stored, query.get('error') === 'authentication_failed' ? { error: AUTH_FAILED } : {});
  }
  if (page === 'pay' && method === 'POST') {
    const state: FormState = { name: str(fields, 'name'), exp: str(fields, 'exp') };
    const checked = validateForm(fields, store.now());
    if ('error' in checked) return formPage(stored, { ...state, error: checked.error }, 400);
    const entry = { card: checked.number, expMonth: checked.month, expYear: checked.year, cvc: checked.cvc, name: state.name || undefined };
    return guard(stored, () => afterSubmission(stored, submitCard(store, runtime, id, entry, 'challenge'), state));
  }
  if (page === '3ds' && method === 'GET') {
    if (stored.pendingAuthentication === null) return redirect(`/c/pay/${encodeURIComponent(id)}`);
    return challengePage(`/c/3ds/${encodeURIComponent(id)}`);
  }
  if (page === '3ds' && method === 'POST') {
    const result = str(fields, 'result') === 'pass' ? 'pass' : 'fail';
    return guard(stored, () => {
      const r = resolveSessionAuthentication(store, runtime, id, result);
      if (r.kind === 'completed') return redirect(r.redirectUrl);
      return redirect(`/c/pay/${encodeURIComponent(id)}?error=authentication_failed`);
    });
  }
  return notFound();
}

/** Errors from a session that changed under the page (expired, completed elsewhere) become its state page. */
function guard(stored: StoredCheckoutSession, fn: () => HostedAnswer): HostedAnswer {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EmulatorApiError && err.status < 500) {
      return stored.api.status === 'open' ? formPage(stored, { error: err.message }, err.status) : statePage(stored);
    }
    throw err;
  }
}

function challengePage(action: string): HostedAnswer {
  return html(
    200,
    '3D Secure authentication',
    `<p>This test card requires authentication. Choose the outcome of the challenge.</p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="result" value="pass"><button type="submit">Complete authentication</button></form>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="result" value="fail"><button type="submit" class="secondary">Fail authentication</button></form>`,
  );
}

/** 3DS for a SetupIntent confirmed through the API (next_action.redirect_to_url). */
function setupIntentChallenge(core: EmulatorCore, method: string, id: string, fields: Record<string, FormValue>): HostedAnswer {
  const store = core.storeHolding(id);
  const si = store.setupIntents.get(id);
  if (!si) return notFound();
  if (method === 'GET') {
    if (si.api.status !== 'requires_action') {
      return html(200, 'Nothing to authenticate', `<p>This SetupIntent is ${escapeHtml(si.api.status)}.</p>`);
    }
    return challengePage(`/c/3ds/${encodeURIComponent(id)}`);
  }
  if (method !== 'POST') return notFound();
  if (si.api.status !== 'requires_action') {
    return html(409, 'Nothing to authenticate', `<p>This SetupIntent is ${escapeHtml(si.api.status)}.</p>`);
  }
  const outcome = finishAuthentication(store, si, str(fields, 'result') === 'pass' ? 'pass' : 'fail');
  const status = outcome === 'succeeded' ? 'succeeded' : 'failed';
  if (si.returnUrl) return redirect(withQuery(si.returnUrl, si.api, status));
  return html(200, outcome === 'succeeded' ? 'Authentication complete' : 'Authentication failed', '<p>You can close this window.</p>');
}

/** 3DS for a PaymentIntent confirmed on-session (next_action.redirect_to_url). */
function paymentIntentChallenge(core: EmulatorCore, method: string, id: string, fields: Record<string, FormValue>): HostedAnswer {
  const store = core.storeHolding(id);
  const pi = store.paymentIntents.get(id);
  if (!pi) return notFound();
  const action = `/c/3ds/pi/${encodeURIComponent(id)}`;
  if (method === 'GET') {
    if (pi.api.status !== 'requires_action') {
      return html(200, 'Nothing to authenticate', `<p>This payment is ${escapeHtml(pi.api.status)}.</p>`);
    }
    return challengePage(action);
  }
  if (method !== 'POST') return notFound();
  if (pi.api.status !== 'requires_action') {
    return html(409, 'Nothing to authenticate', `<p>This payment is ${escapeHtml(pi.api.status)}.</p>`);
  }
  const result = authenticatePaymentIntent(store, core.runtime, id, str(fields, 'result') === 'pass' ? 'pass' : 'fail');
  if (pi.returnUrl) return redirect(result.redirectUrl);
  const ok = paymentWentThrough(pi);
  return html(200, ok ? 'Payment authenticated' : 'Payment failed', '<p>You can close this window.</p>');
}

function withQuery(returnUrl: string, si: Stripe.SetupIntent, status: string): string {
  const u = new URL(returnUrl);
  u.searchParams.set('setup_intent', si.id);
  u.searchParams.set('setup_intent_client_secret', si.client_secret ?? '');
  u.searchParams.set('redirect_status', status);
  return u.toString();
}
