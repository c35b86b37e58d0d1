import request from 'supertest';
import { countQueries, type QueryCounter } from '../../app/db';
import { accountWithCard, okPageJson, startIframeSetup } from '../support/card-setup';
import { getRequestFields, signed } from '../support/billrun-requests';
import { hubApi, hubMerchant, type HubMerchant } from '../support/hub-requests';
import { seedCreateTokenOnly } from '../support/hub-seed';
import { pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

/**
 * Database round trips per request (issue 11, part 2), counted on the connections of the
 * service's knex: each statement sent, a transaction's BEGIN and COMMIT included. Two tests per
 * request: "at most today's count" fails on a regression (today's counts are at or below the
 * targets, so a step back fails here first); "at most the target" is issue 11's bound.
 */

const VENDOR_KEY = 'sk_test_round_trips_vendor';

let ctx: TestContext;
let counter: QueryCounter;
let merchant: HubMerchant;
beforeAll(async () => {
  ctx = await startTestContext({ otherStripeKeys: [VENDOR_KEY], env: { LOG_LEVEL: 'info' } });
  merchant = await hubMerchant(ctx, { stripeKey: VENDOR_KEY });
  // Webhooks are delivered by hand below, one at a time, so none runs beside a counted request.
  ctx.emulator.pauseWebhooks();
  counter = countQueries(ctx.db, { keepStatements: true });
  // A first flow of each kind, uncounted: what the service learns once (the Stripe account's row) is not a per-request cost.
  const { aid } = await accountWithCard(ctx);
  await pay(ctx, { aid, amount: '1.00' });
  await hubCharge((await hubToken()).body.data.token);
});
afterAll(async () => {
  counter.stop();
  ctx.emulator.releaseWebhooks();
  await ctx.close();
});

/** The request's round trips; its statements are printed, for whoever works on reducing them. */
async function counted<T>(name: string, fn: () => Promise<T>): Promise<{ result: T; roundTrips: number }> {
  counter.reset();
  const result = await fn();
  const roundTrips = counter.roundTrips();
  console.log(`${name}: ${roundTrips} round trips\n${counter.statements().join('\n')}`);
  return { result, roundTrips };
}

const knownAccountGetRequest = (aid: number) =>
  request(ctx.app)
    .get('/paymentgateways/getRequest')
    .query({ data: signed(getRequestFields({ aid }, ctx.clock.now())) });

const hubToken = () => hubApi(ctx, merchant.publicKey).post('/token', seedCreateTokenOnly(merchant.vendorId));

const hubCharge = (token: string) =>
  hubApi(ctx, merchant.secretKey).post('/charge', {
    payment_vendor: merchant.vendorId,
    token,
    transaction_detail: {
      merchant_ref_code: `order-${Math.random().toString(36).slice(2)}`,
      amount: 150,
      service_charge: 0,
      description: 'Room 101',
      currency: 'USD',
      send_email: false,
    },
  });

/** The event of `type` about the Stripe object `objectId`, from the emulator's record of the account's events. */
function eventAbout(type: string, objectId: string): { id: string } {
  const event = (ctx.emulator.events() as { id: string; type: string; data: { object: { id: string } } }[]).find(
    (e) => e.type === type && e.data.object.id === objectId,
  );
  if (!event) throw new Error(`no ${type} event about ${objectId}`);
  return event;
}

/** One signed delivery, as Stripe sends it. */
function deliver(event: object) {
  const payload = JSON.stringify(event);
  return request(ctx.app)
    .post('/webhooks/stripe')
    .set('Content-Type', 'application/json')
    .set('Stripe-Signature', ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: ctx.webhookSecret }))
    .send(payload);
}

interface Measured {
  roundTrips: number;
}

/** A count that differs by database: the Hub's rate limiter counts in PostgreSQL, in memory on PGlite. */
interface Today {
  postgres: number;
  pglite: number;
}

/**
 * The tests of one request. `today` is the count when this was written: a count above it is a
 * regression; the target test (when there is a target) checks issue 11's bound.
 */
function roundTripTests(name: string, measure: () => Promise<Measured>, limits: { today: number | Today; target?: number }): void {
  // Both tests read one measurement.
  let measured: Promise<Measured> | undefined;
  const once = (): Promise<Measured> => (measured ??= measure());
  const today = typeof limits.today === 'number' ? { postgres: limits.today, pglite: limits.today } : limits.today;
  const todayText = today.postgres === today.pglite ? `${today.postgres}` : `${today.postgres} on PostgreSQL, ${today.pglite} on PGlite`;
  test(`when ${name} is served, then it takes at most ${todayText} round trips (today's count: no regression)`, async () => {
    expect((await once()).roundTrips).toBeLessThanOrEqual(today[ctx.dbKind]);
  });
  const target = limits.target;
  if (target === undefined) return;
  test(`when ${name} is served, then it takes at most ${target} round trips (issue 11's target; ${todayText} today)`, async () => {
    expect((await once()).roundTrips).toBeLessThanOrEqual(target);
  });
}

