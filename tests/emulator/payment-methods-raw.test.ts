import Stripe from 'stripe';
import { createCustomer, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

const NEXT_YEAR = new Date().getUTCFullYear() + 1;

function rawCard(number: string, overrides: Partial<Stripe.PaymentMethodCreateParams.Card> = {}): Stripe.PaymentMethodCreateParams {
  return { type: 'card', card: { number, exp_month: 12, exp_year: NEXT_YEAR, cvc: '123', ...overrides } };
}

describe('emulator: PaymentMethods from raw card data', () => {
  const emulator = useEmulator();

  it('when a test card number is sent, then a card PaymentMethod is made with brand, last4, expiry and fingerprint only', async () => {
    const stripe = stripeClient(emulator());
    const pm = await stripe.paymentMethods.create({
      ...rawCard('4242 4242 4242 4242'),
      billing_details: { name: 'John Doe', email: 'dev@example.com' },
      metadata: { source: 'hub' },
    });
    expect(pm).toMatchObject({
      object: 'payment_method',
      type: 'card',
      customer: null,
      metadata: { source: 'hub' },
      billing_details: { name: 'John Doe', email: 'dev@example.com' },
      card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: NEXT_YEAR, checks: { cvc_check: 'pass' }, three_d_secure_usage: { supported: true } },
    });
    expect(pm.id).toMatch(/^pm_[A-Za-z0-9]{24}$/);
    expect(pm.card?.fingerprint).toMatch(/^[A-Za-z0-9]{16}$/);
    const again = await stripe.paymentMethods.create(rawCard('4242424242424242'));
    expect(again.card?.fingerprint).toBe(pm.card?.fingerprint);
    expect(JSON.stringify(await stripe.paymentMethods.retrieve(pm.id))).not.toContain('4242424242424242');
  });

  it('when the seed cards and the Amex test card are sent, then they get their brands and 3DS support', async () => {
    const stripe = stripeClient(emulator());
    const jcb = await stripe.paymentMethods.create(rawCard('3530111333300000', { exp_year: 2040 }));
    expect(jcb.card).toMatchObject({ brand: 'jcb', last4: '0000', country: 'JP', exp_year: 2040 });
    const amex = await stripe.paymentMethods.create(rawCard('378282246310005', { cvc: '1234' }));
    expect(amex.card).toMatchObject({ brand: 'amex', last4: '0005', three_d_secure_usage: { supported: false } });
  });

  it('when a test token is sent as card[token], then it is that test card', async () => {
    const pm = await stripeClient(emulator()).paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } } as Stripe.PaymentMethodCreateParams);
    expect(pm.card).toMatchObject({ brand: 'visa', last4: '4242' });
  });

  it.each([
    ['a number failing Luhn', 'incorrect_number', rawCard('4242424242424241'), 'number', 'Your card number is incorrect.'],
    ['a number too short', 'invalid_number', rawCard('4242'), 'number', 'The card number is not a valid credit card number.'],
    ['month 13', 'invalid_expiry_month', rawCard('4242424242424242', { exp_month: 13 }), 'exp_month', "Your card's expiration month is invalid."],
    ['a year in the past', 'invalid_expiry_year', rawCard('4242424242424242', { exp_year: 2020 }), 'exp_year', "Your card's expiration year is invalid."],
    ['a CVC of two digits', 'invalid_cvc', rawCard('4242424242424242', { cvc: '12' }), 'cvc', "Your card's security code is invalid."],
  ])('when %s is sent, then it is a 402 card_error %s', async (_what, code, params, param, message) => {
    const err = await rejectionOf(stripeClient(emulator()).paymentMethods.create(params));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect({ status: err.statusCode, type: err.type, code: err.code, param: err.param, message: err.message }).toEqual({
      status: 402,
      type: 'StripeCardError',
      code,
      param,
      message,
    });
  });

  it('when a real (non-test) number is sent in test mode, then it is declined with test_mode_live_card', async () => {
    const err = await rejectionOf(stripeClient(emulator()).paymentMethods.create(rawCard('4111111111111111')));
    expect([err.statusCode, err.code, err.decline_code]).toEqual([402, 'card_declined', 'test_mode_live_card']);
    expect(err.message).toContain('used a non test (live) card');
  });

  it('when a parameter is missing, unknown or of another type, then it is refused as Stripe refuses it', async () => {
    const stripe = stripeClient(emulator());
    const noExpiry = await rejectionOf(stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242' } }));
    expect([noExpiry.statusCode, noExpiry.code, noExpiry.param]).toEqual([400, 'parameter_missing', 'card[exp_month]']);
    const noType = await rejectionOf(stripe.paymentMethods.create({ card: { number: '4242424242424242', exp_month: 1, exp_year: NEXT_YEAR } }));
    expect([noType.code, noType.param]).toEqual(['parameter_missing', 'type']);
    const unknown = await rejectionOf(
      stripe.paymentMethods.create({ type: 'card', card: { number: '4242424242424242', exp_month: 1, exp_year: NEXT_YEAR, colour: 'red' } } as never),
    );
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'card[colour]']);
    const sepa = await rejectionOf(stripe.paymentMethods.create({ type: 'sepa_debit', sepa_debit: { iban: 'DE89370400440532013000' } }));
    expect(sepa.statusCode).toBe(400);
    expect(sepa.message).toContain('not supported by the emulator');
  });

  it('when a raw card PaymentMethod is attached, then it belongs to the customer and the event says so', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const pm = await stripe.paymentMethods.create(rawCard('4000000000009995'));
    const attached = await stripe.paymentMethods.attach(pm.id, { customer: customer.id });
    expect(attached.customer).toBe(customer.id);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data.map((p) => p.id)).toEqual([pm.id]);
    const events = await stripe.events.list({ type: 'payment_method.attached' });
    expect(events.data.some((e) => (e.data.object as Stripe.PaymentMethod).id === pm.id)).toBe(true);
  });

  it('when a card is sent, then the request log and the events never hold its number or CVC', async () => {
    const stripe = stripeClient(emulator());
    emulator().clearRequests();
    await stripe.paymentMethods.create(rawCard('4000000000003220', { cvc: '987' }));
    const [logged] = emulator().requests();
    expect(JSON.stringify(logged)).not.toContain('4000000000003220');
    expect((logged.params.card as Record<string, unknown>).cvc).not.toBe('987');
    expect(JSON.stringify(emulator().events())).not.toContain('4000000000003220');
  });
});
