import { reconcileOnce } from '../../app/payments';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type Stripe from 'stripe';
import { startEmulator, type Emulator } from '../../emulator';
import { installationId, migrateLatest, type Db } from '../../app/db';
import { createStripeClient } from '../../app/stripe';
import { newAid } from '../support/billrun-requests';
import { okPageJson, startIframeSetup } from '../support/card-setup';
import { credit, newReference, pay } from '../support/payment-requests';
import { cardSetupIdOf, handshakeRows } from '../support/handshake-rows';
import { startServiceOn, type TestContext } from '../support/test-context';
import { createTestDb, type TestDb } from '../support/test-db';
import { migrations, migrationSourceOf } from '../../migrations';

/**
 * A database of the single-owner, single-Stripe-account release (migrations 1-11), full of rows
 * that Stripe knows, upgraded by migration 12 and served by the current service.
 */

const LAST_SINGLE_ACCOUNT_MIGRATION = '20261121000011_add_check_failures';
/** The migrations a database had before owners and Stripe accounts: as the previous release left it. */
const SINGLE_ACCOUNT_SCHEMA = migrationSourceOf(migrations.slice(0, migrations.findIndex(([name]) => name === LAST_SINGLE_ACCOUNT_MIGRATION) + 1));
/** The migrations after the single-account schema (11), in order. */
const LATER_MIGRATIONS = [
  '20261202000012_owners_and_stripe_accounts',
  '20261203000013_card_setups',
  '20261203000014_payment_hub',
  '20261203000015_hub_rate_limits',
  '20261203000016_hub_webhooks',
  '20261203000017_refund_reason',
  '20261203000018_console_operators',
  '20261203000019_token_webhooks',
  '20261207000020_card_setups_payment_method',
  '20261207000021_card_foreign_keys',
  '20261207000022_billrun_charges_skip_events',
  '20261208000023_redundant_indexes',
];
const KEY_BEFORE = 'sk_test_upgrade_key_before';
const KEY_AFTER = 'sk_test_upgrade_key_after';
const VISA = '4242424242424242';
const MASTERCARD = '5555555555554444';
const HOUR_MS = 60 * 60_000;

