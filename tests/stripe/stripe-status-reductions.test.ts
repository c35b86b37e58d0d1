import { observeAuthorization, observeConfirmedSetup, type PaymentIntent, type SetupIntent } from '../../app/stripe';

/** Stripe objects cut down to what the reductions read; the gateway tests drive the real shapes. */
const pi = (fields: Record<string, unknown>): PaymentIntent =>
  ({
    id: 'pi_1',
    object: 'payment_intent',
    amount: 5000,
    amount_capturable: 0,
    amount_received: 0,
    latest_charge: null,
    payment_method: 'pm_1',
    ...fields,
  }) as unknown as PaymentIntent;
const si = (fields: Record<string, unknown>): SetupIntent =>
  ({
    id: 'seti_1',
    object: 'setup_intent',
    customer: 'cus_1',
    payment_method: null,
    last_setup_error: null,
    next_action: null,
    ...fields,
  }) as unknown as SetupIntent;
const chargeWith3ds = (result: string | null) => ({
  id: 'ch_1',
  payment_method: 'pm_1',
  payment_method_details: { card: { brand: 'visa', last4: '1091', exp_month: 1, exp_year: 2031, three_d_secure: result === null ? null : { result } } },
});

describe('observeAuthorization', () => {
  it.each([
    ['authenticated', 'authenticated'],
    ['attempt_acknowledged', 'attempted'],
    ['not_supported', 'not_supported'],
    ['exempted', 'none'],
    ['failed', 'none'],
    ['something_new', 'none'],
    [null, 'none'],
  ])('when the charge says 3-D Secure %s, then an authorization says %s', (result, expected) => {
    const observed = observeAuthorization(pi({ status: 'requires_capture', amount_capturable: 5000, latest_charge: chargeWith3ds(result) }));
    expect(observed).toEqual({
      status: 'authorized',
      amountCapturable: 5000,
      threeDSecure: expected,
      card: { paymentMethodId: 'pm_1', brand: 'visa', last4: '1091', expMonth: 1, expYear: 2031 },
    });
  });

  it('when an authorization comes without its charge expanded, then the reduction refuses rather than say none', () => {
    expect(() => observeAuthorization(pi({ status: 'requires_capture', latest_charge: 'ch_1' }))).toThrow(/latest_charge expanded/);
  });

  it('when the next action is use_stripe_sdk, then authUrl is its stripe_js page; an unknown action has none', () => {
    const sdk = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: 'https://hooks.stripe.com/3d_secure_2/x' } };
    expect(observeAuthorization(pi({ status: 'requires_action', next_action: sdk }))).toEqual({
      status: 'requires_action',
      authUrl: 'https://hooks.stripe.com/3d_secure_2/x',
    });
    expect(observeAuthorization(pi({ status: 'requires_action', next_action: { type: 'alipay_handle_redirect' } }))).toEqual({
      status: 'requires_action',
      authUrl: null,
    });
  });

  it('when a decline has an empty decline code, then the error code is the code', () => {
    const error = { type: 'card_error', code: 'expired_card', decline_code: '', message: 'Your card has expired.' };
    expect(observeAuthorization(pi({ status: 'requires_payment_method', last_payment_error: error }))).toEqual({
      status: 'failed',
      code: 'expired_card',
      reason: 'Your card has expired.',
    });
  });

  it('when the status is not one we know, or not final, then it is processing', () => {
    expect(observeAuthorization(pi({ status: 'requires_more_thought' }))).toEqual({ status: 'processing' });
    expect(observeAuthorization(pi({ status: 'requires_confirmation' }))).toEqual({ status: 'processing' });
    expect(observeAuthorization(pi({ status: 'processing' }))).toEqual({ status: 'processing' });
  });
});

describe('observeConfirmedSetup', () => {
  it('when a succeeded setup comes without its payment method expanded, then the reduction refuses', () => {
    expect(() => observeConfirmedSetup(si({ status: 'succeeded', payment_method: 'pm_1' }))).toThrow(/payment_method expanded/);
  });

  it('when the saved payment method is not a card, then the setup failed', () => {
    expect(observeConfirmedSetup(si({ status: 'succeeded', payment_method: { id: 'pm_1', type: 'sepa_debit' } }))).toMatchObject({
      status: 'failed',
      code: 'payment_method_not_card',
    });
  });

  it('when a failed 3-D Secure challenge left the setup, then it failed with setup_intent_authentication_failure', () => {
    const error = { type: 'invalid_request_error', code: 'setup_intent_authentication_failure', message: 'We are unable to authenticate your payment method.' };
    expect(observeConfirmedSetup(si({ status: 'requires_payment_method', last_setup_error: error }))).toEqual({
      status: 'failed',
      code: 'setup_intent_authentication_failure',
      reason: 'We are unable to authenticate your payment method.',
    });
  });

  it('when the setup was canceled, then it failed with the cancellation reason', () => {
    expect(observeConfirmedSetup(si({ status: 'canceled', cancellation_reason: 'abandoned' }))).toMatchObject({ status: 'failed', code: 'abandoned' });
  });

  it('when the setup waits for the customer at a redirect, then nextActionUrl is the redirect', () => {
    const next = { type: 'redirect_to_url', redirect_to_url: { url: 'https://hooks.stripe.com/redirect/x', return_url: 'https://hub.example/back' } };
    expect(observeConfirmedSetup(si({ status: 'requires_action', next_action: next }))).toEqual({
      status: 'requires_action',
      nextActionUrl: 'https://hooks.stripe.com/redirect/x',
    });
  });

  it.each(['requires_payment_method', 'requires_confirmation', 'processing', 'something_new'])(
    'when the setup is %s without an error, then it is pending',
    (status) => {
      expect(observeConfirmedSetup(si({ status }))).toEqual({ status: 'pending' });
    },
  );
});
