import request from 'supertest';
import { startIframeSetup } from '../support/card-setup';
import { startTestContext, type TestContext } from '../support/test-context';

/** The pages the README's examples lead to: a saved card ends on SUCCESS, a cancel says so. */

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});

test('when the customer cancels on the card page of the README example, then the browser lands on a page that says no card was saved', async () => {
  const setup = await startIframeSetup(ctx, {
    ok_page: `${ctx.baseUrl}/paymentgateways/success`,
    fail_page: `${ctx.baseUrl}/paymentgateways/cancelled`,
  });
  const cancelled = await fetch(`${ctx.emulator.url}/_emulator/checkout/sessions/${setup.sessionId}/cancel`, { method: 'POST' });
  const landing = new URL(((await cancelled.json()) as { redirect_url: string }).redirect_url);
  expect(landing.pathname).toBe('/paymentgateways/cancelled');
  expect(landing.searchParams.get('txId')).toBe(setup.txId);
  const page = await request(ctx.app).get(`${landing.pathname}${landing.search}`);
  expect([page.status, page.text]).toEqual([200, 'CANCELLED: no card was saved (the customer left the card page)']);
  expect((await request(ctx.app).get('/paymentgateways/success').query({ txId: setup.txId })).text).toBe('SUCCESS');
});
