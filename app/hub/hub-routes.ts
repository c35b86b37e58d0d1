import { Router, type NextFunction, type Request, type Response } from 'express';
import { jsonBody } from '../http/body-parsers';
import { AppError } from '../shared/app-error';
import { callerOf, createHubAuth, type HubCaller } from './hub-auth';
import type { Hub } from './hub-context';
import { FieldReader, reply } from './hub-http';
import { stripeLocaleOf } from './hub-languages';
import { refundView, tokenStatusView, transactionStatus, transactionView } from './hub-presenters';
import { readTransactionRefund, refundTransaction } from './refund-service';
import { listDeliveries, resendDelivery } from './webhook-deliveries';
import { findToken } from './token-repository';
import { tokenizeCard, type CardInput, type CustomerInput } from './token-service';
import { detailFingerprint, readTransactionDetail, type TransactionDetail } from './transaction-detail';
import { chargeToken, earlierTransaction, readTransaction, type ChargeResult } from './transaction-service';
import { refreshThreeDSecureToken, returnFromChallenge, tokenizeWithThreeDSecure } from './three-d-secure-service';
import { toMinorUnits, type Money } from '../payments';
import { isAppError } from '../shared/app-error';
import { findVendor, type Vendor } from './vendor-repository';
import { isPrivateHost, PRIVATE_WEBHOOK_MESSAGE } from './private-address';

const PAYMENT_METHOD_ID = /^pm_[0-9A-Za-z_]{4,250}$/;
const VENDOR_ID = /^[0-9A-Za-z_-]{1,32}$/;
const TOKEN_ID = /^[0-9A-Za-z_-]{1,40}$/;
const REF_CODE = /^[\x21-\x7e]{1,255}$/;

/** The card of a request: `payment_method` (a Stripe.js PaymentMethod id) or the seed's `credit_card`. */
function readCard(body: FieldReader): CardInput | undefined {
  if (body.has('payment_method')) {
    const id = body.text('payment_method', { required: true, pattern: PAYMENT_METHOD_ID, patternMessage: 'must be a Stripe PaymentMethod id (pm_...)' });
    return id ? { kind: 'payment_method', id } : undefined;
  }
  const card = body.object('credit_card', { required: true });
  if (!card) return undefined;
  const number = card.text('account_number', { required: true, max: 23 })?.replace(/[ -]/g, '');
  if (number !== undefined && !/^\d{12,19}$/.test(number)) card.errors.push({ field: 'credit_card.account_number', message: 'must be 12 to 19 digits' });
  const expMonth = card.integer('exp_month', { required: true, min: 1, max: 12 });
  const expYear = card.integer('exp_year', { required: true, min: 2000, max: 2100 });
  const cvc = card.text('cvn', { max: 4, pattern: /^\d{3,4}$/, patternMessage: 'must be 3 or 4 digits' });
  const name = card.text('account_name', { max: 200 }) || undefined;
  const email = card.text('email', { max: 320 }) || undefined;
  const phone = card.text('phone', { max: 64 }) || undefined;
  if (!number || expMonth === undefined || expYear === undefined || body.errors.length > 0) return undefined;
  return { kind: 'raw', number, expMonth, expYear, cvc: cvc || undefined, name, email, phone };
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

async function requireVendor(hub: Hub, caller: HubCaller, body: FieldReader): Promise<Vendor> {
  const id = body.text('payment_vendor', { required: true, pattern: VENDOR_ID, patternMessage: 'is not a payment vendor id' });
  body.check();
  const vendor = await findVendor(hub.deps.db, caller.ownerId, id as string);
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
      const body = new FieldReader(req.body);
      const vendor = await requireVendor(hub, caller, body);
      const card = readCard(body);
      const withCharge = body.has('transaction_detail');
      // The seed's browser example tokenizes and charges with the public key: the customer pays with the card they just typed.
      const cardEmail = card?.kind === 'raw' ? card.email : undefined;
      const detail: TransactionDetail | undefined = withCharge
        ? readTransactionDetail(body, cardEmail, { refusePrivateWebhooks: hub.webhookTargets.refusePrivate })
        : undefined;
      body.check();
      const customer = customerOf(card as CardInput, detail);
      // The same tokenize-and-charge again: answered as before, without tokenizing the card twice.
      const earlier = detail ? await earlierTransaction(hub, caller, detailFingerprint({ vendorId: vendor.id, tokenId: null, detail }), detail) : undefined;
      if (earlier) return replyCharged(hub, res, 'Tokenize and Charge Successfully', earlier);
      const token = await tokenizeCard(hub, caller, vendor, card as CardInput, customer);
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
      const body = new FieldReader(req.body);
      const vendor = await requireVendor(hub, caller, body);
      const card = readCard(body);
      const amountText = body.decimal('amount', { required: true });
      const currencyText = body.text('currency', { required: true, max: 3 });
      const returnUrl = body.url('return_url', { required: true });
      const webhookUrl = body.url('webhook_url');
      if (webhookUrl && hub.webhookTargets.refusePrivate && isPrivateHost(new URL(webhookUrl).hostname)) {
        body.errors.push({ field: 'webhook_url', message: PRIVATE_WEBHOOK_MESSAGE });
      }
      let amount: Money | undefined;
      if (amountText !== undefined && currencyText) {
        try {
          amount = toMinorUnits(amountText, currencyText);
        } catch (err) {
          body.errors.push({
            field: isAppError(err) && err.code === 'currency' ? 'currency' : 'amount',
            message: isAppError(err) ? err.message : 'is not valid',
          });
        }
      }
      body.check();
      const customer = customerOf(card as CardInput);
      const { token, authUrl } = await tokenizeWithThreeDSecure(hub, caller, vendor, card as CardInput, customer, {
        amount: amount as Money,
        returnUrl: returnUrl as string,
        webhookUrl,
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
      const body = new FieldReader(source);
      const vendor = await requireVendor(hub, caller, body);
      const id = body.text('token', { required: true, pattern: TOKEN_ID, patternMessage: 'is not a token' });
      body.check();
      const token = await findToken(hub.deps.db, caller.ownerId, id as string);
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
      const body = new FieldReader(req.body);
      const vendor = await requireVendor(hub, caller, body);
      const id = body.text('token', { required: true, pattern: TOKEN_ID, patternMessage: 'is not a token' });
      const detail = readTransactionDetail(body, undefined, { refusePrivateWebhooks: hub.webhookTargets.refusePrivate });
      body.check();
      const token = await findToken(hub.deps.db, caller.ownerId, id as string);
      if (!token || token.vendorId !== vendor.id) throw new AppError('not_found', 'Unknown token');
      replyCharged(
        hub,
        res,
        'Charge Credit Card Successfully',
        await chargeToken(hub, caller, vendor, token, detail as TransactionDetail, { fingerprintWithToken: true }),
      );
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
      const body = new FieldReader(req.body ?? {});
      const refundRefCode = body.text('refund_ref_code', {
        required: true,
        pattern: /^[\x21-\x7e]{1,255}$/,
        patternMessage: 'must be printable text without spaces',
      });
      const amount = body.decimal('amount');
      const reason = body.text('reason', { max: 500 });
      body.check();
      const { refund, result } = await refundTransaction(hub, caller, String(req.params.merchantRefCode), {
        refundRefCode: refundRefCode as string,
        amount,
        reason,
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
