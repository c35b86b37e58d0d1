import { hubApi, hubMerchant } from '../support/hub-requests';
import { startTestContext, type TestContext } from '../support/test-context';

/** Per-key limits: a burst over the limit is 429 with Retry-After; other merchants go on. (On PostgreSQL the count is in the database, shared by instances.) */

const KEY_A = 'sk_test_hub_limit_a';
const KEY_B = 'sk_test_hub_limit_b';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext({ env: { HUB_RATE_LIMIT_PER_MINUTE: '5' }, otherStripeKeys: [KEY_A, KEY_B] });
});
afterAll(async () => {
  await ctx.close();
});

test('when a key sends more requests in a minute than its limit, then 429 with Retry-After in the Hub envelope, and another merchant is not affected', async () => {
  const a = await hubMerchant(ctx, { stripeKey: KEY_A });
  const b = await hubMerchant(ctx, { stripeKey: KEY_B });
  const burst = [];
  for (let i = 0; i < 7; i++) burst.push(await hubApi(ctx, a.secretKey).get(`/unknown-${i}`));
  expect(burst.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 429, 429]);
  const limited = burst[5];
  expect(limited.body).toEqual({ success: false, message: expect.stringMatching(/Too many requests/), data: null });
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  // A's other key has its own count; B is untouched.
  expect((await hubApi(ctx, a.publicKey).get('/token?payment_vendor=x&token=y')).status).toBe(404);
  expect((await hubApi(ctx, b.secretKey).get('/unknown')).status).toBe(404);
  if (ctx.dbKind === 'postgres') expect((await ctx.db('hub_rate_limits').select('key')).length).toBeGreaterThanOrEqual(3);
});
