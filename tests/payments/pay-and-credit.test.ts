import request from 'supertest';
import { installationId } from '../../app/db';
import { accountWithCard } from '../support/card-setup';
import { newAid } from '../support/billrun-requests';
import { credit, newReference, pay } from '../support/payment-requests';
import { startTestContext, type TestContext } from '../support/test-context';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});
beforeEach(async () => {
  // Webhook deliveries from the test before make Stripe reads of their own.
  await ctx.emulator.settleWebhooks();
  ctx.emulator.clearRequests();
});

const paymentIntentCreates = () => ctx.emulator.requests().filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents');

describe('pay: charging the saved card', () => {
  test('when pay and credit are called server to server, then no browser session row is written', async () => {
    const { aid } = await accountWithCard(ctx);
    const sessions = async () => Number((await ctx.db('sessions').count({ n: '*' }))[0].n);
    const before = await sessions();
    const reference = newReference();
    const paid = await pay(ctx, { aid, amount: '7.00', currency: 'USD', reference });
    expect(paid.body.details.status).toBe('Completed');
    const refunded = await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: '2.00', reference: newReference() });
    expect(refunded.body.details.status).toBe('Completed');
    expect(await sessions()).toBe(before);
    expect(paid.headers['set-cookie']).toBeUndefined();
  });

  test('when pay and credit are answered, then no payment event is recorded (those feed the Payment Hub merchant webhooks)', async () => {
    const { aid } = await accountWithCard(ctx);
    const paid = await pay(ctx, { aid, amount: '3.00', currency: 'USD', reference: newReference() });
    const refunded = await credit(ctx, { transaction_id: paid.body.details.transaction_id, amount: '1.00', reference: newReference() });
    expect(refunded.body.details.status).toBe('Completed');
    expect(await ctx.db('payment_events').where({ owner_id: 'billrun' })).toEqual([]);
  });

  test('when the saved card is 4242, then Completed with the PaymentIntent id, the exact amount at Stripe and a charge row', async () => {
    const { aid } = await accountWithCard(ctx);
    ctx.emulator.clearRequests();
    const reference = newReference();
    const res = await pay(ctx, { aid, amount: '19.99', currency: 'USD', reference });
    expect(res.body).toEqual({
      status: 1,
      desc: 'success',
      details: { status: 'Completed', transaction_id: expect.stringMatching(/^pi_/), reference, amount: '19.99', currency: 'USD' },
    });
    const creates = paymentIntentCreates();
    expect(creates).toHaveLength(1);
    expect(creates[0].params).toMatchObject({ amount: '1999', currency: 'usd', off_session: 'true', confirm: 'true' });
    const row = await ctx.db('charges').where({ reference }).first();
    expect(row).toMatchObject({ channel: 'billrun', status: 'succeeded', currency: 'USD', payment_intent_id: res.body.details.transaction_id });
    expect(Number(row.amount)).toBe(1999);
    expect(creates[0].idempotencyKey).toBe(`${await installationId(ctx.db)}-charge-${row.id}`);
    const pi = await ctx.stripe.paymentIntents.retrieve(res.body.details.transaction_id);
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1999, currency: 'usd' });
  });

  test('when the currency has no decimals, then JPY 500 reaches Stripe as 500', async () => {
    const { aid } = await accountWithCard(ctx);
    const res = await pay(ctx, { aid, amount: 500, currency: 'JPY' });
    expect(res.body.details).toMatchObject({ status: 'Completed', amount: '500', currency: 'JPY' });
    expect(paymentIntentCreates().at(-1)?.params).toMatchObject({ amount: '500', currency: 'jpy' });
  });

  test('when the card has insufficient funds (9995), then Rejected with insufficient_funds', async () => {
    const { aid } = await accountWithCard(ctx, '4000000000009995');
    const res = await pay(ctx, { aid, amount: '10.00' });
    expect(res.body.details).toMatchObject({ status: 'Rejected', decline_code: 'insufficient_funds', transaction_id: expect.stringMatching(/^pi_/) });
    expect((await ctx.db('charges').where({ reference: res.body.details.reference }).first()).status).toBe('failed');
  });

  test('when the card needs authentication off-session (3184), then Pending with a link to our 3-D Secure page', async () => {
    const { aid } = await accountWithCard(ctx, '4000002760003184');
    const res = await pay(ctx, { aid, amount: '25.00' });
    expect(res.body.details).toMatchObject({
      status: 'Pending',
      authentication_url: expect.stringMatching(/^http:\/\/gateway\.test\/pay\/authenticate\/[A-Za-z0-9_-]{32}$/),
    });
    expect((await ctx.db('charges').where({ reference: res.body.details.reference }).first()).status).toBe('requires_action');
  });

  test('when the same reference is paid again, then the same answer and Stripe is not asked again', async () => {
    const { aid } = await accountWithCard(ctx);
    const reference = newReference();
    const first = await pay(ctx, { aid, amount: '12.00', reference });
    ctx.emulator.clearRequests();
    const second = await pay(ctx, { aid, amount: '12.00', reference });
    expect(second.body).toEqual(first.body);
    expect(paymentIntentCreates()).toHaveLength(0);
    expect(await ctx.db('charges').where({ reference })).toHaveLength(1);
  });

  test('when a reference is reused with another amount, then it is refused and nothing is charged', async () => {
    const { aid } = await accountWithCard(ctx);
    const reference = newReference();
    await pay(ctx, { aid, amount: '12.00', reference });
    ctx.emulator.clearRequests();
    const res = await pay(ctx, { aid, amount: '13.00', reference });
    expect(res.body).toEqual({ status: 0, details: { message: 'This reference was already used for a different charge' } });
    expect(paymentIntentCreates()).toHaveLength(0);
  });

  test('when the account has no saved card, then a clear failure', async () => {
    const res = await pay(ctx, { aid: newAid(), amount: '12.00' });
    expect(res.body).toEqual({ status: 0, details: { message: 'The account has no saved card' } });
  });

  test.each([
    [{ amount: '0.49' }, 'Amount too small: at least 0.50 USD'],
    [{ amount: '10.001' }, 'Invalid amount: USD has only 2 decimals'],
    [{ amount: '1.5', currency: 'JPY' }, 'Invalid amount: JPY has no decimals'],
    [{ amount: '10', currency: 'EUR' }, 'Unsupported currency: expected one of USD, SGD, MYR, THB, JPY, PHP, IDR, CNY, KRW'],
    [{ amount: '10', reference: '' }, 'need to pass reference (1-255 printable characters)'],
    [{ amount: '10', aid: 'x' }, 'need to pass numeric aid'],
  ])('when the request has %p, then the error envelope says "%s" and Stripe is not called', async (fields, message) => {
    const res = await pay(ctx, { aid: newAid(), ...fields });
    expect(res.body).toEqual({ status: 0, code: 17577, message, display: { code: 999, desc: 'General error.' } });
    expect(ctx.emulator.requests()).toEqual([]);
  });

  test('when the signature is wrong, then "Failed to authenticate"', async () => {
    const res = await request(ctx.app)
      .post('/paymentgateways/pay')
      .type('form')
      .send({ data: '{"aid":1,"amount":"10","currency":"USD","reference":"x","_t_":"1","_sig_":"00"}' });
    expect(res.body.message).toBe('Failed to authenticate');
  });
});

