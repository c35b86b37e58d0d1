import request from 'supertest';
import { okPageJson, startIframeSetup } from '../support/card-setup';
import { getRequestFields, newAid, signed } from '../support/billrun-requests';
import { startTestContext, type TestContext } from '../support/test-context';
import { handshakeRows } from '../support/handshake-rows';

// Races need real parallel connections: PGlite is a single connection that serialises every
// query, so these tests would pass there without proving anything. They run on PostgreSQL
// (DATABASE_URL set, as .ci/run does).
const onPostgres = Boolean(process.env.DATABASE_URL);
const describeOnPostgres = onPostgres ? describe : describe.skip;
if (!onPostgres) {
  describe('races (skipped: needs PostgreSQL; PGlite has one connection, so races cannot happen there)', () => {
    test.skip('20 concurrent OkPage calls and 20 concurrent first getRequests', () => undefined);
  });
}

describeOnPostgres('races on PostgreSQL', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  test('when 20 OkPage calls for one txId arrive at once, then exactly one card is saved and all 20 answer the same', async () => {
    const setup = await startIframeSetup(ctx);
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
    const answers = await Promise.all(Array.from({ length: 20 }, () => okPageJson(ctx, setup.txId)));
    const bodies = answers.map((a) => JSON.stringify(a.body));
    expect(new Set(bodies).size).toBe(1);
    expect(answers[0].body).toMatchObject({ status: 1, details: { credit_card: '4242' } });
    expect(await ctx.db('cards').where({ customer_ref: String(setup.aid) })).toHaveLength(1);
  });

  test('when 20 first getRequests for one new aid arrive at once, then Stripe holds one customer for it and each request made one session', async () => {
    const aid = newAid();
    ctx.emulator.clearRequests();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(ctx.app)
          .get('/paymentgateways/getRequest')
          .query({ data: signed(getRequestFields({ aid })) }),
      ),
    );
    expect(answers.map((a) => a.body.status)).toEqual(Array(20).fill(1));
    const customers = await ctx.stripe.customers.list({ limit: 100 });
    expect(customers.data.filter((c) => c.metadata.billrun_aid === String(aid))).toHaveLength(1);
    const handshakes = await handshakeRows(ctx.db).where({ customer_ref: String(aid) });
    expect(new Set(handshakes.map((h) => h.customer_id)).size).toBe(1);
    expect(handshakes).toHaveLength(20);
    // Each recorded setup names the session it got, and that session is on the mapped customer.
    const [mapped] = await ctx
      .db('customers')
      .where({ owner_id: 'billrun', external_ref: String(aid) })
      .pluck('stripe_customer_id');
    // The requests that lost the race for the mapping recorded theirs on it: none made a second session.
    expect(ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions')).toHaveLength(20);
    for (const h of handshakes) {
      expect((await ctx.stripe.checkout.sessions.retrieve(h.checkout_session_id as string)).customer).toBe(mapped);
    }
  });

  test('when two cards for one account are confirmed at once, then exactly one ends up active', async () => {
    const aid = newAid();
    const a = await startIframeSetup(ctx, { aid });
    const b = await startIframeSetup(ctx, { aid });
    ctx.emulator.completeCheckoutSession(a.sessionId, '4242424242424242');
    ctx.emulator.completeCheckoutSession(b.sessionId, '3530111333300000');
    await Promise.all([okPageJson(ctx, a.txId), okPageJson(ctx, b.txId)]);
    const rows = await ctx.db('cards').where({ customer_ref: String(aid) });
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.active)).toHaveLength(1);
  });
});
