import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { accountWithCard } from '../support/card-setup';
import { addOperator, OPERATOR } from '../support/console-login';
import { hubApi, hubMerchant } from '../support/hub-requests';
import { credit, newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

/**
 * The console in a real browser: Debian's Chromium, headless, driven by puppeteer-core against the
 * service listening on a real port. An operator logs in, finds a charge by its reference, sees its
 * refunds and events, re-checks it with Stripe (the emulator) and logs out.
 */

const CHROMIUM = '/usr/bin/chromium';
const HUB_KEY = 'sk_test_console_browser_vendor';

if (!existsSync(CHROMIUM)) {
  process.stdout.write(`console browser test skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run does)\n`);
  describe(`the console in a browser (skipped: ${CHROMIUM} is absent)`, () => {
    test.skip('log in, find a charge by reference, see refunds and events, re-check it, log out', () => undefined);
  });
} else {
  let ctx: TestContext;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ctx = await startTestContext({ otherStripeKeys: [HUB_KEY] });
    await addOperator(ctx);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root (CI) Chromium refuses its sandbox; nothing but this test's own pages is opened.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
      timeout: 90_000,
    });
    page = await browser.newPage();
    // A busy machine (CI on two cores) may take its time; a missing element still fails the test.
    page.setDefaultTimeout(60_000);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  const text = (selector: string) => page.$eval(selector, (el) => el.textContent ?? '');
  const heading = () => text('h1');
  const clickAndWait = async (selector: string) => {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  };

  test('when an operator logs in, finds a charge by its reference, reads its refunds and events, re-checks it and logs out, then each step shows and does what it says', async () => {
    // A charge through BillRun's real flow: a card saved at Checkout, pay, a partial credit; the emulator's webhooks arrive.
    const { aid } = await accountWithCard(ctx, '4242424242424242');
    const reference = newReference();
    const paid = await pay(ctx, { aid, amount: '42.00', currency: 'USD', reference });
    expect(paid.body.details.status).toBe('Completed');
    const paymentIntentId: string = paid.body.details.transaction_id;
    expect((await credit(ctx, { transaction_id: paymentIntentId, amount: '2.50' })).body.status).toBe(1);
    await ctx.emulator.settleWebhooks();
    const charge = await ctx.db('charges').where({ reference }).first();
    const refund = await ctx.db('refunds').where({ charge_id: charge.id }).first();

    // Not logged in: the console sends the browser to its login.
    await page.goto(`${ctx.baseUrl}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.type('input[name=username]', OPERATOR.name);
    await page.type('input[name=password]', OPERATOR.password);
    await clickAndWait('#login');
    expect(new URL(page.url()).pathname).toBe('/console');
    expect(await heading()).toBe('Overview');
    expect(await text('header')).toContain(OPERATOR.name);

    // Find it by its reference.
    await page.type('header input[name=q]', reference);
    await clickAndWait('header button[type=submit]');
    expect(await heading()).toBe('Search');
    await clickAndWait(`a[href="/console/charges/${charge.id}"]`);
    expect(await heading()).toBe(`Charge ${charge.id}`);
    expect(await text('#charge-status')).toBe('succeeded');
    expect(await text('#charge')).toContain('visa •••• 4242');
    expect(await text('#charge')).toContain(paymentIntentId);

    // Its refunds, the Stripe events it had, the timeline.
    const refunds = await text('#refunds');
    expect(refunds).toContain(refund.stripe_refund_id);
    expect(refunds).toContain('2.50 USD');
    const events = await text('#stripe-events');
    expect(events).toContain('payment_intent.succeeded');
    const timeline = await text('#timeline');
    expect(timeline).toContain(`charge ${charge.id} recorded`);
    expect(timeline).toContain(`refund ${refund.id} requested`);
    expect(timeline).toContain('Stripe event payment_intent.succeeded received');
    expect(await page.content()).not.toContain('4242424242424242');

    // Re-check: the row as if its answer had been lost; the reconciler's path reads Stripe and applies it.
    await ctx.db('charges').where({ id: charge.id }).update({ status: 'processing', succeeded_at: null });
    await page.reload();
    expect(await text('#charge-status')).toBe('processing');
    ctx.emulator.clearRequests();
    await clickAndWait('#recheck-charge');
    expect(new URL(page.url()).pathname).toBe(`/console/charges/${charge.id}`);
    expect(await text('.flash')).toContain(`Re-checked charge ${charge.id} with Stripe: processing -> succeeded.`);
    expect(await text('#charge-status')).toBe('succeeded');
    expect(ctx.emulator.requests().map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/payment_intents/${paymentIntentId}`]);
    expect((await ctx.db('charges').where({ id: charge.id }).first()).status).toBe('succeeded');
    expect(
      await ctx
        .db('console_actions')
        .where({ action: 'recheck', subject_id: String(charge.id) })
        .first(),
    ).toMatchObject({ operator: OPERATOR.name });
    expect(await text('#timeline')).toContain(`operator ${OPERATOR.name}: recheck (processing -> succeeded)`);

    // Log out: the console is closed again.
    await clickAndWait('#logout');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.goto(`${ctx.baseUrl}/console/charges/${charge.id}`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
  }, 180_000);

  test("when a Hub charge is found by its merchant_ref_code, then its page lists the payment events the merchant's webhooks come from", async () => {
    const merchant = await hubMerchant(ctx, { stripeKey: HUB_KEY });
    const api = hubApi(ctx, merchant.secretKey);
    const token = await api.post('/token', {
      payment_vendor: merchant.vendorId,
      credit_card: { account_name: 'Jane Roe', account_number: '4242424242424242', exp_month: '12', exp_year: 2040, cvn: '123' },
    });
    const ref = `browser-${Date.now()}`;
    const charged = await api.post('/charge', {
      payment_vendor: merchant.vendorId,
      token: token.body.data.token,
      transaction_detail: { merchant_ref_code: ref, amount: 15, service_charge: 0, description: 'x', currency: 'USD' },
    });
    expect(charged.body.data.transaction.Status).toBe('paid');

    // A browser of its own (no cookie of the test before).
    page = await (await browser.createBrowserContext()).newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${ctx.baseUrl}/console/login`);
    await page.type('input[name=username]', OPERATOR.name);
    await page.type('input[name=password]', OPERATOR.password);
    await clickAndWait('#login');
    await page.type('header input[name=q]', ref);
    await clickAndWait('header button[type=submit]');
    const link = await page.$eval('main table a[href^="/console/charges/"]', (a) => a.getAttribute('href'));
    await Promise.all([page.waitForNavigation(), page.click(`a[href="${link}"]`)]);
    expect(await text('#charge')).toContain(ref);
    const paymentEvents = await text('#payment-events');
    expect(paymentEvents).toContain('succeeded');
    expect(await page.content()).not.toContain('4242424242424242');
  }, 120_000);
}
