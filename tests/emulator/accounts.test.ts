import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';
import { control, createSetupSession, customerWithSavedCard, rejectionOf, startWebhookReceiver, stripeClient } from './emulator-test-helpers';

const KEY_A = 'sk_test_account_a_1111';
const KEY_B = 'sk_test_account_b_2222';
// Assembled at run time: made up, but secret scanners should not see a live-key literal.
const LIVE_KEY = ['sk', 'live', 'account_c_3333'].join('_');

const FUTURE_EXP = `12/${String((new Date().getUTCFullYear() + 4) % 100).padStart(2, '0')}`;

/** One emulator per test: accounts, endpoints and the default account are what is under test. */
function useAccountsEmulator(opts: EmulatorOptions = { apiKey: [KEY_A, KEY_B] }): () => { emulator: Emulator; a: Stripe; b: Stripe } {
  let rig: { emulator: Emulator; a: Stripe; b: Stripe } | undefined;
  beforeEach(async () => {
    const emulator = await startEmulator(opts);
    rig = { emulator, a: stripeClient(emulator, { key: KEY_A }), b: stripeClient(emulator, { key: KEY_B }) };
  });
  afterEach(async () => {
    await rig?.emulator.close();
  });
  return () => {
    if (!rig) throw new Error('emulator not started');
    return rig;
  };
}

/** A customer with a saved card, charged and partly refunded: one of every object the service makes. */
async function chargedCustomer(stripe: Stripe, emulator: Emulator) {
  const { customer, paymentMethod } = await customerWithSavedCard(stripe, emulator);
  const paymentIntent = await stripe.paymentIntents.create({
    amount: 1999,
    currency: 'usd',
    customer: customer.id,
    payment_method: paymentMethod,
    off_session: true,
    confirm: true,
    allowed_payment_method_types: ['card'],
  });
  const refund = await stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 500 });
  return { customer, paymentMethod, paymentIntent, charge: paymentIntent.latest_charge as string, refund };
}

async function expectMissing(call: Promise<unknown>, message: string, status = 404): Promise<void> {
  const err = await rejectionOf(call);
  expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect([err.statusCode, err.code, err.message]).toEqual([status, 'resource_missing', message]);
}

