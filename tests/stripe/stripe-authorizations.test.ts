import { observeAuthorization, type NewChallengedAuthorization } from '../../app/stripe';
import { EXP_YEAR, PREFIX, appErrorOf, control, onlyRequest, savedCard, unique, useDoor } from './stripe-door-helpers';

const RETURN_URL = 'https://hub.example/3ds/return?token=tok-1';

describe('stripe door: challenged manual-capture authorizations', () => {
  const door = useDoor();

  /** A saved `number`, then an authorization of it with the challenge requested. */
  async function authorize(number: string, overrides: Partial<NewChallengedAuthorization> = {}, key = unique('auth')) {
    const { gateway } = door();
    const card = await savedCard(gateway, number);
    const pi = await gateway.createChallengedAuthorization(
      { amount: 5000, currency: 'USD', ...card, returnUrl: RETURN_URL, metadata: { token_id: 'tok-1' }, ...overrides },
      key,
    );
    return { ...card, pi };
  }

  it('when 1091 is authorized for IDR 10000000 minor units, then it requires action with an authUrl, and Stripe got manual capture, the challenge, no setup_future_usage', async () => {
    const { emulator, gateway } = door();
    const card = await savedCard(gateway, '4000000000001091');
    emulator.clearRequests();
    const pi = await gateway.createChallengedAuthorization(
      {
        amount: 10000000,
        currency: 'IDR',
        ...card,
        returnUrl: RETURN_URL,
        metadata: { token_id: 'tok-1' },
        receiptEmail: 'buyer@example.com',
        description: 'Token check',
      },
      'auth-tok-1',
    );
    const observed = observeAuthorization(pi);
    expect(observed).toEqual({ status: 'requires_action', authUrl: `${emulator.url}/c/3ds/pi/${pi.id}` });
    expect(pi).toMatchObject({ amount: 10000000, currency: 'idr', capture_method: 'manual', setup_future_usage: null, receipt_email: 'buyer@example.com' });

    const sent = onlyRequest(emulator, 'POST', '/v1/payment_intents');
    expect(sent.params).toEqual({
      amount: '10000000',
      currency: 'idr',
      customer: card.customerId,
      payment_method: card.paymentMethodId,
      allowed_payment_method_types: ['card'],
      capture_method: 'manual',
      confirm: 'true',
      return_url: RETURN_URL,
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
      description: 'Token check',
      receipt_email: 'buyer@example.com',
      metadata: { token_id: 'tok-1' },
      expand: ['latest_charge'],
    });
    expect(sent.idempotencyKey).toBe(`${PREFIX}-auth-tok-1`);

    // The authUrl is the challenge page a customer would be sent to.
    const page = await fetch((observed as { authUrl: string }).authUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Complete authentication');
  });

  it('when the challenge is passed, then the re-read PaymentIntent is authorized for the whole amount with 3-D Secure authenticated', async () => {
    const { emulator, gateway } = door();
    const { pi, paymentMethodId } = await authorize('4000000000001091', { amount: 10000000, currency: 'idr' });
    const passed = await control(emulator, `/_emulator/payment_intents/${pi.id}/three_d_secure`, { result: 'pass' });
    expect(passed.status).toBe(200);

    emulator.clearRequests();
    const reread = await gateway.retrievePaymentIntentWithCharge(pi.id);
    expect(onlyRequest(emulator, 'GET', `/v1/payment_intents/${pi.id}`).params).toEqual({ expand: ['latest_charge'] });
    expect(observeAuthorization(reread)).toEqual({
      status: 'authorized',
      amountCapturable: 10000000,
      threeDSecure: 'authenticated',
      card: { paymentMethodId, brand: 'visa', last4: '1091', expMonth: 12, expYear: EXP_YEAR },
    });
  });

  it('when the challenge is failed, then the authorization failed with payment_intent_authentication_failure', async () => {
    const { emulator, gateway } = door();
    const { pi } = await authorize('4000000000001091');
    expect((await control(emulator, `/_emulator/payment_intents/${pi.id}/three_d_secure`, { result: 'fail' })).status).toBe(200);
    const observed = observeAuthorization(await gateway.retrievePaymentIntentWithCharge(pi.id));
    expect(observed).toMatchObject({ status: 'failed', code: 'payment_intent_authentication_failure' });
    expect((observed as { reason: string }).reason).not.toBe('');
  });

  it('when a card that declines passes the challenge, then the authorization failed with the decline code', async () => {
    const { emulator, gateway } = door();
    const { pi } = await authorize('4000000000000341');
    expect(observeAuthorization(pi).status).toBe('requires_action');
    await control(emulator, `/_emulator/payment_intents/${pi.id}/three_d_secure`, { result: 'pass' });
    expect(observeAuthorization(await gateway.retrievePaymentIntentWithCharge(pi.id))).toMatchObject({ status: 'failed', code: 'generic_decline' });
  });

  it('when the Amex without 3-D Secure support is authorized, then the answer itself is authorized with threeDSecure not_supported', async () => {
    const { pi, paymentMethodId } = await authorize('378282246310005', { amount: 7500 });
    expect(observeAuthorization(pi)).toEqual({
      status: 'authorized',
      amountCapturable: 7500,
      threeDSecure: 'not_supported',
      card: { paymentMethodId, brand: 'amex', last4: '0005', expMonth: 12, expYear: EXP_YEAR },
    });
  });

  it("when Radar's fraud card is authorized, then the decline is an answer: the PaymentIntent, failed with fraudulent", async () => {
    const { gateway } = door();
    // Radar blocks its setup too, so the card reaches the authorization unsaved.
    const customer = await gateway.createCustomer({ metadata: {} }, unique('customer'));
    const pm = await gateway.createCardPaymentMethod({ number: '4100000000000019', expMonth: 12, expYear: EXP_YEAR }, unique('pm'));
    const pi = await gateway.createChallengedAuthorization(
      { amount: 5000, currency: 'usd', customerId: customer.id, paymentMethodId: pm.id, returnUrl: RETURN_URL, metadata: {} },
      unique('auth'),
    );
    expect(pi.status).toBe('requires_payment_method');
    expect(observeAuthorization(pi)).toEqual({ status: 'failed', code: 'fraudulent', reason: 'Your card was declined.' });
  });

  it('when less than authorized is captured, then it is captured with amountReceived, and Stripe got amount_to_capture, the metadata and the scoped key', async () => {
    const { emulator, gateway } = door();
    const { pi } = await authorize('378282246310005', { amount: 10000 });
    emulator.clearRequests();
    const captured = await gateway.capturePaymentIntent(pi.id, { amountToCapture: 6000, metadata: { charge_id: 'ch-1' } }, 'capture-ch-1');
    expect(observeAuthorization(captured)).toEqual({ status: 'captured', amountReceived: 6000 });
    expect(captured.metadata).toEqual({ token_id: 'tok-1', charge_id: 'ch-1' });
    const sent = onlyRequest(emulator, 'POST', `/v1/payment_intents/${pi.id}/capture`);
    expect(sent.params).toEqual({ amount_to_capture: '6000', metadata: { charge_id: 'ch-1' }, expand: ['latest_charge'] });
    expect(sent.idempotencyKey).toBe(`${PREFIX}-capture-ch-1`);
  });

  it('when more than authorized is captured, then it is invalid_input amount_too_large and the authorization is untouched', async () => {
    const { gateway } = door();
    const { pi } = await authorize('378282246310005', { amount: 10000 });
    const err = await appErrorOf(gateway.capturePaymentIntent(pi.id, { amountToCapture: 10001 }, unique('capture')));
    expect([err.kind, err.code]).toEqual(['invalid_input', 'amount_too_large']);
    expect(observeAuthorization(await gateway.retrievePaymentIntentWithCharge(pi.id))).toMatchObject({ status: 'authorized', amountCapturable: 10000 });
  });

  it('when the authorization lapses, then it is canceled with reason automatic', async () => {
    const { emulator, gateway } = door();
    const { pi } = await authorize('378282246310005');
    expect((await control(emulator, `/_emulator/payment_intents/${pi.id}/expire_authorization`)).status).toBe(200);
    expect(observeAuthorization(await gateway.retrievePaymentIntentWithCharge(pi.id))).toEqual({ status: 'canceled', reason: 'automatic' });
  });

  it('when the authorization is canceled by us, then it is canceled without a reason, sent with the scoped key', async () => {
    const { emulator, gateway } = door();
    const { pi } = await authorize('378282246310005');
    emulator.clearRequests();
    const canceled = await gateway.cancelPaymentIntent(pi.id, 'cancel-tok-1');
    expect(observeAuthorization(canceled)).toEqual({ status: 'canceled', reason: null });
    expect(canceled.amount_capturable).toBe(0);
    const sent = onlyRequest(emulator, 'POST', `/v1/payment_intents/${pi.id}/cancel`);
    expect([sent.params, sent.idempotencyKey]).toEqual([{ expand: ['latest_charge'] }, `${PREFIX}-cancel-tok-1`]);
  });

  it('when an authorization is retried with the same key, then Stripe replays it: one PaymentIntent', async () => {
    const { emulator, gateway } = door();
    const key = unique('auth');
    const { pi, customerId, paymentMethodId } = await authorize('4000000000001091', {}, key);
    const again = await gateway.createChallengedAuthorization(
      { amount: 5000, currency: 'USD', customerId, paymentMethodId, returnUrl: RETURN_URL, metadata: { token_id: 'tok-1' } },
      key,
    );
    expect(again.id).toBe(pi.id);
    expect(
      emulator
        .requests()
        .filter((r) => r.idempotencyKey === `${PREFIX}-${key}`)
        .map((r) => r.replayed),
    ).toEqual([false, true]);
  });
});
