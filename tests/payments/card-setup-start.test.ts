import { randomInt } from 'node:crypto';
import { checkoutSide, reconcileOnce, startCardSetup, type CustomerKey, type SetupToOpen } from '../../app/payments';
import { countQueries } from '../../app/db';
import type { StripeDoor } from '../../app/stripe';
import { startTestContext, type TestContext } from '../support/test-context';

/**
 * A card setup starts in two statements around its Stripe calls (its id and the mapping read
 * first, everything recorded once the Stripe side exists): what each outcome leaves in the rows
 * and at Stripe.
 */

let ctx: TestContext;
let door: StripeDoor;

beforeAll(async () => {
  ctx = await startTestContext();
  door = await ctx.deps.stripeAccounts.defaultAccount();
  await ctx.db('owners').insert({ id: 'mer_start', kind: 'merchant', name: 'mer_start' }).onConflict('id').ignore();
});
afterAll(async () => {
  await ctx.close();
});

const newKey = (): CustomerKey => ({ ownerId: 'mer_start', stripeAccount: door.accountId, customerRef: `cust-${randomInt(1e9)}` });
const checkout = checkoutSide({ successUrl: 'https://shop.example/ok', cancelUrl: 'https://shop.example/no', metadata: {}, expandSetupIntent: false });
const setupsOf = async (key: CustomerKey) =>
  (
    await ctx
      .db('card_setups')
      .where({ owner_id: key.ownerId, customer_ref: key.customerRef })
      .orderBy('id')
      .select('id', 'state', 'customer_id', 'checkout_session_id')
  ).map((row: { id: unknown; state: string; customer_id: string; checkout_session_id: string | null }) => ({ ...row, id: Number(row.id) }));
const mappingOf = async (key: CustomerKey): Promise<string[]> =>
  ctx.db('customers').where({ owner_id: key.ownerId, stripe_account: key.stripeAccount, external_ref: key.customerRef }).pluck('stripe_customer_id');