describe('emulator: one account per secret key', () => {
  const rig = useAccountsEmulator();

  it('when two keys each save a card, charge and refund, then each account lists only its own objects and events', async () => {
    const { emulator, a, b } = rig();
    const inA = await chargedCustomer(a, emulator);
    const inB = await chargedCustomer(b, emulator);
    expect(inA.paymentIntent.status).toBe('succeeded');
    expect(inB.paymentIntent.status).toBe('succeeded');

    for (const [stripe, own] of [
      [a, inA],
      [b, inB],
    ] as const) {
      expect((await stripe.customers.list()).data.map((c) => c.id)).toEqual([own.customer.id]);
      expect((await stripe.paymentIntents.list()).data.map((p) => p.id)).toEqual([own.paymentIntent.id]);
      expect((await stripe.charges.list()).data.map((c) => c.id)).toEqual([own.charge]);
      expect((await stripe.refunds.list()).data.map((r) => r.id)).toEqual([own.refund.id]);
      expect((await stripe.checkout.sessions.list()).data.map((s) => s.customer)).toEqual([own.customer.id]);
      expect((await stripe.customers.listPaymentMethods(own.customer.id)).data.map((p) => p.id)).toEqual([own.paymentMethod]);
      const objects = (await stripe.events.list({ limit: 100 })).data.map((e) => (e.data.object as { id: string }).id);
      expect(objects).toContain(own.paymentIntent.id);
      expect(objects).not.toContain((own === inA ? inB : inA).paymentIntent.id);
    }
    expect(emulator.accountId(KEY_A)).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    expect(emulator.accountId(KEY_B)).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    expect(emulator.accountId(KEY_A)).not.toBe(emulator.accountId(KEY_B));
  });

  it("when key B names key A's objects anywhere, then Stripe's resource_missing comes back and nothing changes", async () => {
    const { emulator, a, b } = rig();
    const inA = await chargedCustomer(a, emulator);
    const session = await createSetupSession(a, inA.customer.id);
    const setupIntent = session.setup_intent as string;
    const [eventA] = (await a.events.list({ limit: 1 })).data;
    const endpointA = await a.webhookEndpoints.create({ url: 'https://merchant.example/hooks', enabled_events: ['*'] });
    const ephemeral = await a.ephemeralKeys.create({ customer: inA.customer.id }, { apiVersion: '2026-10-28.endive' });

    // Ids in the path: 404, "No such <object>: '<id>'", as Stripe answers for another account's id.
    const cus = inA.customer.id;
    await expectMissing(b.customers.retrieve(cus), `No such customer: '${cus}'`);
    await expectMissing(b.customers.update(cus, { name: 'Mallory' }), `No such customer: '${cus}'`);
    await expectMissing(b.customers.del(cus), `No such customer: '${cus}'`);
    await expectMissing(b.customers.listPaymentMethods(cus), `No such customer: '${cus}'`);
    await expectMissing(b.paymentIntents.retrieve(inA.paymentIntent.id), `No such payment_intent: '${inA.paymentIntent.id}'`);
    await expectMissing(
      b.paymentIntents.confirm(inA.paymentIntent.id, { payment_method: 'pm_card_visa' }),
      `No such payment_intent: '${inA.paymentIntent.id}'`,
    );
    await expectMissing(b.paymentIntents.cancel(inA.paymentIntent.id), `No such payment_intent: '${inA.paymentIntent.id}'`);
    await expectMissing(b.charges.retrieve(inA.charge), `No such charge: '${inA.charge}'`);
    await expectMissing(b.refunds.retrieve(inA.refund.id), `No such refund: '${inA.refund.id}'`);
    await expectMissing(b.refunds.cancel(inA.refund.id), `No such refund: '${inA.refund.id}'`);
    await expectMissing(b.paymentMethods.retrieve(inA.paymentMethod), `No such payment_method: '${inA.paymentMethod}'`);
    await expectMissing(b.paymentMethods.detach(inA.paymentMethod), `No such payment_method: '${inA.paymentMethod}'`);
    await expectMissing(b.checkout.sessions.retrieve(session.id, { expand: ['setup_intent.payment_method'] }), `No such checkout.session: '${session.id}'`);
    await expectMissing(b.checkout.sessions.expire(session.id), `No such checkout.session: '${session.id}'`);
    await expectMissing(b.setupIntents.retrieve(setupIntent), `No such setupintent: '${setupIntent}'`);
    await expectMissing(b.events.retrieve(eventA.id), `No such event: '${eventA.id}'`);
    await expectMissing(b.webhookEndpoints.retrieve(endpointA.id), `No such webhook_endpoint: '${endpointA.id}'`);
    await expectMissing(b.ephemeralKeys.del(ephemeral.id), `No such ephemeral_key: '${ephemeral.id}'`);

    // Ids as parameters: 400 resource_missing on that parameter.
    const charge = b.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: cus,
      payment_method: inA.paymentMethod,
      confirm: true,
      off_session: true,
      allowed_payment_method_types: ['card'],
    });
    expect(await rejectionOf(charge)).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    const ownCustomer = await b.customers.create({ email: 'b@example.com' });
    const withForeignCard = b.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: ownCustomer.id,
      payment_method: inA.paymentMethod,
      confirm: true,
      off_session: true,
      allowed_payment_method_types: ['card'],
    });
    expect(await rejectionOf(withForeignCard)).toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'payment_method',
      message: `No such PaymentMethod: '${inA.paymentMethod}'`,
    });
    expect(await rejectionOf(b.refunds.create({ payment_intent: inA.paymentIntent.id }))).toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'payment_intent',
    });
    expect(await rejectionOf(b.refunds.create({ charge: inA.charge }))).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'charge' });
    expect(await rejectionOf(b.checkout.sessions.create({ mode: 'setup', currency: 'usd', customer: cus }))).toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'customer',
    });
    expect(await rejectionOf(b.paymentMethods.attach('pm_card_visa', { customer: cus }))).toMatchObject({ code: 'resource_missing', param: 'customer' });
    expect(await rejectionOf(b.paymentMethods.list({ customer: cus }))).toMatchObject({ code: 'resource_missing', param: 'customer' });
    expect(await rejectionOf(b.customers.list({ starting_after: cus }))).toMatchObject({ code: 'resource_missing', param: 'starting_after' });

    // List filters naming A's objects find nothing in B.
    expect((await b.charges.list({ payment_intent: inA.paymentIntent.id })).data).toEqual([]);
    expect((await b.refunds.list({ charge: inA.charge })).data).toEqual([]);
    expect((await b.checkout.sessions.list({ customer: cus })).data).toEqual([]);

    // A's objects are as they were.
    expect(((await a.customers.retrieve(cus)) as Stripe.Customer).name).toBe('Ada Lovelace');
    expect((await a.paymentIntents.retrieve(inA.paymentIntent.id)).status).toBe('succeeded');
    expect((await a.refunds.list()).data).toHaveLength(1);
    expect((await a.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it('when both accounts use the same idempotency key, then each gets its own object, and a repeat in one account replays only there', async () => {
    const { a, b } = rig();
    const first = await a.customers.create({ email: 'same@example.com' }, { idempotencyKey: 'tx-1-customer' });
    const other = await b.customers.create({ email: 'same@example.com' }, { idempotencyKey: 'tx-1-customer' });
    expect(other.id).not.toBe(first.id);
    expect(other.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    const again = await a.customers.create({ email: 'same@example.com' }, { idempotencyKey: 'tx-1-customer' });
    expect([again.id, again.lastResponse.headers['idempotent-replayed']]).toEqual([first.id, 'true']);
  });

  it('when a key is not one of the configured ones, or is live, then it is refused and gets no account', async () => {
    const { emulator } = rig();
    const other = await rejectionOf(stripeClient(emulator, { key: 'sk_test_not_configured' }).customers.list());
    expect(other).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(() => emulator.accountId('sk_test_not_configured')).toThrow(/Invalid API Key provided: sk_test_\*\*\*\*ured/);
    expect(emulator.requests().at(-1)).toMatchObject({ status: 401 });
    expect(emulator.requests().at(-1)?.account).toBeUndefined();
    const live = await rejectionOf(stripeClient(emulator, { key: LIVE_KEY }).customers.list());
    expect(live.message).toMatch(/never accepts live-mode keys/);
  });

  it("when in-process methods and hosted pages get the second account's ids, then they find its objects", async () => {
    const { emulator, b } = rig();
    const customer = await b.customers.create({ email: 'b@example.com' });
    const viaPage = await createSetupSession(b, customer.id);
    const page = await fetch(viaPage.url as string);
    expect(page.status).toBe(200);
    const posted = await fetch(viaPage.url as string, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ number: '4242424242424242', exp: FUTURE_EXP, cvc: '123' }).toString(),
      redirect: 'manual',
    });
    expect(posted.status).toBe(303);
    expect((await b.checkout.sessions.retrieve(viaPage.id)).status).toBe('complete');

    const viaControl = await createSetupSession(b, customer.id);
    expect((await control(emulator, `/_emulator/checkout/sessions/${viaControl.id}/complete`, { card: '4000002500003155' })).status).toBe(200);
    expect(emulator.cancelCheckoutSession((await createSetupSession(b, customer.id)).id).redirectUrl).toMatch(/^https:\/\/merchant\.example\/cancelled/);

    const onSession = await b.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_threeDSecure2Required',
      confirm: true,
      return_url: 'https://merchant.example/back',
      allowed_payment_method_types: ['card'],
    });
    expect(onSession.status).toBe('requires_action');
    expect(emulator.authenticatePaymentIntent(onSession.id, 'pass').redirectUrl).toMatch(/redirect_status=succeeded/);

    emulator.setPaymentMode('processing');
    emulator.setRefundMode('pending');
    const processing = await b.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_visa',
      confirm: true,
      off_session: true,
      allowed_payment_method_types: ['card'],
    });
    expect(emulator.settlePaymentIntent(processing.id, 'succeeded')).toMatchObject({ status: 'succeeded' });
    const refund = await b.refunds.create({ payment_intent: processing.id });
    expect(emulator.settleRefund(refund.id, 'succeeded')).toMatchObject({ status: 'succeeded' });

    const accountB = emulator.accountId(KEY_B);
    const logged = emulator.requests().filter((r) => r.path.startsWith('/v1/'));
    expect(new Set(logged.map((r) => r.account))).toEqual(new Set([accountB]));
    expect(emulator.events({ apiKey: KEY_B }).length).toBeGreaterThan(0);
    expect(emulator.events()).toEqual([]);
    const overHttp = await fetch(`${emulator.url}/_emulator/events`, { headers: { Authorization: `Bearer ${KEY_B}` } });
    expect(((await overHttp.json()) as { data: unknown[] }).data).toEqual(emulator.events({ apiKey: KEY_B }));
  });
});

