import { randomInt } from 'node:crypto';
import request from 'supertest';
import type Stripe from 'stripe';
import {
  chargeSavedCard,
  checkoutSide,
  confirmCardSetup,
  readCardSetup,
  readCharge,
  reconcileOnce,
  refundCharge,
  startCardSetup,
  toMinorUnits,
  type CustomerKey,
} from '../../app/payments';
import { installationId } from '../../app/db';
import { createStripeClient, keyedAccount, type StripeDoor } from '../../app/stripe';
import { accountWithCard, okPageJson, startIframeSetup } from '../support/card-setup';
import { newReference, pay } from '../support/payment-requests';
import { startTestContext, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';

/** The core serves many owners and many Stripe accounts: nothing of one reaches the other. */

const KEY_B = 'sk_test_second_stripe_account';

let ctx: TestContext;
let stripeB: Stripe;
let doorA: StripeDoor;
let doorB: StripeDoor;
let endpointB: { id: string; secret: string };

beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [KEY_B] });
  stripeB = createStripeClient({ secretKey: KEY_B, apiBase: ctx.config.stripe.apiBase as URL, timeoutMs: 10000, maxNetworkRetries: 0 });
  // Account B is a vendor's: its own key, its own webhook endpoint (at its own path) and secret.
  const acctB = ctx.emulator.accountId(KEY_B);
  endpointB = ctx.emulator.addWebhookEndpoint(`${ctx.baseUrl}/webhooks/stripe/${acctB}`, ['*'], { apiKey: KEY_B });
  ctx.deps.stripeAccounts.add(
    keyedAccount({
      label: 'vendor B',
      secretKey: KEY_B,
      apiBase: ctx.config.stripe.apiBase as URL,
      timeoutMs: 10000,
      maxNetworkRetries: 0,
      webhookSecrets: [endpointB.secret],
      idempotencyPrefix: await installationId(ctx.db),
    }),
  );
  doorA = await ctx.deps.stripeAccounts.defaultAccount();
  doorB = (await ctx.deps.stripeAccounts.forStripeAccount(acctB)) as StripeDoor;
  for (const id of ['mer_alpha', 'mer_beta']) await ctx.db('owners').insert({ id, kind: 'merchant', name: id }).onConflict('id').ignore();
});
afterAll(async () => {
  await ctx.close();
});
afterEach(async () => {
  ctx.emulator.setPaymentMode('immediate');
  ctx.emulator.loseWebhooks(0);
  await ctx.emulator.settleWebhooks();
});

const usd = (amount: string) => toMinorUnits(amount, 'USD');
const newTxId = () => Array.from({ length: 19 }, (_, i) => (i === 0 ? randomInt(1, 10) : randomInt(0, 10))).join('');

/** A customer of `ownerId` with a saved 4242 card in the door's Stripe account, through the core's card-setup use cases. */
async function customerWithCard(ownerId: string, door: StripeDoor): Promise<CustomerKey & { cardSetupId: number }> {
  const key: CustomerKey = { ownerId, stripeAccount: door.accountId, customerRef: `cust-${randomInt(1e9)}` };
  const { setup, answer: session } = await startCardSetup(ctx.deps, door, {
    key,
    details: { metadata: { customer_ref: key.customerRef } },
    open: checkoutSide({ successUrl: 'https://shop.example/ok', cancelUrl: 'https://shop.example/no', metadata: {}, expandSetupIntent: false }),
  });
  ctx.emulator.completeCheckoutSession(session.id, '4242424242424242');
  const outcome = await confirmCardSetup(ctx.deps, ownerId, setup.id);
  expect(outcome.kind).toBe('completed');
  return { ...key, cardSetupId: setup.id };
}

