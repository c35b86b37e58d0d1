import request from 'supertest';
import { countQueries, type SentQuery } from '../../app/db';
import { reconcileOnce } from '../../app/payments';
import { getRequestFields, signed } from '../support/billrun-requests';
import { accountWithCard, okPageJson, startIframeSetup } from '../support/card-setup';
import { hubApi, hubMerchant } from '../support/hub-requests';
import { seedCreateTokenOnly } from '../support/hub-seed';
import { credit, newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

/**
 * Every statement the service sends on its hot paths (card setups in the iframe and redirect
 * flows, OkPage, failPage, pay, credit, the Stripe webhooks they bring, a reconciler pass, the
 * Hub's token, charge and refund) finds its rows of the tables
 * that grow with every flow (customers, card setups, handshakes, cards, charges, refunds, Stripe
 * events) through an index, with the
 * work independent of how many rows those tables hold. The tables are first filled with a few
 * thousand rows of other customers, as a service after some weeks holds, and analyzed; each
 * statement is then planned as the service sent it, and no read of those tables may cost what a
 * read of a large part of them costs. An OkPage once read every card setup there was; the
 * benchmark would find that only after thousands of flows, this test at once.
 */

const VENDOR_KEY = 'sk_test_query_plans_vendor';
/** Other customers' rows in each growing table. */
const SEEDED = 4000;
const GROWING_TABLES = ['customers', 'card_setups', 'handshakes', 'cards', 'charges', 'refunds', 'stripe_events'];
/**
 * A read's planner cost: an index lookup of a few rows costs 4 to 9, reading the 4,000 seeded rows
 * (whole, or through an index on a column they all share) more than 100.
 */
const MAX_READ_COST = 30;

/** Not plans of their own: transaction control and session settings. */
const NOT_PLANNED = /^\s*(begin|commit|rollback|savepoint|release|set|select\s+(1|version\(\)|pg_advisory|pg_try_advisory)\b)/i;

/** The test's own reads (its helpers find a setup's txId by its Checkout session): not the service's. */
const TEST_READS = /^select "handshakes"\.\*/;

const planned = (q: SentQuery): boolean => !NOT_PLANNED.test(q.sql) && !TEST_READS.test(q.sql);

let ctx: TestContext;
let sent: SentQuery[] = [];

/** Other customers of the same owner and Stripe account, each with a completed setup and its handshake, a card, a charge, a refund and a Stripe event. */
async function seedOtherCustomers(stripeAccount: number): Promise<void> {
  const owner = 'billrun';
  await ctx.db.raw(
    `insert into customers (owner_id, stripe_account, external_ref, stripe_customer_id)
     select ?, ?, 'seed-' || g, 'cus_seed_' || g from generate_series(1, ?) g`,
    [owner, stripeAccount, SEEDED],
  );
  await ctx.db.raw(
    `insert into card_setups (owner_id, stripe_account, customer_ref, customer_id, checkout_session_id, payment_method_id, state, finished_at)
     select ?, ?, 'seed-' || g, 'cus_seed_' || g, 'cs_seed_' || g, 'pm_seed_' || g, 'completed', now() from generate_series(1, ?) g`,
    [owner, stripeAccount, SEEDED],
  );
  await ctx.db.raw(
    `insert into cards (owner_id, stripe_account, customer_ref, customer_id, payment_method_id, card_setup_id, four_digits, exp_month, exp_year, active)
     select owner_id, stripe_account, customer_ref, customer_id, payment_method_id, id, '4242', 12, 2040, true from card_setups where checkout_session_id like 'cs_seed_%'`,
  );
  await ctx.db.raw(
    `insert into charges (owner_id, stripe_account, channel, reference, request_fingerprint, customer_ref, customer_id, payment_method_id, amount, currency, status, payment_intent_id)
     select owner_id, stripe_account, 'billrun', 'seed-' || id, md5(id::text), customer_ref, customer_id, payment_method_id, 1999, 'usd', 'succeeded', 'pi_seed_' || id
     from cards where payment_method_id like 'pm_seed_%'`,
  );
  await ctx.db.raw(
    `insert into handshakes (tx_id, instance_name, flow, request_t, return_url, card_setup_id)
     select '9' || lpad(id::text, 18, '0'), 'StripeCheckout', 'iframe', '1', 'https://portal.example/', id from card_setups where checkout_session_id like 'cs_seed_%'`,
  );
  await ctx.db.raw(
    `insert into refunds (owner_id, stripe_account, charge_id, channel, reference, request_fingerprint, amount, stripe_refund_id, status)
     select owner_id, stripe_account, id, 'billrun', 'seed-refund-' || id, md5(id::text), 100, 're_seed_' || id, 'succeeded' from charges where reference like 'seed-%'`,
  );
  await ctx.db.raw(
    `insert into stripe_events (id, type, object_id, stripe_account, processed_at, outcome)
     select 'evt_seed_' || g, 'payment_intent.succeeded', 'pi_seed_' || g, ?, now(), 'seeded' from generate_series(1, ?) g`,
    [stripeAccount, SEEDED],
  );
  for (const table of GROWING_TABLES) await ctx.db.raw('analyze ??', [table]);
}

beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [VENDOR_KEY] });
  const merchant = await hubMerchant(ctx, { stripeKey: VENDOR_KEY });
  const first = await accountWithCard(ctx);
  const { stripe_account: stripeAccount } = await ctx
    .db('customers')
    .where({ owner_id: 'billrun', external_ref: String(first.aid) })
    .first('stripe_account');
  await seedOtherCustomers(Number(stripeAccount));
  const counter = countQueries(ctx.db, { keepStatements: true });
  // Twice each, so what runs only for a known account or a second card runs too.
  const { aid } = await accountWithCard(ctx);
  await accountWithCard(ctx);
  const second = await startIframeSetup(ctx, { aid });
  ctx.emulator.completeCheckoutSession(second.sessionId, '5555555555554444');
  expect((await okPageJson(ctx, second.txId)).body.status).toBe(1);
  const cancelled = await startIframeSetup(ctx, { aid });
  await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId: cancelled.txId, redirect: '0' });
  await request(ctx.app)
    .get('/paymentgateways/getRequest')
    .query({ data: signed(getRequestFields({ aid }, ctx.clock.now())) });
  // The redirect flow: the browser session, read and written.
  const redirect = await request(ctx.app)
    .get('/paymentgateways/getRequest')
    .query({ data: signed(getRequestFields({ aid, iframe: '0', ok_page: undefined, fail_page: undefined }, ctx.clock.now())) });
  expect(redirect.status).toBe(302);
  const paid = await pay(ctx, { aid, amount: '19.99' });
  expect(paid.body.details.status).toBe('Completed');
  await pay(ctx, { aid, amount: '5.00' });
  const credited = await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: '2.00', reference: newReference() });
  expect(credited.body.status).toBe(1);
  const token = (await hubApi(ctx, merchant.publicKey).post('/token', seedCreateTokenOnly(merchant.vendorId))).body.data.token as string;
  const ref = `plans-${Date.now()}`;
  const charge = await hubApi(ctx, merchant.secretKey).post('/charge', {
    payment_vendor: merchant.vendorId,
    token,
    transaction_detail: { merchant_ref_code: ref, amount: 150, service_charge: 0, description: 'Room 101', currency: 'USD', send_email: false },
  });
  expect(charge.body.success).toBe(true);
  expect((await hubApi(ctx, merchant.secretKey).post(`/${ref}/refunds`, { refund_ref_code: `${ref}-r`, amount: 50 })).body.success).toBe(true);
  await ctx.emulator.settleWebhooks();
  // A reconciler pass once the open setups are due for a look.
  ctx.clock.advance(6 * 60 * 60);
  await reconcileOnce(ctx.deps);
  counter.stop();
  sent = counter.queries();
});
afterAll(async () => {
  await ctx.close();
});

