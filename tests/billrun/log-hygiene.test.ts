import request from 'supertest';
import { getRequestFields, signed } from '../support/billrun-requests';
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
    await request(ctx.app).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', ...TEST_OAUTH_CLIENT });

    const text = ctx.logs.join('\n');
    expect(ctx.logs.length).toBeGreaterThan(5);
    expect(text).toContain(txId); // the log is useful: the txId is there to follow the flow
    for (const forbidden of ['4242424242424242', '4242 4242 4242 4242', '7391', TEST_STRIPE_KEY, TEST_SECRET, sig, TEST_OAUTH_CLIENT.client_secret, ctx.config.session.secret]) {
      expect(text).not.toContain(forbidden);
    }
  });
});
