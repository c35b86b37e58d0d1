/**
 * The benchmark's floor: a bare Express 5 app that answers the benchmark's flows with the same
 * Stripe calls as the service, made by stripe-node with the service's settings
 * (`createStripeClient`: pinned API version, timeout, retries, an idempotency key on each write),
 * and nothing else: no database (what it must remember is in Maps), no signature check, no
 * logging, no session. What the service costs above it is the service's own cost.
 *
 * Started by bench/run.ts: `node dist/bench/floor.js '<json FloorOptions>'`; prints one line when listening.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { createStripeClient } from '../app/stripe/stripe-gateway';

export interface FloorOptions {
  port: number;
  stripeApiBase: string;
  /** The BillRun side's key (as the service's STRIPE_SECRET_KEY). */
  stripeKey: string;
  /** The Hub vendor's key (as the service's vendor). */
  vendorKey: string;
  timeoutMs: number;
  maxNetworkRetries: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as FloorOptions;
const client = (secretKey: string) =>
  createStripeClient({ secretKey, apiBase: new URL(options.stripeApiBase), timeoutMs: options.timeoutMs, maxNetworkRetries: options.maxNetworkRetries });
const billrunStripe = client(options.stripeKey);
const vendorStripe = client(options.vendorKey);
const key = () => ({ idempotencyKey: randomUUID() });

interface SavedCard {
  customer: string;
  paymentMethod: string;
}
const customers = new Map<string, string>();
const pending = new Map<string, { aid: string; customer: string; sessionId: string }>();
const cards = new Map<string, SavedCard>();
const tokens = new Map<string, SavedCard>();

const dataOf = (raw: unknown): Record<string, unknown> => JSON.parse(String(raw)) as Record<string, unknown>;
const minorUnits = (amount: unknown): number => Math.round(Number(amount) * 100);

const app = express();
app.disable('x-powered-by');

app.get('/health', (_req, res) => void res.json({ ok: true }));

app.get('/paymentgateways/getRequest', async (req: Request, res: Response) => {
  const data = dataOf(req.query.data);
  const aid = String(data.aid);
  let customer = customers.get(aid);
  if (!customer) {
    customer = (await billrunStripe.customers.create({ metadata: { billrun_aid: aid } }, key())).id;
    customers.set(aid, customer);
  }
  const txId = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString()
    .slice(0, 19);
  const metadata = { txId, billrun_aid: aid };
  const session = await billrunStripe.checkout.sessions.create(
    {
      mode: 'setup',
      customer,
      allowed_payment_method_types: ['card'],
      success_url: `${String(data.ok_page)}?txId=${txId}`,
      cancel_url: `${String(data.fail_page)}?txId=${txId}`,
      client_reference_id: txId,
      metadata,
      setup_intent_data: { metadata },
    },
    key(),
  );
  pending.set(txId, { aid, customer, sessionId: session.id });
  res.json({ status: 1, desc: 'success', details: { url: session.url } });
});

app.get('/paymentgateways/OkPage', async (req: Request, res: Response) => {
  const txId = String(req.query.txId);
  const setup = pending.get(txId);
  if (!setup) return void res.json({ status: 0, desc: 'Unknown transaction' });
  const session = await billrunStripe.checkout.sessions.retrieve(setup.sessionId, { expand: ['setup_intent.payment_method'] });
  const intent = session.setup_intent;
  const method = typeof intent === 'object' && intent !== null ? intent.payment_method : null;
  if (typeof method !== 'object' || method === null) return void res.json({ status: 0, desc: 'The card setup is not completed yet' });
  pending.delete(txId);
  cards.set(setup.aid, { customer: setup.customer, paymentMethod: method.id });
  const card = method.card;
  res.json({
    status: 1,
    desc: 'success',
    details: { credit_card: card?.last4, expiration_date: `${String(card?.exp_month).padStart(2, '0')}${card?.exp_year}`, params: [] },
  });
});

app.post('/paymentgateways/pay', express.urlencoded({ extended: false }), async (req: Request, res: Response) => {
  const data = dataOf((req.body as Record<string, unknown>).data);
  const card = cards.get(String(data.aid));
  if (!card) return void res.json({ status: 0, desc: 'No card' });
  const pi = await billrunStripe.paymentIntents.create(
    {
      amount: minorUnits(data.amount),
      currency: String(data.currency).toLowerCase(),
      customer: card.customer,
      payment_method: card.paymentMethod,
      allowed_payment_method_types: ['card'],
      off_session: true,
      confirm: true,
      metadata: { reference: String(data.reference), channel: 'billrun', customer_ref: String(data.aid) },
    },
    key(),
  );
  const status = pi.status === 'succeeded' ? 'Completed' : 'Pending';
  res.json({ status: 1, desc: 'success', details: { status, transaction_id: pi.id, reference: data.reference, amount: data.amount, currency: data.currency } });
});

app.post('/api/v1/transactions/token', express.json(), async (req: Request, res: Response) => {
  const body = req.body as { credit_card: Record<string, string | number> };
  const cc = body.credit_card;
  const token = `tok_${randomBytes(12).toString('hex')}`;
  const billing = { name: String(cc.account_name), email: String(cc.email), phone: String(cc.phone) };
  const customer = await vendorStripe.customers.create({ metadata: { hub_token: token }, ...billing }, key());
  const method = await vendorStripe.paymentMethods.create(
    {
      type: 'card',
      card: { number: String(cc.account_number), exp_month: Number(cc.exp_month), exp_year: Number(cc.exp_year), cvc: String(cc.cvn) },
      billing_details: billing,
    },
    key(),
  );
  await vendorStripe.setupIntents.create(
    {
      customer: customer.id,
      payment_method: method.id,
      confirm: true,
      usage: 'off_session',
      allowed_payment_method_types: ['card'],
      expand: ['payment_method'],
      metadata: { hub_token: token },
    },
    key(),
  );
  tokens.set(token, { customer: customer.id, paymentMethod: method.id });
  res.json({ success: true, message: 'Tokenize successfully', data: { token, status: 'verified', transaction: null } });
});

app.post('/api/v1/transactions/charge', express.json(), async (req: Request, res: Response) => {
  const body = req.body as { token: string; transaction_detail: Record<string, unknown> };
  const saved = tokens.get(body.token);
  if (!saved) return void res.status(404).json({ success: false, message: 'Token not found', data: null });
  const detail = body.transaction_detail;
  const total = minorUnits(Number(detail.amount) + Number(detail.service_charge ?? 0));
  const pi = await vendorStripe.paymentIntents.create(
    {
      amount: total,
      currency: String(detail.currency).toLowerCase(),
      customer: saved.customer,
      payment_method: saved.paymentMethod,
      allowed_payment_method_types: ['card'],
      off_session: true,
      confirm: true,
      description: String(detail.description),
      metadata: { reference: String(detail.merchant_ref_code), channel: 'hub', customer_ref: body.token },
    },
    key(),
  );
  res.json({
    success: true,
    message: 'Charge successfully',
    data: {
      token: body.token,
      status: 'verified',
      transaction: {
        MerchantRefCode: detail.merchant_ref_code,
        Total: total / 100,
        Status: pi.status === 'succeeded' ? 'paid' : 'pending',
        VendorPaymentId: pi.id,
      },
    },
  });
});

app.listen(options.port, '127.0.0.1', (err?: Error) => {
  if (err) {
    process.stderr.write(`floor failed to listen: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`floor listening on http://127.0.0.1:${options.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
