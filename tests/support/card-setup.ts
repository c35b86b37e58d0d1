import request from 'supertest';
import { getRequestFields, newAid, signed, type GetRequestFields } from './billrun-requests';
import type { TestContext } from './test-context';
import { handshakeRows } from './handshake-rows';

export interface StartedSetup {
  aid: number;
  txId: string;
  sessionId: string;
  checkoutUrl: string;
}

/** A signed iframe getRequest, as BillRun's server makes it; returns what the client would keep. */
export async function startIframeSetup(ctx: TestContext, overrides: GetRequestFields = {}): Promise<StartedSetup> {
  const aid = (overrides.aid as number | undefined) ?? newAid();
  const res = await request(ctx.app)
    .get('/paymentgateways/getRequest')
    .query({ data: signed(getRequestFields({ aid, ...overrides }, ctx.clock.now())) });
  if (res.body.status !== 1) throw new Error(`getRequest failed: ${JSON.stringify(res.body)}`);
  const checkoutUrl: string = res.body.details.url;
  const sessionId = checkoutUrl.split('/').pop() as string;
  const handshake = await handshakeRows(ctx.db).where({ checkout_session_id: sessionId }).first();
  return { aid, txId: handshake.tx_id, sessionId, checkoutUrl };
}

export const okPageJson = (ctx: TestContext, txId: string) =>
  request(ctx.app).get('/paymentgateways/OkPage').query({ name: 'StripeCheckout', txId, redirect: '0' });

/** An account with a saved card, through the real flow (getRequest, Checkout, OkPage). */
export async function accountWithCard(ctx: TestContext, card = '4242424242424242'): Promise<{ aid: number; txId: string }> {
  const setup = await startIframeSetup(ctx);
  ctx.emulator.completeCheckoutSession(
    setup.sessionId,
    card,
    card.endsWith('3155') || card.endsWith('3184') || card.endsWith('3220') || card.endsWith('1629') || card.endsWith('1091')
      ? { threeDSecure: 'pass' }
      : undefined,
  );
  const ok = await okPageJson(ctx, setup.txId);
  if (ok.body.status !== 1) throw new Error(`card not saved: ${JSON.stringify(ok.body)}`);
  return { aid: setup.aid, txId: setup.txId };
}

/** The Stripe customer id a BillRun account is mapped to (in the default Stripe account). */
export async function stripeCustomerOf(ctx: TestContext, aid: number): Promise<string> {
  const door = await ctx.deps.stripeAccounts.defaultAccount();
  const row = await ctx
    .db('customers')
    .where({ owner_id: 'billrun', stripe_account: door.accountId, external_ref: String(aid) })
    .first();
  return row.stripe_customer_id;
}
