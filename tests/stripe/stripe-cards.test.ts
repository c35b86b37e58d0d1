import Stripe from 'stripe';
import { createStripeGateway, observeConfirmedSetup } from '../../app/stripe';
import { EXP_YEAR, PREFIX, appErrorOf, everythingLoggable, onlyRequest, unique, useDoor } from './stripe-door-helpers';

describe('stripe door: raw cards and confirmed off-session setups', () => {
  const door = useDoor();

  async function customer(): Promise<string> {
    return (await door().gateway.createCustomer({ email: 'ada@example.com', metadata: {} }, unique('customer'))).id;
  }

  it('when a raw JCB card is sent, then a PaymentMethod jcb/0000 comes back, and Stripe got the card, billing details and the scoped key', async () => {
    const { gateway, emulator } = door();
    emulator.clearRequests();
    const pm = await gateway.createCardPaymentMethod(
      { number: '3530111333300000', expMonth: 11, expYear: EXP_YEAR, cvc: '321', name: 'Ada Lovelace', email: 'ada@example.com', phone: '+6281234567890' },
      'pm-jcb-1',
    );
    expect(pm).toMatchObject({ type: 'card', customer: null, card: { brand: 'jcb', last4: '0000', exp_month: 11, exp_year: EXP_YEAR } });
    expect(pm.billing_details).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+6281234567890' });

    const sent = onlyRequest(emulator, 'POST', '/v1/payment_methods');
    // The emulator's log masks the number and the CVC; what matters is that they were sent as card[...].
    expect(sent.params).toEqual({
      type: 'card',
      card: { number: '****0000', exp_month: '11', exp_year: String(EXP_YEAR), cvc: '***' },
      billing_details: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+6281234567890' },
    });
    expect(sent.idempotencyKey).toBe(`${PREFIX}-pm-jcb-1`);
    expect(sent.status).toBe(200);

    expect(await gateway.retrievePaymentMethod(pm.id)).toMatchObject({ id: pm.id, card: { brand: 'jcb', last4: '0000' } });
  });

  it('when the JCB is set up off-session, then the SetupIntent succeeded with the card expanded and attached, sent as confirm + off_session + card only', async () => {
    const { gateway, emulator } = door();
    const customerId = await customer();
    const pm = await gateway.createCardPaymentMethod({ number: '3530111333300000', expMonth: 12, expYear: EXP_YEAR, cvc: '123' }, unique('pm'));
    emulator.clearRequests();

    const si = await gateway.confirmOffSessionSetup({ customerId, paymentMethodId: pm.id, metadata: { token_id: 'tok-1' } }, 'setup-tok-1');
    expect(observeConfirmedSetup(si)).toEqual({
      status: 'succeeded',
      customerId,
      card: { paymentMethodId: pm.id, brand: 'jcb', last4: '0000', expMonth: 12, expYear: EXP_YEAR },
    });
    expect(si.metadata).toEqual({ token_id: 'tok-1' });
    expect((await gateway.retrievePaymentMethod(pm.id)).customer).toBe(customerId);

    const sent = onlyRequest(emulator, 'POST', '/v1/setup_intents');
    expect(sent.params).toEqual({
      customer: customerId,
      payment_method: pm.id,
      confirm: 'true',
      usage: 'off_session',
      allowed_payment_method_types: ['card'],
      expand: ['payment_method'],
      metadata: { token_id: 'tok-1' },
    });
    expect(sent.idempotencyKey).toBe(`${PREFIX}-setup-tok-1`);

    // Our retry with the same key is Stripe's replay: the same SetupIntent, not a second setup.
    const again = await gateway.confirmOffSessionSetup({ customerId, paymentMethodId: pm.id, metadata: { token_id: 'tok-1' } }, 'setup-tok-1');
    expect(again.id).toBe(si.id);
    expect(
      emulator
        .requests()
        .filter((r) => r.path === '/v1/setup_intents')
        .map((r) => r.replayed),
    ).toEqual([false, true]);
  });

  it.each([
    ['4000000000000002', 'generic_decline', 'Your card was declined.'],
    ['4100000000000019', 'fraudulent', 'Your card was declined.'],
  ])('when %s is set up, then the decline is an answer, not an exception: failed with %s', async (number, code, reason) => {
    const { gateway, emulator } = door();
    const customerId = await customer();
    const pm = await gateway.createCardPaymentMethod({ number, expMonth: 12, expYear: EXP_YEAR, cvc: '123' }, unique('pm'));
    emulator.clearRequests();

    const si = await gateway.confirmOffSessionSetup({ customerId, paymentMethodId: pm.id, metadata: {} }, unique('setup'));
    expect(si).toMatchObject({ status: 'requires_payment_method', last_setup_error: { type: 'card_error', code: 'card_declined', decline_code: code } });
    expect(observeConfirmedSetup(si)).toEqual({ status: 'failed', code, reason });
    expect(onlyRequest(emulator, 'POST', '/v1/setup_intents').status).toBe(402);
    expect((await gateway.retrievePaymentMethod(pm.id)).customer).toBeNull();
  });

  it('when a setup asks for a 3-D Secure challenge, then it requires action with the challenge page (use_stripe_sdk: no return_url)', async () => {
    const { gateway, emulator } = door();
    const customerId = await customer();
    const pm = await gateway.createCardPaymentMethod({ number: '4000000000001091', expMonth: 12, expYear: EXP_YEAR }, unique('pm'));
    emulator.clearRequests();

    const si = await gateway.confirmOffSessionSetup({ customerId, paymentMethodId: pm.id, metadata: {}, requestThreeDSecure: 'challenge' }, unique('setup'));
    expect(si.next_action?.type).toBe('use_stripe_sdk');
    const observed = observeConfirmedSetup(si);
    expect(observed).toEqual({ status: 'requires_action', nextActionUrl: `${emulator.url}/c/3ds/${si.id}` });
    expect(onlyRequest(emulator, 'POST', '/v1/setup_intents').params).toMatchObject({
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    });
  });

  it('when the card number fails Luhn, then it is invalid_input on field number, and neither the number nor the CVC is anywhere in the error', async () => {
    const { gateway } = door();
    const err = await appErrorOf(gateway.createCardPaymentMethod({ number: '4242424242424241', expMonth: 12, expYear: EXP_YEAR, cvc: '7373' }, unique('pm')));
    expect(err).toMatchObject({ kind: 'invalid_input', code: 'incorrect_number', message: 'The card number is incorrect' });
    expect(err.details).toMatchObject({ field: 'number', stripeCode: 'incorrect_number', stripeStatus: 402 });
    // The cause is a redacted copy, not stripe-node's error with Stripe's raw answer.
    expect(err.cause).not.toBeInstanceOf(Stripe.errors.StripeError);
    expect(err.cause).toMatchObject({ code: 'incorrect_number', param: 'number', statusCode: 402 });
    const logged = everythingLoggable(err);
    expect(logged).toContain('incorrect_number');
    expect(logged).not.toMatch(/4242424242424241|4242 ?4242 ?4242 ?4241/);
    expect(logged).not.toContain('7373');
  });

  it.each([
    [{ number: '4242' }, 'invalid_number', 'number'],
    [{ expMonth: 13 }, 'invalid_expiry_month', 'exp_month'],
    [{ expYear: 2001 }, 'invalid_expiry_year', 'exp_year'],
    [{ cvc: '12' }, 'invalid_cvc', 'cvc'],
  ] as const)('when the card data is bad (%o), then it is invalid_input %s on field %s', async (override, code, field) => {
    const { gateway } = door();
    const card = { number: '4242424242424242', expMonth: 12, expYear: EXP_YEAR, cvc: '123', ...override };
    const err = await appErrorOf(gateway.createCardPaymentMethod(card, unique('pm')));
    expect([err.kind, err.code, err.details?.field]).toEqual(['invalid_input', code, field]);
    expect(everythingLoggable(err)).not.toContain('4242424242424242');
  });

  it('when a card that passes the checks is not a test card, then the decline at creation stays payment_failed test_mode_live_card, without the number', async () => {
    const { gateway } = door();
    const number = '4539578763621486';
    const err = await appErrorOf(gateway.createCardPaymentMethod({ number, expMonth: 12, expYear: EXP_YEAR, cvc: '9514' }, unique('pm')));
    expect([err.kind, err.code]).toEqual(['payment_failed', 'test_mode_live_card']);
    expect(err.message).toMatch(/^Your card was declined/);
    const logged = everythingLoggable(err);
    expect(logged).not.toContain(number);
    expect(logged).not.toContain('9514');
  });
});

