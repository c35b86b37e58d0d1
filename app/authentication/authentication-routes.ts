import { Router, type Request, type Response } from 'express';
import { formatMinor, type Charge } from '../payments';
import { isAppError } from '../shared/app-error';
import type { Deps } from '../shared/deps';
import { finishAuthentication, startAuthentication } from './authentication-service';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1a1f36}h1{font-size:1.4rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(body)}</p></body></html>`;
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

  router.get('/pay/authenticate/:token', async (req, res) => {
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