const sha256 = (parts: unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex');
const newTxId = (): string => Array.from({ length: 19 }, (_, i) => (i === 0 ? randomInt(1, 10) : randomInt(0, 10))).join('');
const ago = (ms: number): Date => new Date(Date.now() - ms);

/** What the old release left behind, as the test needs to find it again. */
interface LegacyRows {
  aid: number;
  customerId: string;
  installation: string;
  completedTxId: string;
  oldPaymentMethodId: string;
  openTxId: string;
  openSessionId: string;
  chargeReference: string;
  paymentIntentId: string;
  stripeRefundId: string;
  eventId: string;
  sid: string;
}

/** A setup-mode Checkout session as the old getRequest opened it, completed at the emulator with `card`. */
async function completedSetupSession(stripe: Stripe, emulator: Emulator, customerId: string, aid: number, txId: string, card: string) {
  const metadata = { txId, billrun_aid: String(aid) };
  const session = await stripe.checkout.sessions.create({
    mode: 'setup',
    customer: customerId,
    allowed_payment_method_types: ['card'],
    success_url: `https://portal.example/billing/ok?txId=${txId}`,
    cancel_url: `https://portal.example/billing/fail?txId=${txId}`,
    client_reference_id: txId,
    metadata,
    setup_intent_data: { metadata },
  });
  emulator.completeCheckoutSession(session.id, card);
  const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent.payment_method'] });
  const pm = (done.setup_intent as Stripe.SetupIntent).payment_method as Stripe.PaymentMethod;
  return {
    session,
    pm: {
      id: pm.id,
      brand: pm.card?.brand ?? null,
      last4: pm.card?.last4 as string,
      expMonth: pm.card?.exp_month as number,
      expYear: pm.card?.exp_year as number,
    },
  };
}

/**
 * Rows of every table in the old shape (aid as bigint, no owner, no Stripe account), each made
 * for real at the emulator with `stripe` as the old service made it: a customer, a card saved by
 * a completed handshake, a second handshake whose card was saved at Stripe but never recorded
 * (the customer closed the tab before OkPage), a succeeded charge with a partial refund, the
 * processed webhook event of that charge, and a browser session.
 */
async function fillSingleAccountRows(db: Db, stripe: Stripe, emulator: Emulator, key: string): Promise<LegacyRows> {
  const installation = await installationId(db);
  const aid = newAid();
  const email = `billing+${aid}@customer.example`;
  const customer = await stripe.customers.create({ metadata: { billrun_aid: String(aid) }, email });
  await db('accounts').insert({ aid, stripe_customer_id: customer.id, email, created_at: ago(72 * HOUR_MS), updated_at: ago(72 * HOUR_MS) });

  const handshakeRow = (txId: string, sessionId: string, createdAt: Date) => ({
    tx_id: txId,
    aid,
    instance_name: 'StripeCheckout',
    flow: 'iframe',
    request_t: String(Math.floor(createdAt.getTime() / 1000)),
    customer_id: customer.id,
    checkout_session_id: sessionId,
    ok_page: 'https://portal.example/billing/ok',
    fail_page: 'https://portal.example/billing/fail',
    return_url: 'https://billrun.example/return',
    created_at: createdAt,
    updated_at: createdAt,
  });

  const completedTxId = newTxId();
  const first = await completedSetupSession(stripe, emulator, customer.id, aid, completedTxId, VISA);
  const savedAt = ago(71 * HOUR_MS);
  await db('handshakes').insert({
    ...handshakeRow(completedTxId, first.session.id, ago(72 * HOUR_MS)),
    state: 'completed',
    expires_at: new Date(first.session.expires_at * 1000),
    finished_at: savedAt,
    updated_at: savedAt,
    payment_method_id: first.pm.id,
  });
  const [card] = await db('cards')
    .insert({
      aid,
      gateway_name: 'StripeCheckout',
      instance_name: 'StripeCheckout',
      customer_id: customer.id,
      payment_method_id: first.pm.id,
      handshake_tx_id: completedTxId,
      brand: first.pm.brand,
      four_digits: first.pm.last4,
      exp_month: first.pm.expMonth,
      exp_year: first.pm.expYear,
      card_expiration: `${first.pm.expMonth}${first.pm.expYear}`,
      active: true,
      generate_token_time: savedAt,
    })
    .returning('id');

  // The old charge: the row first, then the PaymentIntent naming it, as the old submitCharge did.
  const chargeReference = newReference();
  const [charge] = await db('charges')
    .insert({
      channel: 'billrun',
      reference: chargeReference,
      request_fingerprint: sha256([aid, 5000, 'USD']),
      aid,
      card_id: card.id,
      customer_id: customer.id,
      payment_method_id: first.pm.id,
      amount: 5000,
      currency: 'USD',
      created_at: ago(48 * HOUR_MS),
      updated_at: ago(48 * HOUR_MS),
    })
    .returning('id');
  const pi = await stripe.paymentIntents.create(
    {
      amount: 5000,
      currency: 'usd',
      customer: customer.id,
      payment_method: first.pm.id,
      allowed_payment_method_types: ['card'],
      off_session: true,
      confirm: true,
      metadata: { charge_id: String(charge.id), reference: chargeReference, channel: 'billrun', billrun_aid: String(aid) },
    },
    { idempotencyKey: `${installation}-charge-${charge.id}` },
  );
  expect(pi.status).toBe('succeeded');
  await db('charges')
    .where({ id: charge.id })
    .update({ payment_intent_id: pi.id, status: 'succeeded', succeeded_at: ago(48 * HOUR_MS), next_check_at: null });

  const refundReference = newReference();
  const [refundRow] = await db('refunds')
    .insert({
      charge_id: charge.id,
      channel: 'billrun',
      reference: refundReference,
      request_fingerprint: sha256([pi.id, 1000]),
      amount: 1000,
      created_at: ago(24 * HOUR_MS),
      updated_at: ago(24 * HOUR_MS),
    })
    .returning('id');
  const refund = await stripe.refunds.create(
    { payment_intent: pi.id, amount: 1000, metadata: { refund_id: String(refundRow.id), charge_id: String(charge.id), reference: refundReference } },
    { idempotencyKey: `${installation}-refund-${refundRow.id}` },
  );
  expect(refund.status).toBe('succeeded');
  await db('refunds').where({ id: refundRow.id }).update({ stripe_refund_id: refund.id, status: 'succeeded' });

  const event = (emulator.events({ apiKey: key }) as Stripe.Event[]).find(
    (e) => e.type === 'payment_intent.succeeded' && (e.data.object as { id: string }).id === pi.id,
  ) as Stripe.Event;
  await db('stripe_events').insert({
    id: event.id,
    type: event.type,
    object_id: pi.id,
    received_at: ago(48 * HOUR_MS),
    processed_at: ago(48 * HOUR_MS),
    outcome: `charge ${charge.id}: succeeded`,
  });

  // Saved at Stripe a few minutes ago, never confirmed to us: OkPage must record it after the upgrade.
  const openTxId = newTxId();
  const second = await completedSetupSession(stripe, emulator, customer.id, aid, openTxId, VISA);
  await db('handshakes').insert({
    ...handshakeRow(openTxId, second.session.id, ago(10 * 60_000)),
    state: 'open',
    expires_at: new Date(second.session.expires_at * 1000),
    next_check_at: new Date(Date.now() + 5 * 60_000),
  });

  const sid = randomBytes(16).toString('hex');
  const expires = new Date(Date.now() + 24 * HOUR_MS);
  await db('sessions').insert({
    sid,
    sess: JSON.stringify({
      cookie: { originalMaxAge: 24 * HOUR_MS, expires: expires.toISOString(), httpOnly: true, path: '/' },
      billrunBrowser: randomBytes(16).toString('hex'),
    }),
    expired: expires,
  });

  return {
    aid,
    customerId: customer.id,
    installation,
    completedTxId,
    oldPaymentMethodId: first.pm.id,
    openTxId,
    openSessionId: second.session.id,
    chargeReference,
    paymentIntentId: pi.id,
    stripeRefundId: refund.id,
    eventId: event.id,
    sid,
  };
}

const rowsOf = async (db: Db, table: string) => (await db(table).select('*')) as Array<Record<string, unknown>>;
const accountOf = (row: Record<string, unknown>) => ({ owner_id: row.owner_id, stripe_account: Number(row.stripe_account) });
const paymentIntentCreates = (emulator: Emulator) => emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');

let testDb: TestDb | undefined;
let emulator: Emulator | undefined;
let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  await emulator?.close();
  await testDb?.close();
  ctx = emulator = testDb = undefined;
});