/** `$1`, `$2`... as knex's `?` bindings, in the order they appear. */
function asKnexRaw(query: SentQuery): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = [];
  const sql = query.sql.replace(/\?/g, '\\?').replace(/\$(\d+)/g, (_, n: string) => {
    bindings.push(query.values[Number(n) - 1]);
    return '?';
  });
  return { sql, bindings };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Total Cost': number;
  Plans?: PlanNode[];
}

/** The reads of the growing tables that cost what reading many of their rows costs. */
function costlyReads(node: PlanNode, out: string[] = []): string[] {
  const table = node['Relation Name'];
  if (table !== undefined && GROWING_TABLES.includes(table) && /Scan/.test(node['Node Type']) && node['Total Cost'] > MAX_READ_COST)
    out.push(`${node['Node Type']} on ${table} (cost ${node['Total Cost']})`);
  for (const child of node.Plans ?? []) costlyReads(child, out);
  return out;
}

/** The statement's plan, as the planner makes it for these values. */
async function costlyReadsOf(query: SentQuery): Promise<string[]> {
  const { sql, bindings } = asKnexRaw(query);
  const explained = await ctx.db.raw(`explain (format json) ${sql}`, bindings as never[]);
  const json = (explained.rows as Record<string, unknown>[])[0]['QUERY PLAN'];
  const [plan] = (typeof json === 'string' ? JSON.parse(json) : json) as { Plan: PlanNode }[];
  return costlyReads(plan.Plan);
}

test('when the hot paths ran, then they sent statements to plan (the test sees them)', () => {
  const statements = sent.filter(planned);
  expect(statements.length).toBeGreaterThan(30);
  expect(statements.some((q) => /card_setups/.test(q.sql) && /update/i.test(q.sql))).toBe(true);
});

test('when each statement of the hot paths is planned over thousands of other customers, then none reads many of their rows', async () => {
  const distinct = new Map<string, SentQuery>();
  for (const q of sent) if (planned(q) && !distinct.has(q.sql)) distinct.set(q.sql, q);
  const whole: { sql: string; tables: string[] }[] = [];
  for (const q of distinct.values()) {
    const tables = await costlyReadsOf(q);
    if (tables.length > 0) whole.push({ sql: q.sql.replace(/\s+/g, ' ').slice(0, 300), tables });
  }
  expect(whole).toEqual([]);
});
