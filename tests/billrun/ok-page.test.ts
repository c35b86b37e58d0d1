import request from 'supertest';
import { okPageJson, startIframeSetup } from '../support/card-setup';
import { getRequestFields, newAid, signed } from '../support/billrun-requests';
import { startTestContext, type TestContext } from '../support/test-context';
import { cardSetupIdOf, handshakeRows } from '../support/handshake-rows';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
  // These tests count what OkPage and getRequest ask of Stripe: webhook handling (which re-reads
  // objects) is held back here and tested in tests/payments/webhooks.test.ts.
  ctx.emulator.pauseWebhooks();
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(() => ctx.emulator.clearRequests());

const VISA = '4242424242424242';
const failureBody = (message: string) => ({ status: 0, details: { message } });

describe('OkPage: the three-sided handshake', () => {
  test('when the customer saved 4242 in Checkout, then OkPage answers the card, with one Stripe call, and the account has it as active card', async () => {
    const setup = await startIframeSetup(ctx);
    const done = ctx.emulator.completeCheckoutSession(setup.sessionId, VISA);
    expect(done.redirectUrl).toBe(`https://portal.example/billing/ok?txId=${setup.txId}`);
    ctx.emulator.clearRequests();

    const res = await okPageJson(ctx, setup.txId);
    // Exactly one Stripe call: the session with SetupIntent and PaymentMethod expanded (BillRun makes three).
    expect(ctx.emulator.requests().map((r) => [r.method, r.path, r.params])).toEqual([
      ['GET', `/v1/checkout/sessions/${setup.sessionId}`, { expand: ['setup_intent.payment_method'] }],
    ]);
    const card = await ctx.stripe.checkout.sessions.retrieve(setup.sessionId, { expand: ['setup_intent.payment_method'] });
    const pm = (card.setup_intent as { payment_method: { id: string; card: { exp_month: number; exp_year: number } } }).payment_method;
    const expiration = `${pm.card.exp_month}${pm.card.exp_year}`;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 1, desc: 'success', details: { credit_card: '4242', expiration_date: expiration, params: [] } });

    const rows = await ctx.db('cards').where({ customer_ref: String(setup.aid) });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      customer_id: card.customer,
      payment_method_id: pm.id,
      four_digits: '4242',
      exp_month: pm.card.exp_month,
      exp_year: pm.card.exp_year,
      active: true,
      card_setup_id: await cardSetupIdOf(ctx.db, setup.txId),
    });
    expect(await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).toMatchObject({ state: 'completed', instance_name: 'StripeCheckout' });
  });

  test('when OkPage is called again for the same txId, then the same answer, no Stripe call and no second card', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.completeCheckoutSession(setup.sessionId, VISA);
    const first = await okPageJson(ctx, setup.txId);
    ctx.emulator.clearRequests();
    const second = await okPageJson(ctx, setup.txId);
    expect(second.body).toEqual(first.body);
    expect(ctx.emulator.requests()).toEqual([]);
    expect(await ctx.db('cards').where({ customer_ref: String(setup.aid) })).toHaveLength(1);
  });

  test('when a second card is saved for an account, then it becomes active and the first stays as history', async () => {
    const aid = newAid();
    const first = await startIframeSetup(ctx, { aid });
    ctx.emulator.completeCheckoutSession(first.sessionId, VISA);
    await okPageJson(ctx, first.txId);
    const second = await startIframeSetup(ctx, { aid });
    ctx.emulator.completeCheckoutSession(second.sessionId, '3530111333300000');
    const res = await okPageJson(ctx, second.txId);
    expect(res.body.details.credit_card).toBe('0000');

    const rows = await ctx
      .db('cards')
      .where({ customer_ref: String(aid) })
      .orderBy('id');
    expect(rows.map((r) => [r.four_digits, r.active])).toEqual([
      ['4242', false],
      ['0000', true],
    ]);
    expect(rows[0].deactivated_at).not.toBeNull();
  });

  test('when the customer passed a 3-D Secure challenge while saving, then the card is saved', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4000002500003155', { threeDSecure: 'pass' });
    const res = await okPageJson(ctx, setup.txId);
    expect(res.body.details.credit_card).toBe('3155');
  });

  test('when OkPage comes before the customer finished, then an error and the handshake is unchanged', async () => {
    const setup = await startIframeSetup(ctx);
    const before = await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first();
    const res = await okPageJson(ctx, setup.txId);
    expect(res.body).toEqual(failureBody('The card setup is not completed yet'));
    expect(await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).toEqual(before);
    expect(await ctx.db('cards').where({ customer_ref: String(setup.aid) })).toHaveLength(0);
  });

  test('when the txId is unknown, then "Unknown transaction" and Stripe is not asked', async () => {
    const res = await okPageJson(ctx, '1234567890123456789');
    expect(res.body).toEqual(failureBody('Unknown transaction'));
    expect(ctx.emulator.requests()).toEqual([]);
  });

  test('when txId is missing, then BillRun\'s "Operation Failed. Try Again..." envelope', async () => {
    const res = await request(ctx.app).get('/paymentgateways/OkPage').query({ name: 'StripeCheckout', redirect: '0' });
    expect(res.body).toEqual({ status: 0, code: 17577, message: 'Operation Failed. Try Again...', display: { code: 999, desc: 'General error.' } });
  });

  test('when the customer cancelled (failPage), then the Stripe session is expired and a later OkPage says cancelled', async () => {
    const setup = await startIframeSetup(ctx);
    const cancel = ctx.emulator.cancelCheckoutSession(setup.sessionId);
    expect(cancel.redirectUrl).toBe(`https://portal.example/billing/fail?txId=${setup.txId}`);

    const fail = await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId: setup.txId, redirect: '0' });
    expect(fail.body).toEqual(failureBody('The card setup was cancelled'));
    const session = await ctx.stripe.checkout.sessions.retrieve(setup.sessionId);
    expect(session.status).toBe('expired');
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('cancelled');

    const ok = await okPageJson(ctx, setup.txId);
    expect(ok.body).toEqual(failureBody('The card setup was cancelled'));
  });

  test('when the handshake outlived the session (24 h), then OkPage says expired and records it', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.clock.advance(24 * 3600 + 60);
    const res = await okPageJson(ctx, setup.txId);
    expect(res.body).toEqual(failureBody('The card setup has expired'));
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('expired');
  });

  test('when only our clock is past the session expiry (Stripe still says open), then OkPage says expired anyway', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.clock.advanceServiceOnly(24 * 3600 + 60);
    const res = await okPageJson(ctx, setup.txId);
    ctx.clock.advanceServiceOnly(-(24 * 3600 + 60));
    expect(res.body).toEqual(failureBody('The card setup has expired'));
    expect((await ctx.stripe.checkout.sessions.retrieve(setup.sessionId)).status).toBe('open');
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('expired');
  });

  test('when redirect is empty, then OkPage answers JSON (PHP-falsy)', async () => {
    const setup = await startIframeSetup(ctx);
    const res = await request(ctx.app).get('/paymentgateways/OkPage').query({ name: 'StripeCheckout', txId: setup.txId, redirect: '' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(failureBody('The card setup is not completed yet'));
  });

  test('when OkPage names another gateway instance, then it is refused', async () => {
    const setup = await startIframeSetup(ctx);
    const res = await request(ctx.app).get('/paymentgateways/OkPage').query({ name: 'StripeCheckout#2', txId: setup.txId, redirect: '0' });
    expect(res.body).toEqual(failureBody('The transaction belongs to another payment gateway'));
  });

  test('when failPage comes after the card was saved, then it says so and the card stays', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.completeCheckoutSession(setup.sessionId, VISA);
    await okPageJson(ctx, setup.txId);
    const res = await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId: setup.txId, redirect: '0' });
    expect(res.body).toEqual(failureBody('The card setup is already completed'));
    expect((await handshakeRows(ctx.db).where({ tx_id: setup.txId }).first()).state).toBe('completed');
  });

  test('when failPage comes in redirect mode, then the browser goes to the return URL with a danger message', async () => {
    const setup = await startIframeSetup(ctx);
    const res = await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId: setup.txId });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(location.origin + location.pathname).toBe('https://billrun.example/return');
    expect(JSON.parse(location.searchParams.get('message') as string)).toEqual({ content: 'The card setup was cancelled', type: 'danger' });
  });

  test('when OkPage is called without redirect=0, then the browser goes to the tenant return URL', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.completeCheckoutSession(setup.sessionId, VISA);
    const res = await request(ctx.app).get('/paymentgateways/okpage').query({ name: 'StripeCheckout', txId: setup.txId, redirect: 'false' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://billrun.example/return');
  });

  test('when OkPage fails in redirect mode, then the return URL gets a danger message', async () => {
    const setup = await startIframeSetup(ctx);
    const res = await request(ctx.app).get('/paymentgateways/OkPage').query({ name: 'StripeCheckout', txId: setup.txId });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(JSON.parse(location.searchParams.get('message') as string)).toEqual({ content: 'The card setup is not completed yet', type: 'danger' });
  });
});