/** A database at migration 11 holding `fillSingleAccountRows`, then upgraded: the applied migrations are returned. */
async function upgradedDatabase(stripeKeys: string[]): Promise<{ db: Db; legacy: LegacyRows; applied: string[] }> {
  testDb = await createTestDb(undefined, { migrated: false });
  const db = testDb.db;
  await db.migrate.latest({ migrationSource: SINGLE_ACCOUNT_SCHEMA });
  emulator = await startEmulator({ apiKey: stripeKeys });
  const stripeBefore = createStripeClient({ secretKey: stripeKeys[0], apiBase: new URL(emulator.url), timeoutMs: 10000, maxNetworkRetries: 0 });
  const legacy = await fillSingleAccountRows(db, stripeBefore, emulator, stripeKeys[0]);
  const applied = await migrateLatest(db);
  return { db, legacy, applied };
}

describe('upgrading a single-account database', () => {
  test('when a database made by the previous migrations, with rows in every table, is migrated, then it serves a BillRun OkPage and pay afterwards', async () => {
    const { db, legacy, applied } = await upgradedDatabase([KEY_BEFORE]);
    expect(applied).toEqual(LATER_MIGRATIONS);
    const em = emulator as Emulator;
    ctx = await startServiceOn({ db, dbKind: (testDb as TestDb).kind, emulator: em, stripeKey: KEY_BEFORE });

    // The key's account holds the legacy customers, so the legacy row became that account's.
    const acct = em.accountId(KEY_BEFORE);
    expect((await ctx.stripe.accounts.retrieveCurrent()).id).toBe(acct);
    expect((await rowsOf(db, 'stripe_accounts')).map((r) => ({ id: Number(r.id), stripe_account_id: r.stripe_account_id, livemode: r.livemode }))).toEqual([
      { id: 1, stripe_account_id: acct, livemode: false },
    ]);

    // Every old row carried over to the BillRun owner and the legacy account.
    const customers = await rowsOf(db, 'customers');
    expect(customers).toEqual([
      expect.objectContaining({
        owner_id: 'billrun',
        external_ref: String(legacy.aid),
        stripe_customer_id: legacy.customerId,
        email: `billing+${legacy.aid}@customer.example`,
      }),
    ]);
    expect(Number(customers[0].stripe_account)).toBe(1);
    for (const table of ['card_setups', 'cards', 'charges']) {
      const rows = await rowsOf(db, table);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.map((r) => ({ ...accountOf(r), customer_ref: r.customer_ref }))).toEqual(
        rows.map(() => ({ owner_id: 'billrun', stripe_account: 1, customer_ref: String(legacy.aid) })),
      );
    }
    expect((await handshakeRows(db)).map((h) => [h.tx_id, h.state]).sort()).toEqual(
      [
        [legacy.completedTxId, 'completed'],
        [legacy.openTxId, 'open'],
      ].sort(),
    );
    expect((await rowsOf(db, 'refunds')).map((r) => ({ ...accountOf(r), stripe_refund_id: r.stripe_refund_id, status: r.status }))).toEqual([
      { owner_id: 'billrun', stripe_account: 1, stripe_refund_id: legacy.stripeRefundId, status: 'succeeded' },
    ]);
    expect((await rowsOf(db, 'stripe_events')).map((e) => [e.id, Number(e.stripe_account), e.processed_at !== null])).toEqual([[legacy.eventId, 1, true]]);
    expect((await rowsOf(db, 'sessions')).map((s) => s.sid)).toEqual([legacy.sid]);
    expect(await installationId(db)).toBe(legacy.installation);
    const activeBefore = await db('cards').where({ owner_id: 'billrun', stripe_account: 1, customer_ref: String(legacy.aid), active: true });
    expect(activeBefore.map((c) => c.payment_method_id)).toEqual([legacy.oldPaymentMethodId]);

    // OkPage of the setup left open before the upgrade: the card Stripe saved becomes the active one.
    const session = await ctx.stripe.checkout.sessions.retrieve(legacy.openSessionId, { expand: ['setup_intent.payment_method'] });
    const newPm = (session.setup_intent as Stripe.SetupIntent).payment_method as Stripe.PaymentMethod;
    const ok = await okPageJson(ctx, legacy.openTxId);
    expect(ok.body).toEqual({
      status: 1,
      desc: 'success',
      details: { credit_card: '4242', expiration_date: `${newPm.card?.exp_month}${newPm.card?.exp_year}`, params: [] },
    });
    const cards = await db('cards')
      .where({ customer_ref: String(legacy.aid) })
      .orderBy('id');
    expect(cards.map((c) => ({ ...accountOf(c), payment_method_id: c.payment_method_id, active: c.active, card_setup_id: c.card_setup_id }))).toEqual([
      {
        owner_id: 'billrun',
        stripe_account: 1,
        payment_method_id: legacy.oldPaymentMethodId,
        active: false,
        card_setup_id: await cardSetupIdOf(db, legacy.completedTxId),
      },
      { owner_id: 'billrun', stripe_account: 1, payment_method_id: newPm.id, active: true, card_setup_id: await cardSetupIdOf(db, legacy.openTxId) },
    ]);
    expect((await handshakeRows(db).where({ tx_id: legacy.openTxId }).first()).state).toBe('completed');

    // pay for the old aid charges the new card of the old customer.
    await em.settleWebhooks();
    em.clearRequests();
    const paid = await pay(ctx, { aid: legacy.aid, amount: '12.34', currency: 'USD' });
    expect(paid.body).toEqual({
      status: 1,
      desc: 'success',
      details: { status: 'Completed', transaction_id: expect.stringMatching(/^pi_/), reference: expect.any(String), amount: '12.34', currency: 'USD' },
    });
    const creates = paymentIntentCreates(em);
    expect(creates).toHaveLength(1);
    expect(creates[0]).toMatchObject({ account: acct, params: { amount: '1234', currency: 'usd', customer: legacy.customerId, payment_method: newPm.id } });
    expect(await ctx.stripe.paymentIntents.retrieve(paid.body.details.transaction_id)).toMatchObject({ status: 'succeeded', amount: 1234 });
    expect(accountOf(await db('charges').where({ payment_intent_id: paid.body.details.transaction_id }).first())).toEqual({
      owner_id: 'billrun',
      stripe_account: 1,
    });

    // The old charge's reference again: the fingerprint written by the old release still matches.
    await em.settleWebhooks();
    em.clearRequests();
    const replay = await pay(ctx, { aid: legacy.aid, amount: '50.00', currency: 'USD', reference: legacy.chargeReference });
    expect(replay.body).toEqual({
      status: 1,
      desc: 'success',
      details: { status: 'Completed', transaction_id: legacy.paymentIntentId, reference: legacy.chargeReference, amount: '50.00', currency: 'USD' },
    });
    expect(paymentIntentCreates(em)).toEqual([]);
    expect(await db('charges').where({ reference: legacy.chargeReference })).toHaveLength(1);

    // A credit of part of the old charge; the old refund still counts against what is left.
    const refunded = await credit(ctx, { transaction_id: legacy.paymentIntentId, amount: '15.00' });
    expect(refunded.body).toEqual({
      status: 1,
      desc: 'success',
      details: {
        status: 'Completed',
        refund_id: expect.stringMatching(/^re_/),
        transaction_id: legacy.paymentIntentId,
        reference: expect.any(String),
        amount: '15.00',
        currency: 'USD',
      },
    });
    const atStripe = await ctx.stripe.refunds.list({ payment_intent: legacy.paymentIntentId });
    expect(atStripe.data.map((r) => r.amount).sort((a, b) => a - b)).toEqual([1000, 1500]);
    expect(accountOf(await db('refunds').where({ stripe_refund_id: refunded.body.details.refund_id }).first())).toEqual({
      owner_id: 'billrun',
      stripe_account: 1,
    });
    const tooMuch = await credit(ctx, { transaction_id: legacy.paymentIntentId, amount: '30.00' });
    expect(tooMuch.body).toEqual({ status: 0, details: { message: 'Refund of 30.00 USD exceeds the refundable rest of 25.00 USD' } });
  });

  test('when the legacy customers do not exist in the Stripe account of the key, then the legacy row is not claimed and a known aid gets a new customer in the new account', async () => {
    const { db, legacy, applied } = await upgradedDatabase([KEY_BEFORE, KEY_AFTER]);
    expect(applied).toEqual(LATER_MIGRATIONS);
    const em = emulator as Emulator;
    // The key was changed during the upgrade: the service now acts on another Stripe account.
    ctx = await startServiceOn({ db, dbKind: (testDb as TestDb).kind, emulator: em, stripeKey: KEY_AFTER });

    const acctAfter = em.accountId(KEY_AFTER);
    expect(acctAfter).not.toBe(em.accountId(KEY_BEFORE));
    const accounts = (await db('stripe_accounts').orderBy('id')).map((r) => ({ id: Number(r.id), stripe_account_id: r.stripe_account_id }));
    expect(accounts).toEqual([
      { id: 1, stripe_account_id: null },
      { id: 2, stripe_account_id: acctAfter },
    ]);

    const setup = await startIframeSetup(ctx, { aid: legacy.aid });
    const customers = (
      await db('customers')
        .where({ owner_id: 'billrun', external_ref: String(legacy.aid) })
        .orderBy('stripe_account')
    ).map((c) => ({
      stripe_account: Number(c.stripe_account),
      stripe_customer_id: c.stripe_customer_id,
    }));
    expect(customers).toEqual([
      { stripe_account: 1, stripe_customer_id: legacy.customerId },
      { stripe_account: 2, stripe_customer_id: expect.stringMatching(/^cus_/) },
    ]);
    expect(customers[1].stripe_customer_id).not.toBe(legacy.customerId);
    expect(await ctx.stripe.customers.retrieve(customers[1].stripe_customer_id)).toMatchObject({ metadata: { billrun_aid: String(legacy.aid) } });
    expect(Number((await handshakeRows(db).where({ tx_id: setup.txId }).first()).stripe_account)).toBe(2);

    em.completeCheckoutSession(setup.sessionId, MASTERCARD);
    const ok = await okPageJson(ctx, setup.txId);
    expect(ok.body).toMatchObject({ status: 1, desc: 'success', details: { credit_card: '4444', params: [] } });

    // The old card stays as history of the old account; the new one is the new account's.
    const cards = (
      await db('cards')
        .where({ customer_ref: String(legacy.aid) })
        .orderBy('id')
    ).map((c) => ({
      stripe_account: Number(c.stripe_account),
      payment_method_id: c.payment_method_id,
      active: c.active,
    }));
    expect(cards).toEqual([
      { stripe_account: 1, payment_method_id: legacy.oldPaymentMethodId, active: true },
      { stripe_account: 2, payment_method_id: expect.stringMatching(/^pm_/), active: true },
    ]);

    // The setup left open in the old account cannot be read any more: a plain message (no
    // internal id), and once its session would have expired it closes instead of being retried.
    const stale = await okPageJson(ctx, legacy.openTxId);
    expect(stale.body).toEqual({ status: 0, details: { message: 'This was made in a Stripe account the service no longer has a key for' } });
    // Until then the reconciler parks it for a day: no failure counted, one line for the account, no alert.
    ctx.clock.advance(10 * 60);
    ctx.logs.length = 0;
    expect(await reconcileOnce(ctx.deps)).toMatchObject({ parked: 1, failures: 0 });
    const parked = await handshakeRows(db).where({ tx_id: legacy.openTxId }).first();
    expect(parked).toMatchObject({ state: 'open', check_failures: 0 });
    const parkedFor = new Date(parked.next_check_at).getTime() - ctx.clock.now().getTime();
    expect(parkedFor).toBeGreaterThan(24 * 60 * 60_000 - 60_000);
    expect(parkedFor).toBeLessThanOrEqual(24 * 60 * 60_000);
    const lines = ctx.logs.map((l) => JSON.parse(l) as { msg: string; stripeAccount?: string; rows?: number });
    expect(lines.filter((l) => /without a key here/.test(l.msg))).toMatchObject([{ stripeAccount: '1', rows: 1 }]);
    expect(lines.filter((l) => /needs an operator|reconcile step failed/.test(l.msg))).toEqual([]);
    ctx.clock.advance(25 * 60 * 60);
    await reconcileOnce(ctx.deps);
    expect((await handshakeRows(db).where({ tx_id: legacy.openTxId }).first()).state).toBe('expired');
  });
});