describe('emulator: GET /v1/account', () => {
  const rig = useAccountsEmulator();

  it('when each key retrieves its account, then it gets its own Standard test account, with the same id every time', async () => {
    const { emulator, a, b } = rig();
    const accountA = await a.accounts.retrieve(null);
    const accountB = await b.accounts.retrieveCurrent();
    expect(accountA).toMatchObject({
      object: 'account',
      livemode: false,
      type: 'standard',
      country: 'US',
      default_currency: 'usd',
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
      capabilities: { card_payments: 'active' },
      settings: { dashboard: { display_name: expect.any(String) }, payments: { statement_descriptor: 'EMULATOR' } },
    });
    expect(accountA.id).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    expect(accountA.email).toMatch(/@/);
    expect(accountA.created).toBeLessThanOrEqual(emulator.now());
    expect(accountB.id).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    expect(accountB.id).not.toBe(accountA.id);
    expect((await a.accounts.retrieve(null)).id).toBe(accountA.id);
    expect(accountA.id).toBe(emulator.accountId(KEY_A));
    expect(await a.accounts.retrieve(accountA.id)).toEqual(accountA);
  });

  it('when a key names another account, by id or in the Stripe-Account header, then it is refused as for a platform without Connect', async () => {
    const { a, b } = rig();
    const other = (await b.accounts.retrieve(null)).id;
    const byId = await rejectionOf(a.accounts.retrieve(other));
    expect(byId).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect([byId.statusCode, byId.type]).toEqual([403, 'StripePermissionError']);
    expect(byId.message).toMatch(/^Only Stripe Connect platforms can work with other accounts\./);
    expect((await rejectionOf(a.accounts.retrieve('acct_0000000000000000'))).statusCode).toBe(403);

    const customer = await b.customers.create({ email: 'b@example.com' });
    const onBehalf = await rejectionOf(a.customers.retrieve(customer.id, {}, { stripeAccount: other }));
    expect(onBehalf).toBeInstanceOf(Stripe.errors.StripePermissionError);
    const own = (await a.accounts.retrieve(null)).id;
    expect((await a.customers.list({}, { stripeAccount: own })).data).toEqual([]);
    expect((await a.accounts.list()).data).toEqual([]);
  });
});

