import request from 'supertest';
import { getRequestFields, newAid, signed } from '../support/billrun-requests';
import { startTestContext, type TestContext } from '../support/test-context';

// A txId is 19 random digits: a collision cannot be waited for, so the next ids are handed out
// here (the rest of the service, the database and the emulator are the real ones).
const nextTxIds: string[] = [];
jest.mock('../../app/billrun/billrun-txid', () => {
  const actual = jest.requireActual<typeof import('../../app/billrun/billrun-txid')>('../../app/billrun/billrun-txid');
  return { ...actual, newTxId: () => nextTxIds.shift() ?? actual.newTxId() };
});

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx?.close();
});

const getRequest = (aid: number) =>
  request(ctx.app)
    .get('/paymentgateways/getRequest')
    .query({ data: signed(getRequestFields({ aid })) });

test('when a new txId collides with a recorded one, then getRequest starts again under another txId: one setup recorded, on the one Stripe customer', async () => {
  expect((await getRequest(newAid())).body.status).toBe(1);
  const [{ tx_id: taken }] = await ctx.db('handshakes').orderBy('card_setup_id', 'desc').limit(1).select('tx_id');
  const aid = newAid();
  nextTxIds.push(taken);
  ctx.emulator.clearRequests();

  const res = await getRequest(aid);

  expect(res.body.status).toBe(1);
  const setups = await ctx
    .db('card_setups as s')
    .join('handshakes as h', 'h.card_setup_id', 's.id')
    .where({ 's.customer_ref': String(aid) })
    .select('s.state', 's.customer_id', 's.checkout_session_id', 'h.tx_id');
  expect(setups).toHaveLength(1);
  expect(setups[0].state).toBe('open');
  expect(setups[0].tx_id).not.toBe(taken);
  expect(res.body.details.url).toContain(setups[0].checkout_session_id);
  // The first attempt's statement wrote nothing (its mapping neither): the second made the customer
  // again under the same idempotency key, so Stripe holds one for the account.
  expect(
    await ctx
      .db('customers')
      .where({ owner_id: 'billrun', external_ref: String(aid) })
      .pluck('stripe_customer_id'),
  ).toEqual([setups[0].customer_id]);
  const calls = ctx.emulator.requests().map((r) => `${r.method} ${r.path}`);
  expect(calls).toEqual(['POST /v1/customers', 'POST /v1/checkout/sessions', 'POST /v1/customers', 'POST /v1/checkout/sessions']);
  const customers = await ctx.stripe.customers.list({ limit: 100 });
  expect(customers.data.filter((c) => c.metadata.billrun_aid === String(aid))).toHaveLength(1);
});