describe('the custom (SDK) flow', () => {
  const customSetup = async (aid: number) => {
    const res = await request(ctx.app)
      .get('/paymentgateways/getRequest')
      .query({ data: signed(getRequestFields({ aid, request_parameters: true, custom_flow: true }, ctx.clock.now())) });
    const setupIntentId = (res.body.details.url.setup_intent_client_secret as string).split('_secret_')[0];
    return { txId: res.body.details.url.txId as string, setupIntentId };
  };

  test('when the app confirmed the SetupIntent, then OkPage saves the card and answers null card fields, as BillRun does', async () => {
    const aid = newAid();
    const { txId, setupIntentId } = await customSetup(aid);
    await ctx.stripe.setupIntents.confirm(setupIntentId, { payment_method: 'pm_card_visa' });
    const res = await okPageJson(ctx, txId);
    expect(res.body).toEqual({ status: 1, desc: 'success', details: { credit_card: null, expiration_date: null, params: [] } });
    expect(
      (
        await ctx
          .db('cards')
          .where({ customer_ref: String(aid), active: true })
          .first()
      ).four_digits,
    ).toBe('4242');
  });

  test('when failPage comes first, then the SetupIntent is canceled at Stripe and cannot save a card later', async () => {
    const { txId, setupIntentId } = await customSetup(newAid());
    const fail = await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId, redirect: '0' });
    expect(fail.body).toEqual(failureBody('The card setup was cancelled'));
    expect((await ctx.stripe.setupIntents.retrieve(setupIntentId)).status).toBe('canceled');
    await expect(ctx.stripe.setupIntents.confirm(setupIntentId, { payment_method: 'pm_card_visa' })).rejects.toThrow();
  });

  test('when a payment method saved before is saved again, then it becomes the active card again and OkPage stays consistent', async () => {
    const aid = newAid();
    const first = await customSetup(aid);
    const confirmed = await ctx.stripe.setupIntents.confirm(first.setupIntentId, { payment_method: 'pm_card_visa' });
    await okPageJson(ctx, first.txId);
    const second = await customSetup(aid);
    await ctx.stripe.setupIntents.confirm(second.setupIntentId, { payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' });
    await okPageJson(ctx, second.txId);
    const third = await customSetup(aid);
    await ctx.stripe.setupIntents.confirm(third.setupIntentId, { payment_method: confirmed.payment_method as string });
    expect((await okPageJson(ctx, third.txId)).body.status).toBe(1);
    expect((await okPageJson(ctx, third.txId)).body.status).toBe(1);
    const active = await ctx.db('cards').where({ customer_ref: String(aid), active: true });
    expect(active.map((c) => c.payment_method_id)).toEqual([confirmed.payment_method]);
    expect(await ctx.db('cards').where({ customer_ref: String(aid) })).toHaveLength(2);
  });
});

