import { observePaymentIntent } from '../../app/stripe';
import { AppError } from '../../app/shared/app-error';
import { PREFIX, onlyRequest, savedCard, unique, useDoor } from './stripe-door-helpers';

describe('stripe door: customers with locales and phone, payments with a receipt e-mail', () => {
  const door = useDoor();

  it('when a customer is created with preferred locales and a phone, then Stripe gets them as preferred_locales and phone', async () => {
    const { emulator, gateway } = door();
    emulator.clearRequests();
    const customer = await gateway.createCustomer(
      { email: 'ada@example.com', name: 'Ada', phone: '+6281234567890', preferredLocales: ['id', 'en-GB'], metadata: { ref: 'c-1' } },
      'customer-c-1',
    );
    expect(customer).toMatchObject({ phone: '+6281234567890', preferred_locales: ['id', 'en-GB'] });
    const sent = onlyRequest(emulator, 'POST', '/v1/customers');
    expect(sent.params).toEqual({
      email: 'ada@example.com',
      name: 'Ada',
      phone: '+6281234567890',
      preferred_locales: ['id', 'en-GB'],
      metadata: { ref: 'c-1' },
    });
    expect(sent.idempotencyKey).toBe(`${PREFIX}-customer-c-1`);
  });

  it('when a customer is created without them (or with no locales), then neither is sent, as before (stripe-node sends no empty metadata either)', async () => {
    const { emulator, gateway } = door();
    emulator.clearRequests();
    await gateway.createCustomer({ email: 'bob@example.com', preferredLocales: [], metadata: {} }, unique('customer'));
    expect(onlyRequest(emulator, 'POST', '/v1/customers').params).toEqual({ email: 'bob@example.com' });
  });

  it('when an off-session payment names a receipt e-mail, then Stripe gets receipt_email and the payment carries it', async () => {
    const { emulator, gateway } = door();
    const card = await savedCard(gateway, '3530111333300000');
    emulator.clearRequests();
    const pi = await gateway.createOffSessionPayment({ amount: 20000000, currency: 'IDR', ...card, receiptEmail: 'dev@example.com', metadata: {} }, 'charge-1');
    expect(observePaymentIntent(pi).status).toBe('succeeded');
    expect(pi.receipt_email).toBe('dev@example.com');
    const sent = onlyRequest(emulator, 'POST', '/v1/payment_intents');
    expect(sent.params).toMatchObject({ amount: '20000000', currency: 'idr', off_session: 'true', receipt_email: 'dev@example.com' });
    expect(sent.idempotencyKey).toBe(`${PREFIX}-charge-1`);
  });

  it('when an off-session payment names none, then receipt_email is not sent', async () => {
    const { emulator, gateway } = door();
    const card = await savedCard(gateway, '4242424242424242');
    emulator.clearRequests();
    await gateway.createOffSessionPayment({ amount: 1999, currency: 'usd', ...card, metadata: {} }, unique('charge'));
    expect(onlyRequest(emulator, 'POST', '/v1/payment_intents').params).not.toHaveProperty('receipt_email');
  });
});

describe('stripe door: calls start without a captured call site', () => {
  const door = useDoor();

  it('when calls succeed and fail, then the stack trace limit is as it was after each, and a failure still names its operation with its own stack', async () => {
    const { gateway } = door();
    const limit = Error.stackTraceLimit;
    await gateway.createCustomer({ email: 'cy@example.com', metadata: {} }, unique('customer'));
    expect(Error.stackTraceLimit).toBe(limit);
    const failure = await gateway.retrievePaymentIntent('pi_does_not_exist').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(Error.stackTraceLimit).toBe(limit);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ kind: 'not_found', message: 'Stripe has no such object (payment retrieval)' });
    // The error made here (outside the call's first synchronous step) has its frames.
    expect((failure as Error).stack?.split('\n').length).toBeGreaterThan(1);
  });
});