describe('owners', () => {
  test('when two owners charge with the same reference, then both are charged, separately', async () => {
    const alpha = await customerWithCard('mer_alpha', doorA);
    const beta = await customerWithCard('mer_beta', doorA);
    const reference = `order-${randomInt(1e9)}`;
    const a = await chargeSavedCard(ctx.deps, { channel: 'hub', reference, customer: alpha, amount: usd('10.00') });
    const b = await chargeSavedCard(ctx.deps, { channel: 'hub', reference, customer: beta, amount: usd('20.00') });
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(a.paymentIntentId).not.toBe(b.paymentIntentId);
    expect(await ctx.db('charges').where({ reference }).orderBy('owner_id').select('owner_id', 'amount')).toEqual([
      { owner_id: 'mer_alpha', amount: expect.anything() },
      { owner_id: 'mer_beta', amount: expect.anything() },
    ]);
    expect((await ctx.stripe.paymentIntents.retrieve(b.paymentIntentId as string)).amount).toBe(2000);
  });

  test("when owner A names owner B's charge or customer by any id, then it is not found and nothing moves", async () => {
    const alpha = await customerWithCard('mer_alpha', doorA);
    const beta = await customerWithCard('mer_beta', doorA);
    const reference = `order-${randomInt(1e9)}`;
    const bCharge = await chargeSavedCard(ctx.deps, { channel: 'hub', reference, customer: beta, amount: usd('30.00') });
    ctx.emulator.clearRequests();

    await expect(
      refundCharge(ctx.deps, { ownerId: 'mer_alpha', channel: 'hub', reference: newReference(), paymentIntentId: bCharge.paymentIntentId as string }),
    ).rejects.toMatchObject({ kind: 'not_found' });
    await expect(readCharge(ctx.deps, 'mer_alpha', { paymentIntentId: bCharge.paymentIntentId as string })).rejects.toMatchObject({ kind: 'not_found' });
    await expect(readCharge(ctx.deps, 'mer_alpha', { reference })).rejects.toMatchObject({ kind: 'not_found' });
    // B's customer reference under A's name is a customer A does not have: no card to charge.
    await expect(
      chargeSavedCard(ctx.deps, { channel: 'hub', reference: newReference(), customer: { ...beta, ownerId: 'mer_alpha' }, amount: usd('5.00') }),
    ).rejects.toMatchObject({ code: 'no_card' });
    expect(ctx.emulator.requests().filter((r) => r.method === 'POST')).toEqual([]);
    expect(await ctx.db('refunds').where({ charge_id: bCharge.id })).toHaveLength(0);
    expect((await readCharge(ctx.deps, 'mer_beta', { reference })).id).toBe(bCharge.id);
    // B's card setup is unknown to A, and to BillRun's OkPage even when a handshake row names it.
    expect(await readCardSetup(ctx.deps, 'mer_alpha', beta.cardSetupId)).toBeUndefined();
    await expect(confirmCardSetup(ctx.deps, 'mer_alpha', beta.cardSetupId)).rejects.toMatchObject({ kind: 'not_found' });
    const txId = newTxId();
    await ctx
      .db('handshakes')
      .insert({ tx_id: txId, card_setup_id: beta.cardSetupId, instance_name: 'StripeCheckout', flow: 'iframe', request_t: '1', return_url: 'https://x' });
    const okPage = await okPageJson(ctx, txId);
    expect(okPage.body).toEqual({ status: 0, details: { message: 'Unknown transaction' } });
    // A has a card of its own all along: owning one does not open B's.
    expect(await ctx.db('cards').where({ owner_id: 'mer_alpha', customer_ref: alpha.customerRef, active: true })).toMatchObject([{ four_digits: '4242' }]);
  });
});