describe('the redirect (non-iframe) flow in a browser', () => {
  test('when the same browser comes back from Checkout, then OkPage saves the card and sends it to the return URL; another browser is refused', async () => {
    const browser = request.agent(ctx.app);
    const aid = newAid();
    const start = await browser.get('/paymentgateways/getRequest').query({
      data: signed(
        getRequestFields({ aid, iframe: false, ok_page: undefined, fail_page: undefined, return_url: 'https://portal.example/done' }, ctx.clock.now()),
      ),
    });
    expect(start.status).toBe(302);
    const sessionId = new URL(start.headers.location).pathname.split('/').pop() as string;
    const done = ctx.emulator.completeCheckoutSession(sessionId, VISA);
    const back = new URL(done.redirectUrl);
    expect(back.pathname).toBe('/paymentgateways/OkPage');

    const stranger = await request(ctx.app)
      .get(back.pathname + back.search)
      .query({ redirect: '0' });
    expect(stranger.body).toEqual(failureBody('This card setup was started in another browser'));

    const ok = await browser.get(back.pathname + back.search);
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe('https://portal.example/done');
    expect(
      (
        await ctx
          .db('cards')
          .where({ customer_ref: String(aid) })
          .first()
      ).four_digits,
    ).toBe('4242');
  });

  test('when one browser starts two setups at once, then both txIds work in that browser', async () => {
    const browser = request.agent(ctx.app);
    await browser.get('/paymentgateways/success'); // no session yet: both starts race to create it
    const start = () =>
      browser
        .get('/paymentgateways/getRequest')
        .query({ data: signed(getRequestFields({ iframe: false, ok_page: undefined, fail_page: undefined }, ctx.clock.now())) });
    const first = await start(); // the session cookie exists from here on
    const [a, b] = await Promise.all([start(), start()]);
    for (const res of [first, a, b]) {
      const sessionId = new URL(res.headers.location).pathname.split('/').pop() as string;
      const back = new URL(ctx.emulator.completeCheckoutSession(sessionId, VISA).redirectUrl);
      const ok = await browser.get(back.pathname + back.search).query({ redirect: '0' });
      expect(ok.body).toMatchObject({ status: 1, details: { credit_card: '4242' } });
    }
  });
});
