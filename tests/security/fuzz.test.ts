import request from 'supertest';
import { accountWithCard, startIframeSetup } from '../support/card-setup';
import { newAid } from '../support/billrun-requests';
import { pay } from '../support/payment-requests';
import { startTestContext, TEST_OAUTH_CLIENT, TEST_SECRET, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';
import { failureReport, FUZZ_SEED, runFuzz, type FuzzRun, type FuzzTargets } from './fuzz-inputs';

/** A few thousand requests: enough to reach every branch a name is read in, and well under a minute on PGlite. */
const REQUESTS = 2_500;
const CONCURRENCY = 6;
const SEED_TEXT = `0x${FUZZ_SEED.toString(16)}`;

type Snapshot = Map<PropertyKey, PropertyDescriptor | undefined>;
const BUILT_INS: Record<string, object> = {
  'Object.prototype': Object.prototype,
  Object,
  'Array.prototype': Array.prototype,
  'Function.prototype': Function.prototype,
  'String.prototype': String.prototype,
};
const snapshot = (target: object): Snapshot => new Map(Reflect.ownKeys(target).map((k) => [k, Object.getOwnPropertyDescriptor(target, k)]));

/** What changed on a built-in: keys added or removed, values or accessors replaced. */
function changes(before: Snapshot, target: object): string[] {
  const after = snapshot(target);
  const out: string[] = [];
  for (const key of after.keys()) if (!before.has(key)) out.push(`added ${String(key)}`);
  for (const [key, was] of before) {
    const now = after.get(key);
    if (!now) out.push(`removed ${String(key)}`);
    else if (was && (now.value !== was.value || now.get !== was.get || now.set !== was.set)) out.push(`replaced ${String(key)}`);
  }
  return out;
}

let ctx: TestContext;
let targets: FuzzTargets;
let forbidden: string[];
let before: Record<string, Snapshot>;
let run: FuzzRun | undefined;

beforeAll(async () => {
  // info, not debug: thousands of requests, and the log is not what this file judges.
  ctx = await startTestContext({ env: { LOG_LEVEL: 'info' } });
  // Live objects, so fuzzed ids and tokens reach the code behind "not found".
  const saved = await accountWithCard(ctx);
  const threeDs = await accountWithCard(ctx, '4000002760003184');
  const charged = await pay(ctx, { aid: saved.aid, amount: '40.00' });
  const pending = await pay(ctx, { aid: threeDs.aid, amount: '30.00' });
  const open = await startIframeSetup(ctx);
  const token = await request(ctx.app)
    .post('/oauth2/token')
    .type('form')
    .send({ grant_type: 'client_credentials', ...TEST_OAUTH_CLIENT });
  if (charged.body.details?.status !== 'Completed' || pending.body.details?.status !== 'Pending' || !token.body.access_token) {
    throw new Error(`arrangement failed: ${JSON.stringify({ charged: charged.body, pending: pending.body, token: token.body })}`);
  }
  targets = {
    billrunSecret: TEST_SECRET,
    webhookSecret: ctx.webhookSecret,
    oauthClient: TEST_OAUTH_CLIENT,
    bearerToken: token.body.access_token,
    aids: [saved.aid, threeDs.aid, newAid()],
    txIds: [open.txId, saved.txId],
    paymentIntentIds: [charged.body.details.transaction_id, pending.body.details.transaction_id],
    authTokens: [new URL(pending.body.details.authentication_url).pathname.split('/').pop() as string],
    signWebhook: (opts) => ctx.stripe.webhooks.generateTestHeaderString(opts),
    now: () => ctx.clock.now(),
  };
  forbidden = [TEST_SECRET, TEST_STRIPE_KEY, ctx.config.session.secret, ctx.webhookSecret, TEST_OAUTH_CLIENT.client_secret];
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

describe(`fuzzing every route (seed ${SEED_TEXT}; FUZZ_SEED=<n> replays another)`, () => {
  test(`when ${REQUESTS} seeded requests (seed ${SEED_TEXT}) put prototype names and malformed input everywhere, then each answers within 5 s, below 500, in its route's envelope and without a stack trace`, async () => {
    before = Object.fromEntries(Object.entries(BUILT_INS).map(([name, target]) => [name, snapshot(target)]));
    run = await runFuzz({ baseUrl: ctx.baseUrl, targets, seed: FUZZ_SEED, count: REQUESTS, concurrency: CONCURRENCY, forbidden, stopAfterFailures: 40 });
    await ctx.emulator.settleWebhooks();

    const report = failureReport(run);
    expect({ seed: SEED_TEXT, failed: run.failures.length, sent: run.sent, first: report }).toEqual({ seed: SEED_TEXT, failed: 0, sent: REQUESTS, first: [] });
    // The fuzz must get past the front doors too, or it proves little.
    const kinds = new Set([...run.tally.keys()].map((k) => k.split(' ')[0]));
    expect([...kinds].sort()).toEqual(['authentication', 'billrun', 'health', 'oauth', 'unknown', 'webhook']);
    expect(run.accepted.billrunSuccess).toBeGreaterThan(20);
    expect(run.accepted.webhookReceived).toBeGreaterThan(20);
    expect(run.accepted.tokens).toBeGreaterThan(0);
    expect(run.accepted.authenticationPages).toBeGreaterThan(0);
  }, 120_000);

  test('when the fuzz has run, then no built-in prototype or Object itself gained, lost or changed a property', () => {
    expect(run?.sent).toBeGreaterThan(0);
    const polluted = ({} as Record<string, unknown>).polluted;
    expect({ polluted, arrayPolluted: ([] as unknown as Record<string, unknown>).polluted }).toEqual({ polluted: undefined, arrayPolluted: undefined });
    const changed = Object.fromEntries(Object.entries(BUILT_INS).map(([name, target]) => [name, changes(before[name], target)]));
    expect(changed).toEqual(Object.fromEntries(Object.keys(BUILT_INS).map((name) => [name, []])));
  });
});