describe('emulator: resetting an account', () => {
  const rig = useAccountsEmulator();

  async function reset(emulator: Emulator, key?: string): Promise<{ status: number; json: any }> {
    const res = await fetch(`${emulator.url}/_emulator/accounts/reset`, {
      method: 'POST',
      headers: key === undefined ? {} : { Authorization: `Bearer ${key}` },
    });
    return { status: res.status, json: await res.json() };
  }

  it('when an account is reset with its key, then the key has a new empty account and the other account is untouched', async () => {
    const { emulator, a, b } = rig();
    const before = (await a.accounts.retrieve(null)).id;
    const accountB = (await b.accounts.retrieve(null)).id;
    const inA = await chargedCustomer(a, emulator);
    const inB = await chargedCustomer(b, emulator);
    await a.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'tx-9' });
    await a.webhookEndpoints.create({ url: 'https://merchant.example/hooks', enabled_events: ['*'] });
    const eventsB = (await b.events.list({ limit: 100 })).data.map((e) => e.id);

    const answer = await reset(emulator, KEY_A);
    expect(answer.status).toBe(200);
    expect(answer.json.previous_account_id).toBe(before);
    expect(answer.json.account_id).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    expect(answer.json.account_id).not.toBe(before);
    expect((await a.accounts.retrieve(null)).id).toBe(answer.json.account_id);
    expect(emulator.accountId(KEY_A)).toBe(answer.json.account_id);

    await expectMissing(a.customers.retrieve(inA.customer.id), `No such customer: '${inA.customer.id}'`);
    await expectMissing(a.paymentIntents.retrieve(inA.paymentIntent.id), `No such payment_intent: '${inA.paymentIntent.id}'`);
    expect((await a.customers.list()).data).toEqual([]);
    expect((await a.charges.list()).data).toEqual([]);
    expect((await a.events.list()).data).toEqual([]);
    expect((await a.webhookEndpoints.list()).data).toEqual([]);
    const fresh = await a.customers.create({ email: 'once@example.com' }, { idempotencyKey: 'tx-9' });
    expect(fresh.lastResponse.headers['idempotent-replayed']).toBeUndefined();

    expect((await b.accounts.retrieve(null)).id).toBe(accountB);
    expect((await b.paymentIntents.retrieve(inB.paymentIntent.id)).status).toBe('succeeded');
    expect((await b.events.list({ limit: 100 })).data.map((e) => e.id)).toEqual(eventsB);
    expect(() => emulator.completeCheckoutSession('cs_test_gone', '4242424242424242')).toThrow(/No such checkout.session/);
  });

  it('when the reset call names no key or a refused one, then it is a 401 and nothing is reset', async () => {
    const { emulator, a } = rig();
    const before = (await a.accounts.retrieve(null)).id;
    const customer = await a.customers.create({ email: 'kept@example.com' });
    expect(await reset(emulator)).toMatchObject({ status: 401, json: { error: { message: expect.stringMatching(/^You did not provide an API key/) } } });
    expect(await reset(emulator, 'sk_test_not_configured')).toMatchObject({
      status: 401,
      json: { error: { message: 'Invalid API Key provided: sk_test_****ured' } },
    });
    expect((await a.accounts.retrieve(null)).id).toBe(before);
    expect(((await a.customers.retrieve(customer.id)) as Stripe.Customer).email).toBe('kept@example.com');
  });

  it('when an account is reset in-process while its webhooks wait, then they are never delivered and the other account still gets its own', async () => {
    const { emulator, a, b } = rig();
    const receiverA = await startWebhookReceiver();
    const receiverB = await startWebhookReceiver();
    try {
      emulator.addWebhookEndpoint(receiverA.url, undefined, { apiKey: KEY_A });
      emulator.addWebhookEndpoint(receiverB.url, undefined, { apiKey: KEY_B });
      emulator.pauseWebhooks();
      await a.customers.create({ email: 'a@example.com' });
      const customerB = await b.customers.create({ email: 'b@example.com' });
      const { accountId } = emulator.resetAccount(KEY_A);
      expect(accountId).toBe(emulator.accountId(KEY_A));
      emulator.releaseWebhooks();
      await emulator.settleWebhooks();
      expect(receiverA.received).toEqual([]);
      expect(receiverB.received.map((r) => r.event.data.object.id)).toEqual([customerB.id]);
      // The new account starts without endpoints: the old one's registration went with it.
      await a.customers.create({ email: 'after@example.com' });
      await emulator.settleWebhooks();
      expect(receiverA.received).toEqual([]);
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  });
});

