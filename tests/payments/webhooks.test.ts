import request from 'supertest';
import { accountWithCard, okPageJson, startIframeSetup } from '../support/card-setup';
import { credit, pay } from '../support/payment-requests';
import { createApp } from '../../app/app';
import { createStripeAccounts, keyedAccount } from '../../app/stripe';
import { stripeAccountStore } from '../../app/payments';
import { startTestContext, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';
import { cardSetupIdOf, handshakeRows } from '../support/handshake-rows';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});
afterEach(async () => {
  ctx.emulator.duplicateWebhooks(false);
  ctx.emulator.setPaymentMode('immediate');
  await ctx.emulator.settleWebhooks();
});

const chargeRow = (reference: string) => ctx.db('charges').where({ reference }).first();
const eventRows = (objectId: string) => ctx.db('stripe_events').where({ object_id: objectId }).orderBy('received_at');

describe('Stripe webhooks in', () => {
  test('when the signature is wrong or missing, then 400 and nothing is recorded', async () => {
    const body = JSON.stringify({ id: 'evt_forged', object: 'event', type: 'payment_intent.succeeded', data: { object: { id: 'pi_x' } } });
    const bad = await request(ctx.app)
      .post('/webhooks/stripe')
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)
      .send(body);
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'Invalid webhook signature' });
    const missing = await request(ctx.app).post('/api/v1/hook/stripe').set('Content-Type', 'application/json').send(body);
    expect(missing.status).toBe(400);
    expect(await ctx.db('stripe_events').where({ id: 'evt_forged' })).toHaveLength(0);
  });

  test('when two secrets are configured during a rotation, then an event signed with either is accepted', async () => {
    const rotating = createStripeAccounts({
      defaultAccount: keyedAccount({
        label: 'rotating',
        secretKey: TEST_STRIPE_KEY,
        apiBase: ctx.config.stripe.apiBase as URL,
        timeoutMs: 5000,
        maxNetworkRetries: 0,
        webhookSecrets: ['whsec_new_secret', 'whsec_old_secret'],
        idempotencyPrefix: 'rotation-test',
      }),
      store: stripeAccountStore(ctx.db),
      logger: ctx.deps.logger,
    });
    const app = createApp({ ...ctx.deps, stripeAccounts: rotating });
    const send = (secret: string, id: string) => {
      const payload = JSON.stringify({ id, object: 'event', type: 'invoice.paid', data: { object: { id: 'in_1', object: 'invoice' } } });
      return request(app.app)
        .post('/webhooks/stripe')
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload, secret }))
        .send(payload);
    };
    const old = await send('whsec_old_secret', 'evt_rotation_old');
    const stranger = await send('whsec_unknown', 'evt_rotation_stranger');
    app.session.close();
    expect(old.status).toBe(200);
    expect(stranger.status).toBe(400);
    expect((await ctx.db('stripe_events').where({ id: 'evt_rotation_old' }).first()).outcome).toBe('recorded: the service makes no invoices');
    expect(await ctx.db('stripe_events').where({ id: 'evt_rotation_stranger' })).toHaveLength(0);
  });

  test('when every event is delivered twice, then each is processed once and the rows are as after one delivery', async () => {
    ctx.emulator.duplicateWebhooks(true);
    const { aid } = await accountWithCard(ctx);
    const paid = await pay(ctx, { aid, amount: '20.00' });
    const pi = paid.body.details.transaction_id as string;
    await credit(ctx, { transaction_id: pi, amount: '5.00' });
    await ctx.emulator.settleWebhooks();

    const events = await ctx
      .db('stripe_events')
      .whereIn('type', ['payment_intent.succeeded', 'charge.refunded', 'refund.created'])
      .andWhere('object_id', 'like', '%');
    const ours = events.filter((e) => e.outcome && !e.outcome.startsWith('ignored'));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    expect(ours.every((e) => e.deliveries === 2 && e.processed_at !== null)).toBe(true);
    const charge = await chargeRow(paid.body.details.reference);
    expect(charge.status).toBe('succeeded');
    const refunds = await ctx.db('refunds').where({ charge_id: charge.id });
    expect(refunds.map((r) => [Number(r.amount), r.status])).toEqual([[500, 'succeeded']]);
    expect(ctx.logs.filter((l) => l.includes('"charge state changed"') && l.includes(`"chargeId":${charge.id}`))).toHaveLength(1);
  });

  test('when a card is saved in Checkout and OkPage never comes, then the webhook records it', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
    await ctx.emulator.settleWebhooks();
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('completed');
    expect(
      (
        await ctx
          .db('cards')
          .where({ customer_ref: String(setup.aid), active: true })
          .first()
      ).four_digits,
    ).toBe('4242');
    ctx.emulator.clearRequests();
    expect((await okPageJson(ctx, setup.txId)).body).toMatchObject({ status: 1, details: { credit_card: '4242' } });
    expect(ctx.emulator.requests()).toEqual([]);
  });

  test('when only setup_intent.succeeded arrives (checkout.session.completed lost), then the card is still recorded', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.loseWebhooks(1, { type: 'checkout.session.completed' });
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
    await ctx.emulator.settleWebhooks();
    const handled = await ctx
      .db('stripe_events')
      .where({ type: 'setup_intent.succeeded' })
      .whereLike('outcome', `card setup ${await cardSetupIdOf(ctx.db, setup.txId)}:%`);
    expect(handled).toHaveLength(1);
    expect(await ctx.db('stripe_events').where({ type: 'checkout.session.completed', object_id: setup.sessionId })).toHaveLength(0);
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('completed');
  });

  test('when a 3184 charge is Pending and the customer passes the challenge, then the charge is Completed by the webhook alone', async () => {
    const { aid } = await accountWithCard(ctx, '4000002760003184');
    const paid = await pay(ctx, { aid, amount: '30.00' });
    expect(paid.body.details.status).toBe('Pending');
    const link = new URL(paid.body.details.authentication_url);

    // Opening the link only shows the payment (a mail scanner must not start anything)...
    ctx.emulator.clearRequests();
    const shown = await request(ctx.app).get(link.pathname);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('30.00 USD');
    expect(ctx.emulator.requests().filter((r) => r.method === 'POST')).toEqual([]);
    // ...the customer's button press confirms on-session and goes to the bank.
    const open = await request(ctx.app).post(link.pathname);
    expect(open.status).toBe(303);
    const challenge = new URL(open.headers.location);
    expect(challenge.origin).toBe(ctx.emulator.url);

    // The customer passes 3-D Secure at the bank; the browser never comes back to us.
    const pi = paid.body.details.transaction_id as string;
    ctx.emulator.authenticatePaymentIntent(pi, 'pass');
    await ctx.emulator.settleWebhooks();
    expect((await chargeRow(paid.body.details.reference)).status).toBe('succeeded');

    const again = await pay(ctx, { aid, amount: '30.00', reference: paid.body.details.reference });
    expect(again.body.details).toMatchObject({ status: 'Completed', transaction_id: pi });
  });

  test('when the customer fails the challenge, then the charge is Rejected', async () => {
    const { aid } = await accountWithCard(ctx, '4000002760003184');
    const paid = await pay(ctx, { aid, amount: '30.00' });
    await request(ctx.app).post(new URL(paid.body.details.authentication_url).pathname);
    const done = ctx.emulator.authenticatePaymentIntent(paid.body.details.transaction_id, 'fail');
    const back = await request(ctx.app).get(new URL(done.redirectUrl).pathname);
    expect(back.text).toContain('Payment not completed');
    await ctx.emulator.settleWebhooks();
    const again = await pay(ctx, { aid, amount: '30.00', reference: paid.body.details.reference });
    expect(again.body.details.status).toBe('Rejected');
  });
});