describe('the round-trip counter', () => {
  test('when one statement runs alone and one in a transaction, then it counts 4 round trips (BEGIN and COMMIT are round trips too)', async () => {
    const own = countQueries(ctx.db, { keepStatements: true });
    await ctx.db.raw('select 1');
    await ctx.db.transaction((trx) => trx.raw('select 2'));
    own.stop();
    await ctx.db.raw('select 3');
    expect(own.statements().map((s) => s.replace(/;$/, ''))).toEqual(['select 1', 'BEGIN', 'select 2', 'COMMIT']);
    expect(own.roundTrips()).toBe(4);
  });
});

describe('database round trips per request', () => {
  roundTripTests(
    'a getRequest for a known account',
    async () => {
      const { aid } = await accountWithCard(ctx);
      const { result, roundTrips } = await counted('getRequest (known account)', () => knownAccountGetRequest(aid));
      expect(result.body.status).toBe(1);
      return { roundTrips };
    },
    { today: 2, target: 2 },
  );

  // A new account has no target in issue 11 (it makes the Stripe customer too); its count guards against regressions.
  roundTripTests(
    'a getRequest for a new account',
    async () => {
      const { result, roundTrips } = await counted('getRequest (new account)', () =>
        request(ctx.app)
          .get('/paymentgateways/getRequest')
          .query({ data: signed(getRequestFields({}, ctx.clock.now())) }),
      );
      expect(result.body.status).toBe(1);
      return { roundTrips };
    },
    { today: 2 },
  );

  roundTripTests(
    'an OkPage after the card was entered',
    async () => {
      const setup = await startIframeSetup(ctx);
      ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
      const { result, roundTrips } = await counted('OkPage', () => okPageJson(ctx, setup.txId));
      expect(result.body.status).toBe(1);
      return { roundTrips };
    },
    { today: 2, target: 3 },
  );

  roundTripTests(
    'a pay on a saved card',
    async () => {
      const { aid } = await accountWithCard(ctx);
      const { result, roundTrips } = await counted('pay', () => pay(ctx, { aid, amount: '19.99' }));
      expect(result.body.details.status).toBe('Completed');
      return { roundTrips };
    },
    { today: 2, target: 3 },
  );

  roundTripTests(
    'a checkout.session.completed webhook that brings the news (before OkPage)',
    async () => {
      const setup = await startIframeSetup(ctx);
      ctx.emulator.completeCheckoutSession(setup.sessionId, '4242424242424242');
      const { result, roundTrips } = await counted('webhook checkout.session.completed (first news)', () =>
        deliver(eventAbout('checkout.session.completed', setup.sessionId)),
      );
      expect(result.status).toBe(200);
      const event = await ctx.db('stripe_events').where({ object_id: setup.sessionId, type: 'checkout.session.completed' }).first();
      expect(event.outcome).toMatch(/^card setup \d+: /);
      return { roundTrips };
    },
    { today: 3, target: 3 },
  );

  roundTripTests(
    'a payment_intent.succeeded webhook after pay answered',
    async () => {
      const { aid } = await accountWithCard(ctx);
      const paid = await pay(ctx, { aid, amount: '19.99' });
      const { result, roundTrips } = await counted('webhook payment_intent.succeeded (already known)', () =>
        deliver(eventAbout('payment_intent.succeeded', paid.body.details.transaction_id)),
      );
      expect(result.status).toBe(200);
      return { roundTrips };
    },
    { today: 3, target: 3 },
  );

  // The Payment Hub's requests have no target in issue 11; their counts guard against regressions.
  roundTripTests(
    'a Payment Hub token (raw card, verified)',
    async () => {
      const { result, roundTrips } = await counted('Hub token', () => hubToken());
      expect(result.body.data.status).toBe('verified');
      return { roundTrips };
    },
    { today: { postgres: 7, pglite: 6 } },
  );

  roundTripTests(
    'a Payment Hub charge of a token',
    async () => {
      const token = (await hubToken()).body.data.token as string;
      const { result, roundTrips } = await counted('Hub charge', () => hubCharge(token));
      expect(result.body).toMatchObject({ success: true, data: { transaction: { Status: 'paid' } } });
      return { roundTrips };
    },
    { today: { postgres: 9, pglite: 8 } },
  );
});