describe('emulator: webhooks per account', () => {
  const rig = useAccountsEmulator();

  it("when an invoice is paid and a payment refunded in B's Dashboard, then only B's endpoint gets invoice.* and charge.refunded, signed with B's secret", async () => {
    const { emulator, a, b } = rig();
    const receiverA = await startWebhookReceiver();
    const receiverB = await startWebhookReceiver();
    try {
      emulator.addWebhookEndpoint(receiverA.url, undefined, { apiKey: KEY_A });
      const endpointB = emulator.addWebhookEndpoint(receiverB.url, ['invoice.paid', 'charge.refunded'], { apiKey: KEY_B });
      await a.customers.create({ email: 'a@example.com' });
      const inB = await chargedCustomer(b, emulator);
      await emulator.settleWebhooks();
      receiverA.received.length = 0;
      receiverB.received.length = 0;

      const paid = await control(emulator, '/_emulator/invoices/pay', { customer: inB.paymentIntent.customer, amount: 2500, currency: 'eur' });
      expect(paid.json.invoice).toMatchObject({ object: 'invoice', status: 'paid', amount_paid: 2500, currency: 'eur', customer: inB.paymentIntent.customer });
      emulator.dashboardRefund({ paymentIntent: inB.paymentIntent.id, amount: 100 });
      await emulator.settleWebhooks();

      expect(receiverA.received).toEqual([]);
      expect(receiverB.received.map((r) => [r.event.type, r.event.data.object.id])).toEqual([
        ['invoice.paid', paid.json.invoice.id],
        ['charge.refunded', inB.paymentIntent.latest_charge],
      ]);
      for (const r of receiverB.received)
        expect(() => b.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, endpointB.secret)).not.toThrow();
      expect((await b.events.list({ type: 'invoice.*' })).data.map((e) => e.type)).toEqual([
        'invoice.payment_succeeded',
        'invoice.paid',
        'invoice.finalized',
        'invoice.created',
      ]);
      expect((await a.events.list({ limit: 100 })).data.filter((e) => e.type.startsWith('invoice.') || e.type.startsWith('refund.'))).toEqual([]);
      const unknown = await control(emulator, '/_emulator/invoices/pay', { customer: 'cus_nope', amount: 1, currency: 'usd' });
      expect([unknown.status, unknown.json.error.code]).toEqual([400, 'resource_missing']);
      const badAmount = await control(emulator, '/_emulator/invoices/pay', { customer: inB.paymentIntent.customer, amount: '1.5', currency: 'usd' });
      expect(badAmount.status).toBe(400);
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  });

  it("when both accounts have an endpoint, then each receives only its own account's events, signed with its own secret", async () => {
    const { emulator, a, b } = rig();
    const receiverA = await startWebhookReceiver();
    const receiverB = await startWebhookReceiver();
    try {
      const endpointA = emulator.addWebhookEndpoint(receiverA.url);
      const endpointB = await b.webhookEndpoints.create({ url: receiverB.url, enabled_events: ['*'] });
      const inA = await chargedCustomer(a, emulator);
      const inB = await chargedCustomer(b, emulator);
      await emulator.settleWebhooks();

      const ownEvents = async (stripe: Stripe) => (await stripe.events.list({ limit: 100 })).data.map((e) => e.id).sort();
      expect(receiverA.received.map((r) => r.event.id).sort()).toEqual(await ownEvents(a));
      expect(receiverB.received.map((r) => r.event.id).sort()).toEqual(await ownEvents(b));
      expect(receiverA.received.some((r) => r.event.data.object.id === inA.paymentIntent.id)).toBe(true);
      expect(receiverB.received.some((r) => r.event.data.object.id === inB.paymentIntent.id)).toBe(true);

      for (const r of receiverA.received)
        expect(() => a.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, endpointA.secret)).not.toThrow();
      for (const r of receiverB.received) {
        expect(() => b.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, endpointB.secret as string)).not.toThrow();
        expect(() => b.webhooks.constructEvent(r.body, r.headers['stripe-signature'] as string, endpointA.secret)).toThrow(
          Stripe.errors.StripeSignatureVerificationError,
        );
      }
      const accounts = new Map(emulator.deliveries().map((d) => [d.endpointId, d.account]));
      expect(accounts).toEqual(
        new Map([
          [endpointA.id, emulator.accountId(KEY_A)],
          [endpointB.id, emulator.accountId(KEY_B)],
        ]),
      );
      // An endpoint belongs to its account: B does not see A's, and registering A's url for B makes B its own.
      expect((await b.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([endpointB.id]);
      const sameUrlForB = emulator.addWebhookEndpoint(receiverA.url, undefined, { apiKey: KEY_B });
      expect(sameUrlForB.id).not.toBe(endpointA.id);
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  });

  it("when an event is redelivered, then it goes to its own account's endpoints only", async () => {
    const { emulator, a, b } = rig();
    const receiverA = await startWebhookReceiver();
    const receiverB = await startWebhookReceiver();
    try {
      emulator.addWebhookEndpoint(receiverA.url, undefined, { apiKey: KEY_A });
      emulator.addWebhookEndpoint(receiverB.url, undefined, { apiKey: KEY_B });
      const customer = await b.customers.create({ email: 'b@example.com' });
      await emulator.settleWebhooks();
      const [created] = emulator.events({ apiKey: KEY_B });
      emulator.redeliverEvent((created as { id: string }).id);
      await emulator.settleWebhooks();
      expect(receiverB.received.map((r) => r.event.data.object.id)).toEqual([customer.id, customer.id]);
      expect(receiverA.received).toEqual([]);
      expect((await a.events.list()).data).toEqual([]);
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  });
});

describe('emulator: accounts without a configured apiKey', () => {
  const rig = useAccountsEmulator({});

  it('when different sk_test_ keys are used, then each has its own account from its first use, and the first one used is the default', async () => {
    const { emulator, a, b } = rig();
    const receiver = await startWebhookReceiver();
    try {
      // Before any key is used, in-process calls act on the account the first key will take over.
      const endpoint = emulator.addWebhookEndpoint(receiver.url);
      const customerB = await b.customers.create({ email: 'first@example.com' });
      const customerA = await a.customers.create({ email: 'second@example.com' });
      await emulator.settleWebhooks();

      expect((await b.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([endpoint.id]);
      expect((await a.webhookEndpoints.list()).data).toEqual([]);
      expect(receiver.received.map((r) => r.event.data.object.id)).toEqual([customerB.id]);
      expect((await a.customers.list()).data.map((c) => c.id)).toEqual([customerA.id]);
      expect(emulator.events().map((e) => (e as { data: { object: { id: string } } }).data.object.id)).toEqual([customerB.id]);
      expect(emulator.accountId(KEY_A)).not.toBe(emulator.accountId(KEY_B));
      expect(emulator.accountId('sk_test_used_in_process_first')).toMatch(/^acct_/);
      expect(() => emulator.accountId(LIVE_KEY)).toThrow(/never accepts live-mode keys/);
    } finally {
      await receiver.close();
    }
  });
});

describe('emulator: accounts in the state file', () => {
  let dir: string;
  let stateFile: string;
  const running: Emulator[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-accounts-'));
    stateFile = path.join(dir, 'stripe-emulator.json');
  });
  afterEach(async () => {
    for (const e of running.splice(0)) await e.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(apiKey?: string | string[]): Promise<Emulator> {
    const emulator = await startEmulator({ ...(apiKey !== undefined ? { apiKey } : {}), stateFile });
    running.push(emulator);
    return emulator;
  }

  async function stop(emulator: Emulator): Promise<void> {
    running.splice(running.indexOf(emulator), 1);
    await emulator.close();
  }

  /** The file as the single-account emulator wrote it: one account's collections at the top level, version 1. */
  function rewriteAsVersion1(): void {
    const { accounts, version: _version, ...header } = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    expect(accounts).toHaveLength(1);
    const { id: _id, created: _created, keyHash: _keyHash, default: _default, ...collections } = accounts[0];
    // Version 1 scoped idempotency entries by a hash of the key.
    collections.idempotency = collections.idempotency.map((e: object) => ({ scope: 'e3b0c44298fc1c149afbf4c8996fb924', ...e }));
    fs.writeFileSync(stateFile, JSON.stringify({ version: 1, ...header, ...collections }));
  }

  it('when two accounts are saved and the emulator starts again, then each key finds its own account, objects, endpoint and replays, and the file holds no key', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const first = await start([KEY_A, KEY_B]);
      const ids = { a: first.accountId(KEY_A), b: first.accountId(KEY_B) };
      const inA = await chargedCustomer(stripeClient(first, { key: KEY_A }), first);
      const customerB = await stripeClient(first, { key: KEY_B }).customers.create({ email: 'b@example.com' }, { idempotencyKey: 'b-1' });
      const endpointB = first.addWebhookEndpoint(receiver.url, undefined, { apiKey: KEY_B });
      await stop(first);

      const text = fs.readFileSync(stateFile, 'utf8');
      expect(text).not.toContain(KEY_A);
      expect(text).not.toContain(KEY_B);
      const saved = JSON.parse(text) as { version: number; accounts: Array<{ id: string; keyHash: string; default: boolean }> };
      const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
      expect(saved.version).toBe(2);
      expect(saved.accounts.map((x) => [x.id, x.keyHash, x.default])).toEqual([
        [ids.a, sha256(KEY_A), true],
        [ids.b, sha256(KEY_B), false],
      ]);

      // Configured the other way round: the accounts follow the keys, not the order.
      const second = await start([KEY_B, KEY_A]);
      const a = stripeClient(second, { key: KEY_A });
      const b = stripeClient(second, { key: KEY_B });
      expect({ a: second.accountId(KEY_A), b: second.accountId(KEY_B) }).toEqual(ids);
      expect((await a.customers.list()).data.map((c) => c.id)).toEqual([inA.customer.id]);
      expect((await a.paymentIntents.retrieve(inA.paymentIntent.id)).status).toBe('succeeded');
      await expectMissing(b.paymentIntents.retrieve(inA.paymentIntent.id), `No such payment_intent: '${inA.paymentIntent.id}'`);
      const replay = await b.customers.create({ email: 'b@example.com' }, { idempotencyKey: 'b-1' });
      expect([replay.id, replay.lastResponse.headers['idempotent-replayed']]).toEqual([customerB.id, 'true']);
      expect(second.addWebhookEndpoint(receiver.url, undefined, { apiKey: KEY_B })).toEqual(endpointB);
      expect((await a.webhookEndpoints.list()).data).toEqual([]);

      await b.customers.update(customerB.id, { name: 'Bea' });
      await second.settleWebhooks();
      expect(receiver.received.map((r) => r.event.type)).toEqual(['customer.updated']);
      expect(() =>
        b.webhooks.constructEvent(receiver.received[0].body, receiver.received[0].headers['stripe-signature'] as string, endpointB.secret),
      ).not.toThrow();
    } finally {
      await receiver.close();
    }
  });

  it('when an account was reset before the restart, then its key keeps the new id and the old objects stay gone', async () => {
    const first = await start([KEY_A, KEY_B]);
    const old = await stripeClient(first, { key: KEY_A }).customers.create({ email: 'old@example.com' });
    const keptB = await stripeClient(first, { key: KEY_B }).customers.create({ email: 'b@example.com' });
    const { accountId } = first.resetAccount(KEY_A);
    await stop(first);

    const second = await start([KEY_A, KEY_B]);
    expect(second.accountId(KEY_A)).toBe(accountId);
    await expectMissing(stripeClient(second, { key: KEY_A }).customers.retrieve(old.id), `No such customer: '${old.id}'`);
    expect((await stripeClient(second, { key: KEY_B }).customers.list()).data.map((c) => c.id)).toEqual([keptB.id]);
  });

  it('when the state file is in the old single-account format, then it loads into the first configured key and the other keys start empty', async () => {
    // Make an old file the way the single-account emulator wrote it: one account's collections at the top level, version 1.
    const before = await start(KEY_A);
    const stripe = stripeClient(before, { key: KEY_A });
    const { customer, paymentMethod } = await customerWithSavedCard(stripe, before);
    await stripe.customers.create({ email: 'replayed@example.com' }, { idempotencyKey: 'old-1' });
    const endpoint = before.addWebhookEndpoint('http://127.0.0.1:1/webhooks/stripe');
    await stop(before);
    rewriteAsVersion1();

    const sandboxKey = 'sk_test_sandbox_emulator';
    const after = await start([sandboxKey, KEY_B]);
    const sandbox = stripeClient(after, { key: sandboxKey });
    expect(((await sandbox.customers.retrieve(customer.id)) as Stripe.Customer).email).toBe('ada@example.com');
    const pi = await sandbox.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: paymentMethod,
      off_session: true,
      confirm: true,
      allowed_payment_method_types: ['card'],
    });
    expect(pi.status).toBe('succeeded');
    expect((await sandbox.customers.create({ email: 'replayed@example.com' }, { idempotencyKey: 'old-1' })).lastResponse.headers['idempotent-replayed']).toBe(
      'true',
    );
    expect(after.addWebhookEndpoint('http://127.0.0.1:1/webhooks/stripe')).toEqual(endpoint);
    expect((await stripeClient(after, { key: KEY_B }).customers.list()).data).toEqual([]);
    const accountId = after.accountId(sandboxKey);
    await stop(after);

    // From now on the file is in the new format, and the account keeps the id it got.
    const upgraded = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    expect(upgraded.version).toBe(2);
    const again = await start(sandboxKey);
    expect(again.accountId(sandboxKey)).toBe(accountId);
    expect((await stripeClient(again, { key: sandboxKey }).customers.list()).data.map((c) => c.id)).toContain(customer.id);
  });

  it('when an old single-account file is loaded with no apiKey configured, then the first key used takes it over and keeps it after the next restart', async () => {
    const before = await start(KEY_A);
    const customer = await stripeClient(before, { key: KEY_A }).customers.create({ email: 'sandbox@example.com' });
    await stop(before);
    rewriteAsVersion1();

    const after = await start();
    const first = stripeClient(after, { key: KEY_B });
    expect((await first.customers.list()).data.map((c) => c.id)).toEqual([customer.id]);
    expect((await stripeClient(after, { key: KEY_A }).customers.list()).data).toEqual([]);
    const accountId = after.accountId(KEY_B);
    await stop(after);

    const again = await start();
    // The other key comes first this time: the file says whose account it is.
    expect((await stripeClient(again, { key: KEY_A }).customers.list()).data).toEqual([]);
    expect(again.accountId(KEY_B)).toBe(accountId);
    expect((await stripeClient(again, { key: KEY_B }).customers.list()).data.map((c) => c.id)).toEqual([customer.id]);
    expect(again.events().length).toBeGreaterThan(0);
  });
});
