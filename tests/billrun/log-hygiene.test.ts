import request from 'supertest';
import { accountWithCard } from '../support/card-setup';
import { getRequestFields, signed } from '../support/billrun-requests';
import { credit, pay } from '../support/payment-requests';
import { startTestContext, TEST_OAUTH_CLIENT, TEST_SECRET, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});

describe('what the logs hold', () => {
  test('when a full card setup runs through the hosted page, then no card number, CVC, secret key, shared secret or _sig_ is logged', async () => {
    ctx.logs.length = 0;
    const data = signed(getRequestFields({}, ctx.clock.now()));
    const sig = JSON.parse(data)._sig_ as string;
    const started = await request(ctx.app).get('/paymentgateways/getRequest').query({ data });
    const checkoutUrl = new URL(started.body.details.url);

    // The customer types the card on the emulator's hosted page, as in a browser.
    const page = await fetch(checkoutUrl);
    expect(page.status).toBe(200);
    const submit = await fetch(checkoutUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ number: '4242 4242 4242 4242', exp: '12/34', cvc: '7391', name: 'Jo Tester' }).toString(),
    });
    expect(submit.status).toBe(303);
    const txId = new URL(submit.headers.get('location') as string).searchParams.get('txId') as string;

    const ok = await request(ctx.app).get('/paymentgateways/OkPage').query({ name: 'StripeCheckout', txId, redirect: '0' });
    expect(ok.body).toMatchObject({ status: 1, details: { credit_card: '4242', expiration_date: '122034' } });
    const token = await request(ctx.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', ...TEST_OAUTH_CLIENT });

    // Error paths log more: a bad signature, Stripe failing, a redirect flow with data in the URL.
    await request(ctx.app)
      .get('/paymentgateways/getRequest')
      .query({ data: signed(getRequestFields({}, ctx.clock.now()), 'wrong-secret') });
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'POST', path: '/v1/checkout/sessions' });
    const failed = await request(ctx.app).get('/paymentgateways/getRequest').set('Authorization', `Bearer ${token.body.access_token}`).query({ data });
    expect(failed.body.status).toBe(0);
    const redirectData = signed(getRequestFields({ iframe: false, ok_page: undefined, fail_page: undefined }, ctx.clock.now()));
    await request(ctx.app).get('/paymentgateways/getRequest').query({ data: redirectData });

    const text = ctx.logs.join('\n');
    expect(text).toContain('Stripe checkout session creation failed');
    expect(ctx.logs.length).toBeGreaterThan(5);
    expect(text).toContain(txId); // the log is useful: the txId is there to follow the flow
    const secrets = [
      '4242424242424242',
      '4242 4242 4242 4242',
      '7391',
      TEST_STRIPE_KEY,
      TEST_SECRET,
      sig,
      JSON.parse(redirectData)._sig_,
      token.body.access_token,
      TEST_OAUTH_CLIENT.client_secret,
      ctx.config.session.secret,
    ];
    for (const forbidden of secrets) {
      expect(text).not.toContain(forbidden);
    }
  });
});

describe('what the logs hold when money moves', () => {
  test('when a card is charged, refunded and authenticated through the 3-D Secure link, then the link token is not logged', async () => {
    const { aid } = await accountWithCard(ctx, '4000002760003184');
    ctx.logs.length = 0;
    const paid = await pay(ctx, { aid, amount: '21.00' });
    const link = new URL(paid.body.details.authentication_url);
    const token = link.pathname.split('/').pop() as string;
    await request(ctx.app).get(link.pathname);
    await request(ctx.app).post(link.pathname);
    const done = ctx.emulator.authenticatePaymentIntent(paid.body.details.transaction_id, 'pass');
    await request(ctx.app).get(new URL(done.redirectUrl).pathname + new URL(done.redirectUrl).search);
    await ctx.emulator.settleWebhooks();
    await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: '1.00' });
    await ctx.emulator.settleWebhooks();
    const text = ctx.logs.join('\n');
    expect(text).toContain('/pay/authenticate/[token]');
    expect(text).toContain('"charge state changed"');
    expect(text).not.toContain(token);
    expect(text).not.toContain('4000002760003184');
    expect(text).not.toContain('_secret_');
  });
});
