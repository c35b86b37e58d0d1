/**
 * The benchmark's flows, as BillRun, a customer's browser and a Payment Hub merchant make them,
 * over HTTP. The same requests go to the service and to the floor. Each returns the milliseconds
 * its requests to the target took (the emulator's part, the customer entering the card, is not
 * counted in the latency).
 */
import { randomUUID } from 'node:crypto';
import { signData } from '../app/billrun/billrun-signature';

export const BENCH_SECRET = 'bench-billrun-shared-secret';
/** The card saved in every setup and token: Stripe's plain success card. */
const CARD = '4242424242424242';

export interface HubCredentials {
  publicKey: string;
  secretKey: string;
  vendorId: string;
}

export interface FlowContext {
  /** The service or the floor, e.g. http://127.0.0.1:3000 */
  target: string;
  /** The Stripe emulator (its /_emulator control API completes Checkout as a browser would). */
  emulator: string;
  hub?: HubCredentials;
  /** BillRun accounts with a saved card at this target, for `pay`. */
  payAccounts?: number[];
}

export type FlowName = 'card-setup' | 'pay' | 'hub';

export interface Flow {
  title: string;
  /** Runs the flow once; `n` numbers it (a new account id for card-setup). */
  run(ctx: FlowContext, n: number): Promise<number>;
}

const unixNow = (): string => String(Math.floor(Date.now() / 1000));

const signed = (fields: Record<string, unknown>): string => signData(JSON.stringify({ ...fields, _t_: unixNow() }), BENCH_SECRET);

class FlowError extends Error {}

async function timedJson(url: string, init?: RequestInit): Promise<{ body: Record<string, unknown>; ms: number; status: number }> {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = performance.now() - started;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new FlowError(`${init?.method ?? 'GET'} ${new URL(url).pathname}: ${res.status} ${text.slice(0, 200)}`);
  }
  return { body, ms, status: res.status };
}

function expectThat(ok: boolean, what: string, body: unknown): void {
  if (!ok) throw new FlowError(`${what}: ${JSON.stringify(body).slice(0, 300)}`);
}

/** getRequest (iframe) for account `aid`, the card entered at the emulator's Checkout, OkPage. */
export async function cardSetup(ctx: FlowContext, aid: number): Promise<number> {
  const data = signed({
    iframe: true,
    aid,
    name: 'StripeCheckout',
    type: 'account',
    ok_page: 'https://portal.example/ok',
    fail_page: 'https://portal.example/fail',
  });
  const started = await timedJson(`${ctx.target}/paymentgateways/getRequest?data=${encodeURIComponent(data)}`);
  const url = (started.body.details as { url?: string } | undefined)?.url;
  expectThat(started.body.status === 1 && typeof url === 'string', 'getRequest', started.body);
  const sessionId = (url as string).split('/').pop() as string;
  const completed = await timedJson(`${ctx.emulator}/_emulator/checkout/sessions/${encodeURIComponent(sessionId)}/complete`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ card: CARD }),
  });
  expectThat(typeof completed.body.redirect_url === 'string', 'Checkout completion', completed.body);
  const txId = new URL(completed.body.redirect_url as string).searchParams.get('txId') ?? '';
  const ok = await timedJson(`${ctx.target}/paymentgateways/OkPage?name=StripeCheckout&txId=${encodeURIComponent(txId)}&redirect=0`);
  expectThat(ok.body.status === 1, 'OkPage', ok.body);
  return started.ms + ok.ms;
}

/** BillRun's pay of 19.99 USD on a saved card, under a new reference. */
export async function pay(ctx: FlowContext, n: number): Promise<number> {
  const accounts = ctx.payAccounts ?? [];
  expectThat(accounts.length > 0, 'pay needs accounts with a saved card', accounts);
  const data = signed({ aid: accounts[n % accounts.length], amount: '19.99', currency: 'USD', reference: `bench-${randomUUID()}` });
  const paid = await timedJson(`${ctx.target}/paymentgateways/pay`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ data }).toString(),
  });
  expectThat(paid.body.status === 1 && (paid.body.details as { status?: string } | undefined)?.status === 'Completed', 'pay', paid.body);
  return paid.ms;
}

/** The Payment Hub: a token from raw card data (public key), then a charge of it (secret key). */
export async function hubTokenAndCharge(ctx: FlowContext): Promise<number> {
  const hub = ctx.hub;
  expectThat(hub !== undefined, 'the Hub flow needs a merchant', hub);
  const { publicKey, secretKey, vendorId } = hub as HubCredentials;
  const json = (key: string, body: unknown): RequestInit => ({
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const token = await timedJson(
    `${ctx.target}/api/v1/transactions/token`,
    json(publicKey, {
      payment_vendor: vendorId,
      credit_card: {
        account_name: 'John Doe',
        account_number: CARD,
        exp_month: '12',
        exp_year: 2040,
        cvn: '123',
        email: 'dev@bookandlink.com',
        phone: '081xxxxxxxxxxxx',
      },
    }),
  );
  const tokenData = token.body.data as { token?: string; status?: string } | undefined;
  expectThat(token.body.success === true && tokenData?.status === 'verified', 'Hub token', token.body);
  const charge = await timedJson(
    `${ctx.target}/api/v1/transactions/charge`,
    json(secretKey, {
      payment_vendor: vendorId,
      token: tokenData?.token,
      transaction_detail: {
        merchant_ref_code: `bench-${randomUUID()}`,
        amount: 150,
        service_charge: 0,
        description: 'Room 101',
        currency: 'USD',
        send_email: false,
      },
    }),
  );
  const transaction = (charge.body.data as { transaction?: { Status?: string } } | undefined)?.transaction;
  expectThat(charge.body.success === true && transaction?.Status === 'paid', 'Hub charge', charge.body);
  return token.ms + charge.ms;
}

export const FLOWS: ReadonlyMap<FlowName, Flow> = new Map<FlowName, Flow>([
  ['card-setup', { title: 'card setup (getRequest + Checkout at the emulator + OkPage), a new account each', run: cardSetup }],
  ['pay', { title: 'pay (BillRun pay on a saved card, a new reference each)', run: pay }],
  ['hub', { title: 'Payment Hub token (raw card) + charge', run: (ctx) => hubTokenAndCharge(ctx) }],
]);