describe('credit: refunds', () => {
  const paid = async (amount = '10.00') => {
    const { aid } = await accountWithCard(ctx);
    const res = await pay(ctx, { aid, amount });
    return res.body.details.transaction_id as string;
  };

  test('when a charge is refunded without an amount, then all of it, once', async () => {
    const pi = await paid('10.00');
    const reference = newReference();
    const res = await credit(ctx, { transaction_id: pi, reference });
    expect(res.body).toEqual({
      status: 1,
      desc: 'success',
      details: { status: 'Completed', refund_id: expect.stringMatching(/^re_/), transaction_id: pi, reference, amount: '10.00', currency: 'USD' },
    });
    const again = await credit(ctx, { transaction_id: pi, reference });
    expect(again.body).toEqual(res.body);
    const refunds = await ctx.stripe.refunds.list({ payment_intent: pi });
    expect(refunds.data.map((r) => r.amount)).toEqual([1000]);
  });

  test('when refunded in parts, then each part is recorded and the rest cannot be exceeded', async () => {
    const pi = await paid('10.00');
    expect((await credit(ctx, { transaction_id: pi, amount: '4.00' })).body.details).toMatchObject({ status: 'Completed', amount: '4.00' });
    expect((await credit(ctx, { transaction_id: pi, amount: 5 })).body.details).toMatchObject({ status: 'Completed', amount: '5.00' });
    ctx.emulator.clearRequests();
    const over = await credit(ctx, { transaction_id: pi, amount: '1.01' });
    expect(over.body).toEqual({ status: 0, details: { message: 'Refund of 1.01 USD exceeds the refundable rest of 1.00 USD' } });
    expect(ctx.emulator.requests().filter((r) => r.path === '/v1/refunds')).toEqual([]);
    const rest = await credit(ctx, { transaction_id: pi });
    expect(rest.body.details).toMatchObject({ status: 'Completed', amount: '1.00' });
    const full = await credit(ctx, { transaction_id: pi });
    expect(full.body).toEqual({ status: 0, details: { message: 'The charge is already fully refunded' } });
  });

  test('when the transaction is unknown or was rejected, then a clear failure', async () => {
    expect((await credit(ctx, { transaction_id: 'pi_doesnotexist' })).body).toEqual({ status: 0, details: { message: 'Unknown transaction_id' } });
    const { aid } = await accountWithCard(ctx, '4000000000009995');
    const declined = await pay(ctx, { aid, amount: '10.00' });
    expect((await credit(ctx, { transaction_id: declined.body.details.transaction_id })).body).toEqual({
      status: 0,
      details: { message: 'Only a completed charge can be refunded' },
    });
  });
});