describe('two Stripe accounts on one service', () => {
  test('when a charge is made in each account, then each PaymentIntent lives in its own account and its webhooks settle only its own rows', async () => {
    const { aid } = await accountWithCard(ctx);
    const paidA = await pay(ctx, { aid, amount: '11.00' });
    const vendor = await customerWithCard('mer_beta', doorB);
    const chargeB = await chargeSavedCard(ctx.deps, { channel: 'hub', reference: newReference(), customer: vendor, amount: usd('22.00') });
    await ctx.emulator.settleWebhooks();

    const piA = paidA.body.details.transaction_id as string;
    const piB = chargeB.paymentIntentId as string;
    expect((await ctx.stripe.paymentIntents.retrieve(piA)).status).toBe('succeeded');
    expect((await stripeB.paymentIntents.retrieve(piB)).status).toBe('succeeded');
    await expect(ctx.stripe.paymentIntents.retrieve(piB)).rejects.toMatchObject({ code: 'resource_missing' });
    expect((await ctx.db('charges').where({ payment_intent_id: piA }).first()).owner_id).toBe('billrun');
    expect(Number((await ctx.db('charges').where({ payment_intent_id: piA }).first()).stripe_account)).toBe(doorA.accountId);
    expect(Number((await ctx.db('charges').where({ payment_intent_id: piB }).first()).stripe_account)).toBe(doorB.accountId);
    // B's events came in at B's path, verified with B's secret, and were recorded as B's.
    const eventsB = await ctx.db('stripe_events').where({ object_id: piB });
    expect(eventsB.length).toBeGreaterThan(0);
    expect(eventsB.every((e) => Number(e.stripe_account) === doorB.accountId)).toBe(true);
    expect(eventsB.some((e) => /^charge \d+: succeeded$/.test(e.outcome))).toBe(true);
  });

  test("when both accounts' answers and webhooks are lost, then the reconciler settles each with its own key", async () => {
    const { aid } = await accountWithCard(ctx);
    const vendor = await customerWithCard('mer_alpha', doorB);
    ctx.emulator.setPaymentMode('processing');
    const paidA = await pay(ctx, { aid, amount: '13.00' });
    const chargeB = await chargeSavedCard(ctx.deps, { channel: 'hub', reference: newReference(), customer: vendor, amount: usd('26.00') });
    expect([paidA.body.details.status, chargeB.status]).toEqual(['Pending', 'processing']);
    await ctx.emulator.settleWebhooks();
    ctx.emulator.loseWebhooks(100);
    ctx.emulator.settlePaymentIntent(paidA.body.details.transaction_id, 'succeeded');
    ctx.emulator.settlePaymentIntent(chargeB.paymentIntentId as string, 'succeeded');
    ctx.emulator.clearRequests();

    ctx.clock.advance(6 * 60);
    await reconcileOnce(ctx.deps);
    const reads = ctx.emulator.requests().filter((r) => r.method === 'GET' && r.path.startsWith('/v1/payment_intents/'));
    expect(reads.find((r) => r.path.endsWith(paidA.body.details.transaction_id))?.account).toBe(doorA.stripeAccountId);
    expect(reads.find((r) => r.path.endsWith(chargeB.paymentIntentId as string))?.account).toBe(doorB.stripeAccountId);
    expect((await ctx.db('charges').where({ id: chargeB.id }).first()).status).toBe('succeeded');
    expect((await ctx.db('charges').where({ payment_intent_id: paidA.body.details.transaction_id }).first()).status).toBe('succeeded');
  });

  test("when an event about account B's PaymentIntent is signed with account A's secret, then no row of B changes", async () => {
    const vendor = await customerWithCard('mer_alpha', doorB);
    ctx.emulator.setPaymentMode('processing');
    const chargeB = await chargeSavedCard(ctx.deps, { channel: 'hub', reference: newReference(), customer: vendor, amount: usd('27.00') });
    await ctx.emulator.settleWebhooks();
    ctx.emulator.loseWebhooks(100);
    ctx.emulator.settlePaymentIntent(chargeB.paymentIntentId as string, 'succeeded');
    const payload = JSON.stringify({
      id: `evt_forged_${randomInt(1e9)}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: chargeB.paymentIntentId, object: 'payment_intent', metadata: { charge_id: String(chargeB.id) } } },
    });
    const signedA = ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: ctx.webhookSecret });
    const atDefault = await request(ctx.app).post('/webhooks/stripe').set('Content-Type', 'application/json').set('Stripe-Signature', signedA).send(payload);
    expect(atDefault.status).toBe(200);
    const atB = await request(ctx.app)
      .post(`/webhooks/stripe/${doorB.stripeAccountId}`)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', signedA)
      .send(payload);
    expect(atB.status).toBe(400);
    const unknown = await request(ctx.app)
      .post('/webhooks/stripe/acct_nobodyhere')
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', signedA)
      .send(payload);
    expect(unknown.status).toBe(404);
    // A live-mode event for a test-mode account (same acct_ id, other objects) is refused too.
    const live = JSON.stringify({ ...JSON.parse(payload), id: `evt_live_${randomInt(1e9)}`, livemode: true });
    const liveAtB = await request(ctx.app)
      .post(`/webhooks/stripe/${doorB.stripeAccountId}`)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload: live, secret: endpointB.secret }))
      .send(live);
    expect(liveAtB.status).toBe(400);
    expect(liveAtB.body.error).toMatch(/live-mode event for a test-mode account/);
    expect((await ctx.db('charges').where({ id: chargeB.id }).first()).status).toBe('processing');
    expect(
      (
        await ctx
          .db('stripe_events')
          .where({ id: JSON.parse(payload).id })
          .first()
      ).outcome,
    ).toBe('ignored: no charge of ours');
  });
});

describe('two keys of one Stripe account', () => {
  test('when a second key of account B brings its own webhook secret, then events signed with either secret are verified at B and calls keep one door', async () => {
    const secondSecret = `whsec_second_key_of_b_${randomInt(1e9)}`;
    ctx.deps.stripeAccounts.add(
      keyedAccount({
        label: 'vendor B, second registration',
        secretKey: KEY_B,
        apiBase: ctx.config.stripe.apiBase as URL,
        timeoutMs: 10000,
        maxNetworkRetries: 0,
        webhookSecrets: [secondSecret],
        idempotencyPrefix: await installationId(ctx.db),
      }),
    );
    const vendor = await customerWithCard('mer_beta', doorB);
    const charge = await chargeSavedCard(ctx.deps, { channel: 'hub', reference: newReference(), customer: vendor, amount: usd('8.00') });
    const door = await ctx.deps.stripeAccounts.forAccount(doorB.accountId);
    expect(door.accountId).toBe(doorB.accountId);
    expect([...door.webhookSecrets].sort()).toEqual([endpointB.secret, secondSecret].sort());
    for (const secret of [endpointB.secret, secondSecret]) {
      const payload = JSON.stringify({
        id: `evt_two_keys_${randomInt(1e9)}`,
        object: 'event',
        type: 'payment_intent.succeeded',
        data: { object: { id: charge.paymentIntentId, object: 'payment_intent', metadata: { charge_id: String(charge.id) } } },
      });
      const res = await request(ctx.app)
        .post(`/webhooks/stripe/${doorB.stripeAccountId}`)
        .set('Content-Type', 'application/json')
        .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload, secret }))
        .send(payload);
      expect(res.status).toBe(200);
      expect(
        (
          await ctx
            .db('stripe_events')
            .where({ id: JSON.parse(payload).id })
            .first()
        ).outcome,
      ).toBe(`charge ${charge.id}: succeeded`);
    }
    const forged = JSON.stringify({
      id: `evt_two_keys_forged_${randomInt(1e9)}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_x' } },
    });
    const refused = await request(ctx.app)
      .post(`/webhooks/stripe/${doorB.stripeAccountId}`)
      .set('Content-Type', 'application/json')
      .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload: forged, secret: 'whsec_nobody' }))
      .send(forged);
    expect(refused.status).toBe(400);
  });
});

