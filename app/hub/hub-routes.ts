import type { z } from 'zod';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { jsonBody } from '../http/body-parsers';
import { AppError } from '../shared/app-error';
import { callerOf, createHubAuth, type HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { parseBody, reply } from './hub-http';
import { hubRequestSchemas, TOKEN_ID, type HubRequestSchemas } from './hub-schemas';
import { stripeLocaleOf } from './hub-languages';
import { refundView, tokenStatusView, transactionStatus, transactionView } from './hub-presenters';
import { readTransactionRefund, refundTransaction } from './refund-service';
import { listDeliveries, resendDelivery } from './webhook-deliveries';
import { findToken } from './token-repository';
import { tokenizeCard, type CardInput, type CustomerInput } from './token-service';
import { detailFingerprint, REF_CODE, type TransactionDetail } from './transaction-detail';
import { chargeToken, earlierTransaction, readTransaction, type ChargeResult } from './transaction-service';
import { refreshThreeDSecureToken, returnFromChallenge, tokenizeWithThreeDSecure } from './three-d-secure-service';
import { toMinorUnits } from '../payments';
import { findVendor, type Vendor } from './vendor-repository';

/** The card of a validated request: `payment_method` (a Stripe.js PaymentMethod id) or the seed's `credit_card`. */
function cardOf(body: { payment_method?: string; credit_card?: z.output<HubRequestSchemas['tokenize']>['credit_card'] }): CardInput {
  if (body.payment_method) return { kind: 'payment_method', id: body.payment_method };
  const card = body.credit_card as NonNullable<typeof body.credit_card>;
  return {
    kind: 'raw',
    number: card.account_number,
    expMonth: card.exp_month,
    expYear: card.exp_year,
    cvc: card.cvn,
    name: card.account_name,
    email: card.email,
    phone: card.phone,
  };
}

/** The token's Stripe customer as the request describes it: the card holder's details, the charge's e-mail and language. */
function customerOf(card: CardInput, detail?: TransactionDetail): CustomerInput {
  const raw = card.kind === 'raw' ? card : undefined;
  return {
    email: detail?.email || raw?.email,
    name: raw?.name,
    phone: raw?.phone,
    preferredLocales: detail?.lang ? [stripeLocaleOf(detail.lang) as string] : undefined,
  };
}

/** The vendor is checked first: an unknown one answers 404 whatever else the request holds. */
async function requireVendor(hub: Hub, caller: HubCaller, schemas: HubRequestSchemas, source: unknown): Promise<Vendor> {
  const { payment_vendor: id } = parseBody(schemas.vendorOnly, source);
  const vendor = await findVendor(hub.deps.db, caller.ownerId, id);
  if (!vendor || vendor.disabledAt) throw new AppError('not_found', 'Unknown payment_vendor');
  return vendor;
}

/** The answer for a charged transaction: 402 with the reason when the card was declined. */
function replyCharged(hub: Hub, res: Response, successMessage: string, result: ChargeResult): void {
  const { charge, token, transaction } = result;
  const status = transactionStatus(charge, result.refunds);
  const authenticationUrl =
    charge?.status === 'requires_action' && charge.authToken ? `${hub.deps.config.publicBaseUrl}/pay/authenticate/${charge.authToken}` : undefined;
  const data = {
    token: token.id,
    status: token.status,
    transaction: transactionView(transaction, charge, token, { authenticationUrl, refunds: result.refunds }),
  };
  if (status === 'failed') return reply(res, 402, charge?.failureMessage ?? 'The card was declined', data);
  if (authenticationUrl) return reply(res, 200, 'The card needs the customer to authenticate: send them to PaymentLink', data);
  reply(res, 200, status === 'paid' ? successMessage : 'The charge is pending', data);
}

/**
 * The seed's merchant API. Tokenization (create and check) takes the public key, which may sit in
 * a browser (CORS allowed there); charging and reading transactions need the secret key.
 */
export function createHubTransactionsRouter(hub: Hub): Router {
  const router = Router();
  const auth = createHubAuth(hub.deps, hub.rateLimiter);
  const schemas = hubRequestSchemas({ refusePrivateWebhooks: hub.webhookTargets.refusePrivate });
  const route = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

  router.use(['/api/v1/transactions/token', '/api/v1/transactions/token/3ds'], (req, res, next) => {
    res.set('Access-Control-Allow-Origin', '*');
    res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept');
    res.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  });
  router.use('/api/v1/transactions', jsonBody);
  // Ids in the path are printable text (a NUL byte would reach PostgreSQL): anything else is simply unknown.
  router.param('merchantRefCode', (_req, _res, next, value) =>
    next(REF_CODE.test(String(value)) ? undefined : new AppError('not_found', 'Unknown transaction')),
  );
  router.param('refundRefCode', (_req, _res, next, value) => next(REF_CODE.test(String(value)) ? undefined : new AppError('not_found', 'Unknown refund')));

  router.post(
    '/api/v1/transactions/token',
    auth('public'),
    route(async (req, res) => {
      const caller = callerOf(req);
      const vendor = await requireVendor(hub, caller, schemas, req.body);
      const body = parseBody(schemas.tokenize, req.body);
      const card = cardOf(body);
      // The seed's browser example tokenizes and charges with the public key: the customer pays with the card they just typed.
      const cardEmail = card.kind === 'raw' ? card.email : undefined;
      const detail: TransactionDetail | undefined = body.transaction_detail
        ? { ...body.transaction_detail, email: body.transaction_detail.email || cardEmail || '' }
        : undefined;
      const customer = customerOf(card, detail);
      // The same tokenize-and-charge again: answered as before, without tokenizing the card twice.
      const earlier = detail ? await earlierTransaction(hub, caller, detailFingerprint({ vendorId: vendor.id, tokenId: null, detail }), detail) : undefined;
      if (earlier) return replyCharged(hub, res, 'Tokenize and Charge Successfully', earlier);
      const token = await tokenizeCard(hub, caller, vendor, card, customer);
      const data = { token: token.id, status: token.status, transaction: null };
      if (token.status !== 'verified') return reply(res, 402, token.failureMessage ?? 'The card was declined', data);
      if (!detail) return reply(res, 200, 'Tokenize successfully', data);
      replyCharged(hub, res, 'Tokenize and Charge Successfully', await chargeToken(hub, caller, vendor, token, detail, { fingerprintWithToken: false }));
    }),
  );

  router.post(
    '/api/v1/transactions/token/3ds',
    auth('public'),
    route(async (req, res) => {
      const caller = callerOf(req);
      const vendor = await requireVendor(hub, caller, schemas, req.body);
      const body = parseBody(schemas.tokenize3ds, req.body);
      const card = cardOf(body);
      const { token, authUrl } = await tokenizeWithThreeDSecure(hub, caller, vendor, card, customerOf(card), {
        amount: toMinorUnits(body.amount, body.currency),
        returnUrl: body.return_url,
        webhookUrl: body.webhook_url ?? null,
      });
      const data = { token: token.id, status: token.status, auth_url: authUrl };
      if (token.status === 'failed' || token.status === 'fraud') return reply(res, 402, token.failureMessage ?? 'The card was declined', data);
      reply(res, 200, 'Tokenize successfully', data);
    }),
  );

  // The customer's browser, back from the bank's challenge: no key (the token id in the URL is the proof).
  router.get(
    '/api/v1/transactions/token/3ds/return/:tokenId',
    route(async (req, res) => {
      const tokenId = String(req.params.tokenId);
      const next = TOKEN_ID.test(tokenId) ? await returnFromChallenge(hub, tokenId) : undefined;
      if (!next) throw new AppError('not_found', 'Unknown token');
      res.redirect(302, next.redirectTo);
    }),
  );

  router.get(
    '/api/v1/transactions/token',
    auth('public'),
    route(async (req, res) => {
      const caller = callerOf(req);
      // The seed sends a JSON body on GET; query parameters work too.
      const source = req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0 ? req.body : req.query;
      const vendor = await requireVendor(hub, caller, schemas, source);
      const { token: id } = parseBody(schemas.tokenCheck, source);
      const token = await findToken(hub.deps.db, caller.ownerId, id);
      if (!token || token.vendorId !== vendor.id) throw new AppError('not_found', 'Unknown token');
      // A 3-D Secure token still moving is read from Stripe: a lost webhook does not leave it in review.
      const current = token.kind === '3ds' && token.status !== 'used' && token.status !== 'failed' ? await refreshThreeDSecureToken(hub, token) : token;
      reply(res, 200, 'Token check result', tokenStatusView(current));
    }),
  );

  router.post(
    '/api/v1/transactions/charge',
    auth('secret'),
    route(async (req, res) => {
      const caller = callerOf(req);
      const vendor = await requireVendor(hub, caller, schemas, req.body);
      const { token: id, transaction_detail: detail } = parseBody(schemas.charge, req.body);
      const token = await findToken(hub.deps.db, caller.ownerId, id);
      if (!token || token.vendorId !== vendor.id) throw new AppError('not_found', 'Unknown token');
      replyCharged(hub, res, 'Charge Credit Card Successfully', await chargeToken(hub, caller, vendor, token, detail, { fingerprintWithToken: true }));
    }),
  );

  router.get(
    '/api/v1/webhooks/deliveries',
    auth('secret'),
    route(async (req, res) => reply(res, 200, 'Webhook deliveries', await listDeliveries(hub, callerOf(req)))),
  );

  router.post(
    '/api/v1/webhooks/deliveries/:deliveryId/resend',
    auth('secret'),
    route(async (req, res) => {
      const id = /^[0-9]{1,15}$/.test(String(req.params.deliveryId)) ? Number(req.params.deliveryId) : undefined;
      if (id === undefined) throw new AppError('not_found', 'Unknown delivery');
      reply(res, 202, 'Delivery queued again (same webhook-id)', await resendDelivery(hub, callerOf(req), id));
    }),
  );

  router.post(
    '/api/v1/transactions/:merchantRefCode/refunds',
    auth('secret'),
    route(async (req, res) => {
      const caller = callerOf(req);
      const body = parseBody(schemas.refund, req.body);
      const { refund, result } = await refundTransaction(hub, caller, String(req.params.merchantRefCode), {
        refundRefCode: body.refund_ref_code,
        amount: body.amount,
        reason: body.reason,
      });
      reply(res, 201, 'Refund created', {
        refund: refundView(refund, result.transaction.currency),
        transaction: transactionView(result.transaction, result.charge, result.token, { refunds: result.refunds }),
      });
    }),
  );

  router.get(
    '/api/v1/transactions/:merchantRefCode/refunds/:refundRefCode',
    auth('secret'),
    route(async (req, res) => {
      const { refund, result } = await readTransactionRefund(hub, callerOf(req), String(req.params.merchantRefCode), String(req.params.refundRefCode));
      reply(res, 200, 'Refund', refundView(refund, result.transaction.currency));
    }),
  );

  router.get(
    '/api/v1/transactions/:merchantRefCode',
    auth('secret'),
    route(async (req, res) => {
      const result = await readTransaction(hub, callerOf(req), String(req.params.merchantRefCode));
      reply(res, 200, 'Transaction', transactionView(result.transaction, result.charge, result.token, { refunds: result.refunds }));
    }),
  );
  return router;
}