describe('starting a card setup', () => {
  test('when a new customer starts one, then its mapping and the open setup with its session are recorded together, in two statements', async () => {
    // A first start, uncounted: what the service learns once (the Stripe account's row) is not a per-setup cost.
    await startCardSetup(ctx.deps, door, { key: newKey(), details: { metadata: {} }, open: checkout });
    await ctx.emulator.settleWebhooks();
    const key = newKey();
    ctx.emulator.clearRequests();
    // Its webhooks (customer.created) are held, so no delivery runs beside the counted statements.
    ctx.emulator.pauseWebhooks();
    const counter = countQueries(ctx.db, { keepStatements: true });
    const { setup, answer: session } = await startCardSetup(ctx.deps, door, { key, details: { metadata: { ref: key.customerRef } }, open: checkout });
    counter.stop();
    ctx.emulator.releaseWebhooks();
    expect(counter.statements()).toHaveLength(2);
    expect(counter.roundTrips()).toBe(2);
    expect(ctx.emulator.requests().map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/customers', 'POST /v1/checkout/sessions']);

    expect(await mappingOf(key)).toEqual([setup.customerId]);
    expect(await setupsOf(key)).toEqual([{ id: setup.id, state: 'open', customer_id: setup.customerId, checkout_session_id: session.id }]);
    expect(setup).toMatchObject({ state: 'open', checkoutSessionId: session.id, expiresAt: new Date(session.expires_at * 1000) });
    // The session names the setup it was made for, and is on the mapped customer.
    const atStripe = await ctx.stripe.checkout.sessions.retrieve(session.id);
    expect(atStripe).toMatchObject({ customer: setup.customerId, client_reference_id: String(setup.id), metadata: { card_setup_id: String(setup.id) } });
  });

  test('when the customer is mapped to another Stripe customer while its session is made, then nothing is recorded for that session and the setup starts again on the mapped customer', async () => {
    const key = newKey();
    const first = await startCardSetup(ctx.deps, door, { key, details: { metadata: {} }, open: checkout });
    const other = (await ctx.stripe.customers.create({ metadata: { ref: key.customerRef } })).id;
    const opened: SetupToOpen[] = [];
    const sessions: string[] = [];

    const { setup, answer } = await startCardSetup(ctx.deps, door, {
      key,
      open: async (toOpen, d) => {
        opened.push(toOpen);
        const made = await checkout(toOpen, d);
        sessions.push(made.answer.id);
        // Someone replaces the mapping between the two statements (once).
        if (opened.length === 1) {
          await ctx.db('customers').where({ owner_id: key.ownerId, external_ref: key.customerRef }).update({ stripe_customer_id: other });
        }
        return made;
      },
    });

    expect(opened.map((o) => o.customerId)).toEqual([first.setup.customerId, other]);
    expect(opened[1].id).not.toBe(opened[0].id);
    expect(setup).toMatchObject({ id: opened[1].id, customerId: other, checkoutSessionId: answer.id });
    expect(answer.id).toBe(sessions[1]);
    // The first attempt's session was never recorded (it expires unused at Stripe).
    expect((await setupsOf(key)).map((s) => s.checkout_session_id)).toEqual([first.answer.id, sessions[1]]);
  });

  test('when a parallel request maps a new customer to another Stripe customer while its session is made, then nothing is recorded for that session and the setup starts again on the mapped one', async () => {
    const key = newKey();
    const other = (await ctx.stripe.customers.create({ metadata: { ref: key.customerRef } })).id;
    const opened: SetupToOpen[] = [];
    const { setup } = await startCardSetup(ctx.deps, door, {
      key,
      details: { metadata: { ref: key.customerRef } },
      open: async (toOpen, d) => {
        opened.push(toOpen);
        // The other request commits its mapping first (once).
        if (opened.length === 1)
          await ctx
            .db('customers')
            .insert({ owner_id: key.ownerId, stripe_account: key.stripeAccount, external_ref: key.customerRef, stripe_customer_id: other });
        return checkout(toOpen, d);
      },
    });
    expect(opened).toHaveLength(2);
    expect(opened[0].customerId).not.toBe(other);
    expect(opened[1].customerId).toBe(other);
    expect(setup.customerId).toBe(other);
    expect(await mappingOf(key)).toEqual([other]);
    expect((await setupsOf(key)).map((s) => s.customer_id)).toEqual([other]);
  });

  test('when the mapping moves on every attempt, then after three the start is a conflict and nothing is recorded', async () => {
    const key = newKey();
    await startCardSetup(ctx.deps, door, { key, details: { metadata: {} }, open: checkout });
    let opens = 0;
    const moving = async (toOpen: SetupToOpen, d: StripeDoor) => {
      opens += 1;
      const made = await checkout(toOpen, d);
      await ctx
        .db('customers')
        .where({ owner_id: key.ownerId, external_ref: key.customerRef })
        .update({ stripe_customer_id: (await ctx.stripe.customers.create({ metadata: { moved: String(opens) } })).id });
      return made;
    };
    await expect(startCardSetup(ctx.deps, door, { key, open: moving })).rejects.toMatchObject({ kind: 'conflict' });
    expect(opens).toBe(3);
    // Only the first start is on record.
    expect(await setupsOf(key)).toHaveLength(1);

    // A Stripe side that must not be made twice is not: the moved mapping is a conflict at once.
    opens = 0;
    await expect(startCardSetup(ctx.deps, door, { key, open: moving, attempts: 1 })).rejects.toMatchObject({ kind: 'conflict' });
    expect(opens).toBe(1);
    expect(await setupsOf(key)).toHaveLength(1);
  });

  test('when Stripe refuses the Stripe side, then the setup is recorded failed with the reason, with the new mapping, and the error goes up', async () => {
    const key = newKey();
    let reserved: SetupToOpen | undefined;
    await expect(
      startCardSetup(ctx.deps, door, {
        key,
        details: { metadata: {} },
        open: async (toOpen) => {
          reserved = toOpen;
          // A customer Stripe does not know: the session is refused.
          return checkout({ ...toOpen, customerId: 'cus_does_not_exist' }, door);
        },
      }),
    ).rejects.toMatchObject({ kind: 'not_found' });

    const [row] = await ctx.db('card_setups').where({ id: reserved?.id });
    expect(row).toMatchObject({ state: 'failed', customer_id: reserved?.customerId, checkout_session_id: null, next_check_at: null });
    expect(row.failure_reason).toBe('Stripe has no such object (checkout session creation)');
    expect(row.finished_at).not.toBeNull();
    expect(await mappingOf(key)).toEqual([reserved?.customerId]);
  });

  test('when a customer without a mapping starts one and no details are given, then it is not found and nothing is made or recorded', async () => {
    const key = newKey();
    ctx.emulator.clearRequests();
    await expect(startCardSetup(ctx.deps, door, { key, open: checkout })).rejects.toMatchObject({ kind: 'not_found' });
    expect(ctx.emulator.requests()).toEqual([]);
    expect(await setupsOf(key)).toEqual([]);
    expect(await mappingOf(key)).toEqual([]);
  });

  test('when an older release left a setup in creating (its Stripe side never recorded) for over 10 minutes, then the reconciler closes it as failed', async () => {
    const key = newKey();
    const { setup } = await startCardSetup(ctx.deps, door, { key, details: { metadata: {} }, open: checkout });
    const now = ctx.clock.now();
    const [legacy] = await ctx
      .db('card_setups')
      .insert({
        owner_id: key.ownerId,
        stripe_account: key.stripeAccount,
        customer_ref: key.customerRef,
        customer_id: setup.customerId,
        state: 'creating',
        created_at: new Date(now.getTime() - 11 * 60_000),
        updated_at: new Date(now.getTime() - 11 * 60_000),
        next_check_at: new Date(now.getTime() - 60_000),
      })
      .returning('id');
    await reconcileOnce(ctx.deps);
    expect(await ctx.db('card_setups').where({ id: legacy.id }).first('state', 'failure_reason', 'next_check_at')).toEqual({
      state: 'failed',
      failure_reason: 'The checkout session was never created',
      next_check_at: null,
    });
  });
});