describe('stripe door: card data in what Stripe answers', () => {
  const number = '4000056655665556';
  const cvc = '8642';

  /** A client whose paymentMethods.create fails as given, standing in for a Stripe that echoes what it got. */
  const failingWith = (err: unknown) =>
    createStripeGateway(
      {
        paymentMethods: {
          create: () => Promise.reject(err),
        },
      } as unknown as Stripe,
      { idempotencyPrefix: PREFIX },
    );

  it('when Stripe echoes the number and the CVC in a card error, then the AppError, its details and its cause hold neither', async () => {
    const echoed = new Stripe.errors.StripeCardError({
      type: 'card_error',
      code: 'incorrect_cvc',
      param: 'card[cvc]',
      message: `Card 4000 0566 5566 5556 with cvc ${cvc} is wrong`,
      statusCode: 402,
      requestId: 'req_echo',
      payment_method: { id: 'pm_x', card: { number, cvc } },
    } as unknown as ConstructorParameters<typeof Stripe.errors.StripeCardError>[0]);
    const err = await appErrorOf(failingWith(echoed).createCardPaymentMethod({ number, expMonth: 12, expYear: EXP_YEAR, cvc }, 'pm-echo'));
    expect([err.kind, err.code, err.details?.field, err.details?.stripeRequestId]).toEqual(['invalid_input', 'incorrect_cvc', 'cvc', 'req_echo']);
    expect((err.cause as Error).message).toBe('Card ****5556 with cvc *** is wrong');
    const logged = everythingLoggable(err);
    expect(logged).not.toContain(number);
    expect(logged).not.toContain('4000 0566 5566 5556');
    expect(logged).not.toContain(cvc);
  });

  it('when a decline message or a non-Stripe error carries the number, then it is masked too', async () => {
    const declined = new Stripe.errors.StripeCardError({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'do_not_honor',
      message: `Card ${number} declined`,
      statusCode: 402,
    });
    const decline = await appErrorOf(failingWith(declined).createCardPaymentMethod({ number, expMonth: 12, expYear: EXP_YEAR, cvc }, 'pm-decline'));
    expect([decline.kind, decline.code, decline.message]).toEqual(['payment_failed', 'do_not_honor', 'Card ****5556 declined']);
    expect(everythingLoggable(decline)).not.toContain(number);

    const odd = await appErrorOf(
      failingWith(new TypeError(`cannot send ${number} / ${cvc}`)).createCardPaymentMethod({ number, expMonth: 12, expYear: EXP_YEAR, cvc }, 'pm-odd'),
    );
    expect(odd.kind).toBe('upstream_failed');
    const logged = everythingLoggable(odd);
    expect(logged).toContain('cannot send ****5556 / ***');
    expect(logged).not.toContain(number);
    expect(logged).not.toContain(cvc);
  });
});
