import request from 'supertest';
import { reconcileOnce } from '../../app/payments';
import { getRequestFields, signed } from '../support/billrun-requests';
import { okPageJson, startIframeSetup, stripeCustomerOf } from '../support/card-setup';
import { newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';
import { cardSetupIdOf, handshakeRows } from '../support/handshake-rows';

/** A short reconciler interval, so "within two passes" means seconds, not the 15 minutes it was. */
const INTERVAL_S = 10;

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext({ env: { RECONCILE_INTERVAL_S: String(INTERVAL_S) } });
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(async () => {
  await ctx.emulator.settleWebhooks();
  ctx.emulator.clearRequests();
});
afterEach(async () => {
  ctx.emulator.loseWebhooks(0);
  ctx.emulator.releaseWebhooks();
  await ctx.emulator.settleWebhooks();
});

const handshakeRow = (txId: string) => handshakeRows(ctx.db).where({ tx_id: txId }).first();
const activeCards = (aid: number) => ctx.db('cards').where({ customer_ref: String(aid), active: true });
const sessionReads = (sessionId: string) => ctx.emulator.requests().filter((r) => r.method === 'GET' && r.path === `/v1/checkout/sessions/${sessionId}`);
const stripeCalls = () => ctx.emulator.requests().map((r) => `${r.method} ${r.path}`);

/** The reconciler's worst case: a pass exactly when the handshake falls due. */
async function advanceToNextCheck(txId: string): Promise<number> {
  const due = new Date((await handshakeRow(txId)).next_check_at).getTime();
  const seconds = Math.max(1, Math.ceil((due - ctx.clock.now().getTime()) / 1000));
  ctx.clock.advance(seconds);
  await reconcileOnce(ctx.deps);
  return due;
}

describe('card setups finished at Stripe that nobody reported', () => {
  test('when a card is saved at Stripe while webhooks are lost and the browser never returns, then the reconciler records it within two reconciler intervals', async () => {
    expect(ctx.config.reconcileIntervalS).toBe(INTERVAL_S);
    const setup = await startIframeSetup(ctx);
    // getRequest's own events are handled first, so none of them can read the completed session.
    await ctx.emulator.settleWebhooks();
    ctx.emulator.loseWebhooks(20);
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
    await ctx.emulator.settleWebhooks();
    expect(ctx.emulator.deliveries().some((d) => d.type === 'checkout.session.completed' && d.status === null)).toBe(true);
    expect((await handshakeRow(setup.txId)).state).toBe('open');
    ctx.emulator.clearRequests();

    // Two passes, one interval apart, as startReconciler runs them.
    for (let pass = 0; pass < 2; pass++) {
      ctx.clock.advance(INTERVAL_S);
      await reconcileOnce(ctx.deps);
    }

    // One read of the session, with the card expanded, and nothing else at Stripe.
    expect(stripeCalls()).toEqual([`GET /v1/checkout/sessions/${setup.sessionId}`]);
    expect(sessionReads(setup.sessionId)[0].params).toMatchObject({ expand: ['setup_intent.payment_method'] });
    const cards = await activeCards(setup.aid);
    expect(cards).toHaveLength(1);
    const session = await ctx.stripe.checkout.sessions.retrieve(setup.sessionId, { expand: ['setup_intent'] });
    const paymentMethodId = (session.setup_intent as { payment_method: string }).payment_method;
    expect(cards[0]).toMatchObject({ four_digits: '4242', payment_method_id: paymentMethodId, card_setup_id: await cardSetupIdOf(ctx.db, setup.txId) });
    expect(await handshakeRow(setup.txId)).toMatchObject({ state: 'completed', payment_method_id: paymentMethodId, next_check_at: null });
    expect((await okPageJson(ctx, setup.txId)).body.details.credit_card).toBe('4242');
  });

  test('when pay comes right after the customer finished, before any webhook and before OkPage, then it charges the new card', async () => {
    const setup = await startIframeSetup(ctx);
    await ctx.emulator.settleWebhooks();
    ctx.emulator.pauseWebhooks();
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
    ctx.emulator.clearRequests();
    const reference = newReference();

    const res = await pay(ctx, { aid: setup.aid, amount: '19.99', currency: 'USD', reference });

    expect(res.body).toEqual({
      status: 1,
      desc: 'success',
      details: { status: 'Completed', transaction_id: expect.stringMatching(/^pi_/), reference, amount: '19.99', currency: 'USD' },
    });
    const [card] = await activeCards(setup.aid);
    expect(card).toMatchObject({ four_digits: '4242', card_setup_id: await cardSetupIdOf(ctx.db, setup.txId) });
    const charge = await ctx.db('charges').where({ reference }).first();
    expect(charge).toMatchObject({
      status: 'succeeded',
      card_id: card.id,
      payment_method_id: card.payment_method_id,
      payment_intent_id: res.body.details.transaction_id,
    });
    expect(stripeCalls()).toEqual([`GET /v1/checkout/sessions/${setup.sessionId}`, 'POST /v1/payment_intents']);
    const customer = await stripeCustomerOf(ctx, setup.aid);
    expect(ctx.emulator.requests()[1].params).toMatchObject({
      amount: '1999',
      currency: 'usd',
      customer,
      payment_method: card.payment_method_id,
      off_session: 'true',
      confirm: 'true',
    });

    // The webhooks held back arrive late and change nothing: one card, one charge.
    ctx.emulator.releaseWebhooks();
    await ctx.emulator.settleWebhooks();
    expect(await ctx.db('cards').where({ customer_ref: String(setup.aid) })).toHaveLength(1);
    expect((await handshakeRow(setup.txId)).state).toBe('completed');
    expect(await ctx.db('charges').where({ customer_ref: String(setup.aid) })).toHaveLength(1);
    expect((await ctx.stripe.paymentIntents.list({ customer })).data).toHaveLength(1);
  });

  test('when pay finds the account’s card setup still open at Stripe, then it refuses without charging and the setup stays open', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.clearRequests();

    const res = await pay(ctx, { aid: setup.aid, amount: '5.00' });

    expect(res.body).toEqual({ status: 0, details: { message: 'The account has no saved card' } });
    expect(stripeCalls()).toEqual([`GET /v1/checkout/sessions/${setup.sessionId}`]);
    expect((await handshakeRow(setup.txId)).state).toBe('open');
    expect(await ctx.db('charges').where({ customer_ref: String(setup.aid) })).toHaveLength(0);
  });

  test('when an account has many unfinished card setups, then pay reads only its own three most recent ones, newest first', async () => {
    const other = await startIframeSetup(ctx);
    const first = await startIframeSetup(ctx);
    const sessions = [first.sessionId];
    for (let i = 0; i < 3; i++) {
      ctx.clock.advance(1);
      sessions.push((await startIframeSetup(ctx, { aid: first.aid })).sessionId);
    }
    ctx.emulator.clearRequests();

    const res = await pay(ctx, { aid: first.aid, amount: '5.00' });

    expect(res.body.details.message).toBe('The account has no saved card');
    expect(stripeCalls()).toEqual(
      sessions
        .slice(1)
        .reverse()
        .map((id) => `GET /v1/checkout/sessions/${id}`),
    );
    expect(sessionReads(other.sessionId)).toHaveLength(0);
  });

  test('when nobody finishes an open card setup, then its checks back off with its age and it is read at most 15 times in its first hour', async () => {
    const setup = await startIframeSetup(ctx);
    const opened = new Date((await handshakeRow(setup.txId)).created_at).getTime();
    ctx.emulator.clearRequests();

    const dueTimes: number[] = [];
    const nextCheck = async () => new Date((await handshakeRow(setup.txId)).next_check_at).getTime();
    while ((await nextCheck()) - opened < 60 * 60_000) dueTimes.push(await advanceToNextCheck(setup.txId));

    const reads = sessionReads(setup.sessionId).length;
    expect(reads).toBe(dueTimes.length);
    expect(reads).toBeLessThanOrEqual(15);
    // The first look comes within two reconciler passes of opening.
    expect(dueTimes[0] - opened).toBeLessThanOrEqual(2 * INTERVAL_S * 1000);
    const gaps = dueTimes.slice(1).map((t, i) => t - dueTimes[i]);
    // A pass runs up to a second after the due time (whole seconds on the emulator clock), so two
    // looks both at the 15 s floor may lie up to a second closer than the two before them.
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1] - 1000);
    expect(gaps.at(-1)).toBeGreaterThan(10 * gaps[0]);
    expect((await handshakeRow(setup.txId)).state).toBe('open');
  });

  test('when an open card setup is left for its whole life, then the checks are capped at an hour apart, the last one is at the session expiry, and it ends expired', async () => {
    const setup = await startIframeSetup(ctx);
    const { expires_at: expiresAt } = await handshakeRow(setup.txId);
    ctx.emulator.clearRequests();

    const dueTimes: number[] = [];
    while ((await handshakeRow(setup.txId)).state === 'open' && dueTimes.length < 100) dueTimes.push(await advanceToNextCheck(setup.txId));

    expect(await handshakeRow(setup.txId)).toMatchObject({ state: 'expired', next_check_at: null });
    expect(dueTimes.at(-1)).toBe(new Date(expiresAt).getTime());
    const gaps = dueTimes.slice(1).map((t, i) => t - dueTimes[i]);
    // Each pass runs up to a second after the due time, as above.
    expect(Math.max(...gaps)).toBeLessThanOrEqual(60 * 60_000 + 2000);
    expect(gaps.filter((gap) => gap >= 60 * 60_000).length).toBeGreaterThan(15);
    // A day at the old fixed 15 minutes was 96 reads; this schedule makes 38 at most.
    expect(sessionReads(setup.sessionId).length).toBeLessThanOrEqual(40);
  });
});

describe('custom-flow card setups', () => {
  test('when a custom-flow setup (a SetupIntent, which never expires at Stripe) is abandoned, then it closes as expired after 24 h and is no longer read', async () => {
    const data = signed(getRequestFields({ request_parameters: true, custom_flow: true }, ctx.clock.now()));
    const res = await request(ctx.app).post('/paymentgateways/getRequest').type('form').send({ data });
    const txId = res.body.details.url.txId as string;
    const row = await handshakeRow(txId);
    expect(row.state).toBe('open');
    const lifetime = new Date(row.expires_at).getTime() - new Date(row.created_at).getTime();
    // Counted from when Stripe answered, a few ms after the row was made.
    expect(lifetime).toBeGreaterThanOrEqual(24 * 60 * 60_000);
    expect(lifetime).toBeLessThan(24 * 60 * 60_000 + 5000);

    ctx.clock.advance(24 * 60 * 60 + 1);
    await reconcileOnce(ctx.deps);
    expect(await handshakeRow(txId)).toMatchObject({ state: 'expired', next_check_at: null });
  });
});