describe('the key now acts on another Stripe account', () => {
  // Last in the file: it resets the default account every test above used.
  test('when the emulator account is reset and getRequest comes for a known aid, then a new customer is made in the new account, the flow completes, and the old card stays as history', async () => {
    const { aid } = await accountWithCard(ctx);
    const oldCustomer = await ctx
      .db('customers')
      .where({ owner_id: 'billrun', external_ref: String(aid) })
      .first();
    const { accountId: newAcct } = ctx.emulator.resetAccount(TEST_STRIPE_KEY);

    const setup = await startIframeSetup(ctx, { aid });
    ctx.emulator.completeCheckoutSession(setup.sessionId, '5555555555554444');
    const ok = await okPageJson(ctx, setup.txId);
    expect(ok.body).toMatchObject({ status: 1, details: { credit_card: '4444' } });

    const door = await ctx.deps.stripeAccounts.defaultAccount();
    expect(door.stripeAccountId).toBe(newAcct);
    expect(door.accountId).not.toBe(doorA.accountId);
    const customers = await ctx
      .db('customers')
      .where({ owner_id: 'billrun', external_ref: String(aid) })
      .orderBy('id');
    expect(customers.map((c) => Number(c.stripe_account))).toEqual([doorA.accountId, door.accountId]);
    expect(customers[1].stripe_customer_id).not.toBe(oldCustomer.stripe_customer_id);
    const cards = await ctx
      .db('cards')
      .where({ customer_ref: String(aid) })
      .orderBy('id');
    expect(cards.map((c) => [Number(c.stripe_account), c.four_digits, c.active])).toEqual([
      [doorA.accountId, '4242', true],
      [door.accountId, '4444', true],
    ]);
    const paid = await pay(ctx, { aid, amount: '9.00' });
    expect(paid.body.details).toMatchObject({ status: 'Completed' });
    expect((await ctx.stripe.paymentIntents.retrieve(paid.body.details.transaction_id)).payment_method).toBe(cards[1].payment_method_id);
  });
});
