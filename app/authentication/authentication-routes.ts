import { Router, type Request, type Response } from 'express';
import { describeAuthentication, finishAuthentication, formatMinor, startAuthentication, type Charge } from '../payments';
import { isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string, action?: { label: string; path: string }): string {
  const form = action ? `<form method="post" action="${escapeHtml(action.path)}"><button type="submit">${escapeHtml(action.label)}</button></form>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1a1f36}h1{font-size:1.4rem}button{padding:.7rem 1.2rem;font-size:1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p>${form}</body></html>`;
}

function resultPage(charge: Charge): { status: number; html: string } {
  const amount = `${formatMinor(charge.amount, charge.currency)} ${charge.currency}`;
  switch (charge.status) {
    case 'succeeded':
      return { status: 200, html: page('Payment completed', `Your payment of ${amount} is complete. You can close this page.`) };
    case 'processing':
    case 'created':
    case 'requires_action':
      return { status: 200, html: page('Payment in progress', `Your payment of ${amount} is being processed.`) };
    case 'failed':
    case 'canceled':
      return { status: 200, html: page('Payment not completed', charge.failureMessage ?? `The payment of ${amount} did not go through.`) };
  }
}

/** The page a `Pending` charge links to: brings the customer through 3-D Secure, then shows the result. */
export function createAuthenticationRouter(deps: Deps): Router {
  const router = Router();
  const fail = (req: Request, res: Response, err: unknown): void => {
    if (isAppError(err) && err.kind === 'not_found') {
      res.status(404).type('html').send(page('Link not valid', err.message));
      return;
    }
    req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'payment authentication failed');
    res.status(502).type('html').send(page('Please try again', 'The payment could not be continued right now. Please try again in a moment.'));
  };

  // GET only shows the payment: link previews and mail scanners fetch links, and must not start
  // a confirmation. The customer's button press (POST) does.
  router.get('/pay/authenticate/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const charge = await describeAuthentication(deps, req.params.token);
      if (charge.status !== 'requires_action') {
        const { status, html } = resultPage(charge);
        return void res.status(status).type('html').send(html);
      }
      const amount = `${formatMinor(charge.amount, charge.currency)} ${charge.currency}`;
      res.type('html').send(
        page('Confirm your payment', `Your bank asks you to confirm a payment of ${amount}.`, {
          label: 'Continue to your bank',
          path: req.originalUrl.split('?')[0],
        }),
      );
    } catch (err) {
      fail(req, res, err);
    }
  });

  router.post('/pay/authenticate/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const step = await startAuthentication(deps, req.params.token);
      if (step.kind === 'redirect') return void res.redirect(303, step.url);
      const { status, html } = resultPage(step.charge);
      res.status(status).type('html').send(html);
    } catch (err) {
      fail(req, res, err);
    }
  });

  router.get('/pay/authenticate/:token/return', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const { status, html } = resultPage(await finishAuthentication(deps, req.params.token));
      res.status(status).type('html').send(html);
    } catch (err) {
      fail(req, res, err);
    }
  });

  return router;
}