describe('the 3-D Secure page', () => {
  test('when two tabs press continue at once, then Stripe confirms once; after the challenge the return page says completed', async () => {
    const { aid } = await accountWithCard(ctx, '4000002760003184');
    const paid = await pay(ctx, { aid, amount: '12.00' });
    const path = new URL(paid.body.details.authentication_url).pathname;
    ctx.emulator.clearRequests();
    const [a, b] = await Promise.all([request(ctx.app).post(path), request(ctx.app).post(path)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    const confirms = ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/confirm'));
    expect(new Set(confirms.map((r) => r.idempotencyKey)).size).toBe(1);
    const done = ctx.emulator.authenticatePaymentIntent(paid.body.details.transaction_id, 'pass');
    const back = await request(ctx.app).get(new URL(done.redirectUrl).pathname);
    expect(back.text).toContain('Payment completed');
    expect((await chargeRow(paid.body.details.reference)).status).toBe('succeeded');
  });

  test('when the token is unknown, then 404 and a plain page', async () => {
    const res = await request(ctx.app).get('/pay/authenticate/not-a-real-token');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Link not valid');
  });
});

describe('out-of-order delivery', () => {
  /** A processing charge that then succeeds, and a refund made at Stripe directly (the dashboard). */
  async function scenario(release: (() => Promise<void>) | undefined) {
    const { aid } = await accountWithCard(ctx);
    if (release) ctx.emulator.pauseWebhooks();
    ctx.emulator.setPaymentMode('processing');
    const paid = await pay(ctx, { aid, amount: '50.00' });
    expect(paid.body.details.status).toBe('Pending');
    const pi = paid.body.details.transaction_id as string;
    ctx.emulator.settlePaymentIntent(pi, 'succeeded');
    await ctx.stripe.refunds.create({ payment_intent: pi, amount: 1500 });
    if (release) await release();
    await ctx.emulator.settleWebhooks();
    const charge = await chargeRow(paid.body.details.reference);
    const refunds = await ctx.db('refunds').where({ charge_id: charge.id });
    return {
      charge: { status: charge.status, amount: Number(charge.amount), failure: charge.failure_code },
      refunds: refunds.map((r) => ({ amount: Number(r.amount), status: r.status, external: r.reference === null })),
      events: (await eventRows(pi)).length,
    };
  }

  test('when events arrive reversed (succeeded before processing, refund before charge) and duplicated, then the rows end as in order', async () => {
    const inOrder = await scenario(undefined);
    const reversed = await scenario(async () => ctx.emulator.releaseWebhooks({ order: 'reverse', duplicate: true }));
    expect(inOrder.charge).toEqual({ status: 'succeeded', amount: 5000, failure: null });
    expect(inOrder.refunds).toEqual([{ amount: 1500, status: 'succeeded', external: true }]);
    expect(reversed.charge).toEqual(inOrder.charge);
    expect(reversed.refunds).toEqual(inOrder.refunds);
    expect(reversed.events).toBeGreaterThan(0);
  });
});

describe('card setups confirmed late', () => {
  test('when an older setup is confirmed after a newer one, then the newer card stays active and the older is kept as history', async () => {
    const older = await startIframeSetup(ctx);
    const newer = await startIframeSetup(ctx, { aid: older.aid });
    ctx.emulator.pauseWebhooks();
    ctx.emulator.completeCheckoutSession(older.sessionId, '4242424242424242');
    ctx.emulator.completeCheckoutSession(newer.sessionId, '3530111333300000');
    await okPageJson(ctx, newer.txId); // the newer one is confirmed first
    ctx.emulator.releaseWebhooks(); // the older one only through its (late) webhook
    await ctx.emulator.settleWebhooks();
    const cards = await ctx
      .db('cards')
      .where({ customer_ref: String(older.aid) })
      .orderBy('id');
    expect(cards.map((c) => [c.four_digits, c.active])).toEqual([
      ['0000', true],
      ['4242', false],
    ]);
  });
});
