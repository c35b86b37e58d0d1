import Stripe from 'stripe';
import { control, createCustomer, rejectionOf, stripeClient, useEmulator } from './emulator-test-helpers';

const RETURN_URL = 'https://hub.example/3ds/return?ref=T-1';
type UseStripeSdk = { type: string; stripe_js: string; source: string };

/** What the hub's /token/3ds does: a raw card, a manual-capture PaymentIntent asking for a challenge. */
async function threeDSPayment(stripe: Stripe, number: string, overrides: Partial<Stripe.PaymentIntentCreateParams> = {}): Promise<Stripe.PaymentIntent> {
  const customer = await createCustomer(stripe);
  const pm = await stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' } });
  return stripe.paymentIntents.create({
    amount: 1000000,
    currency: 'idr',
    customer: customer.id,
    payment_method: pm.id,
    capture_method: 'manual',
    allowed_payment_method_types: ['card'],
    payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    confirm: true,
    return_url: RETURN_URL,
    ...overrides,
  });
}

async function submitChallenge(url: string, result: 'pass' | 'fail'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `result=${result}`, redirect: 'manual' });
}

describe('emulator: requested 3-D Secure on PaymentIntents', () => {
  const emulator = useEmulator();

  it('when a challenge is requested for the seed card 1091 with a return_url, then it requires a redirect to the challenge page', async () => {
    const stripe = stripeClient(emulator());
    const pi = await threeDSPayment(stripe, '4000000000001091');
    expect(pi.status).toBe('requires_action');
    expect(pi.payment_method_options?.card?.request_three_d_secure).toBe('challenge');
    expect(pi.next_action).toEqual({ type: 'redirect_to_url', redirect_to_url: { url: `${emulator().url}/c/3ds/pi/${pi.id}`, return_url: RETURN_URL } });
    const page = await fetch(pi.next_action?.redirect_to_url?.url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Complete authentication');
    expect((emulator().events() as Stripe.Event[]).filter((e) => (e.data.object as { id: string }).id === pi.id).map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
    ]);
  });

  it('when the customer passes the challenge, then the authorization is held and the browser goes back to return_url', async () => {
    const stripe = stripeClient(emulator());
    const pi = await threeDSPayment(stripe, '4000000000001091');
    const pass = await submitChallenge(pi.next_action?.redirect_to_url?.url as string, 'pass');
    expect(pass.status).toBe(303);
    const back = new URL(pass.headers.get('location') as string);
    expect(`${back.origin}${back.pathname}`).toBe('https://hub.example/3ds/return');
    expect(Object.fromEntries(back.searchParams)).toEqual({
      ref: 'T-1',
      payment_intent: pi.id,
      payment_intent_client_secret: pi.client_secret,
      redirect_status: 'succeeded',
    });
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after).toMatchObject({ status: 'requires_capture', amount_capturable: 1000000, next_action: null });
    const charge = await stripe.charges.retrieve(after.latest_charge as string);
    expect(charge.payment_method_details?.card?.three_d_secure).toMatchObject({ result: 'authenticated', authentication_flow: 'challenge' });
    expect((await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 900000 })).amount_received).toBe(900000);
  });

  it('when the customer fails the challenge, then it waits for another card with payment_intent_authentication_failure', async () => {
    const stripe = stripeClient(emulator());
    const pi = await threeDSPayment(stripe, '3530111333300000');
    expect(pi.status).toBe('requires_action');
    const fail = await submitChallenge(pi.next_action?.redirect_to_url?.url as string, 'fail');
    expect(new URL(fail.headers.get('location') as string).searchParams.get('redirect_status')).toBe('failed');
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after).toMatchObject({
      status: 'requires_payment_method',
      latest_charge: null,
      last_payment_error: { code: 'payment_intent_authentication_failure' },
    });
    expect(
      (emulator().events() as Stripe.Event[]).some((e) => e.type === 'payment_intent.payment_failed' && (e.data.object as { id: string }).id === pi.id),
    ).toBe(true);
  });

  it('when no challenge is requested, then 1091 and the JCB succeed frictionless, without 3DS on the charge', async () => {
    const stripe = stripeClient(emulator());
    for (const number of ['4000000000001091', '3530111333300000']) {
      const pi = await threeDSPayment(stripe, number, { capture_method: 'automatic', payment_method_options: undefined });
      expect(pi.status).toBe('succeeded');
      const charge = await stripe.charges.retrieve(pi.latest_charge as string);
      expect(charge.payment_method_details?.card?.three_d_secure).toBeNull();
    }
  });

  it('when a challenge is requested without a return_url, then next_action is use_stripe_sdk carrying the challenge page', async () => {
    const stripe = stripeClient(emulator());
    const pi = await threeDSPayment(stripe, '4000000000003220', { return_url: undefined, payment_method_options: { card: { request_three_d_secure: 'any' } } });
    expect(pi.status).toBe('requires_action');
    expect(pi.next_action?.type).toBe('use_stripe_sdk');
    const sdk = pi.next_action?.use_stripe_sdk as UseStripeSdk;
    expect(sdk).toMatchObject({ type: 'three_d_secure_redirect', stripe_js: `${emulator().url}/c/3ds/pi/${pi.id}` });
    expect(sdk.source).toMatch(/^src_/);
    const answer = await control(emulator(), `/_emulator/payment_intents/${pi.id}/three_d_secure`, { result: 'pass' });
    expect(answer.json.payment_intent.status).toBe('requires_capture');
  });

  it('when a return_url is given but use_stripe_sdk is true, then next_action is use_stripe_sdk too', async () => {
    const pi = await threeDSPayment(stripeClient(emulator()), '4000000000001091', { use_stripe_sdk: true });
    expect(pi.next_action?.type).toBe('use_stripe_sdk');
  });

  it('when a challenge is requested for the Amex card without 3DS, then it is not challenged and the charge says not_supported', async () => {
    const stripe = stripeClient(emulator());
    const pi = await threeDSPayment(stripe, '378282246310005');
    expect(pi).toMatchObject({ status: 'requires_capture', next_action: null });
    const charge = await stripe.charges.retrieve(pi.latest_charge as string);
    expect(charge.payment_method_details?.card?.three_d_secure).toMatchObject({ result: 'not_supported', result_reason: 'card_not_enrolled' });
    const pm = await stripe.paymentMethods.retrieve(pi.payment_method as string);
    expect(pm.card?.three_d_secure_usage?.supported).toBe(false);
  });

  it('when a challenge is requested off-session, then nobody can answer it: 402 authentication_required', async () => {
    const err = await rejectionOf(threeDSPayment(stripeClient(emulator()), '4000000000001091', { return_url: undefined, off_session: true }));
    expect([err.statusCode, err.code]).toEqual([402, 'authentication_required']);
  });

  it('when the challenge is requested on confirm, then the PaymentIntent keeps it', async () => {
    const stripe = stripeClient(emulator());
    const pi = await threeDSPayment(stripe, '4242424242424242', { confirm: false, return_url: undefined, payment_method_options: undefined });
    expect(pi.payment_method_options?.card?.request_three_d_secure).toBe('automatic');
    const confirmed = await stripe.paymentIntents.confirm(pi.id, {
      return_url: RETURN_URL,
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    });
    expect(confirmed).toMatchObject({ status: 'requires_action', payment_method_options: { card: { request_three_d_secure: 'challenge' } } });
  });

  it('when request_three_d_secure or a card option is wrong, then it is refused before anything is made', async () => {
    const stripe = stripeClient(emulator());
    const bad = await rejectionOf(threeDSPayment(stripe, '4242424242424242', { payment_method_options: { card: { request_three_d_secure: 'always' } } }));
    expect([bad.statusCode, bad.param]).toEqual([400, 'payment_method_options[card][request_three_d_secure]']);
    expect(bad.message).toBe('Invalid payment_method_options[card][request_three_d_secure]: must be one of any, automatic, or challenge');
    const unknown = await rejectionOf(threeDSPayment(stripe, '4242424242424242', { payment_method_options: { card: { request_3ds: 'any' } } as never }));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'payment_method_options[card][request_3ds]']);
  });
});

describe('emulator: requested 3-D Secure on SetupIntents', () => {
  const emulator = useEmulator();

  async function setup(number: string, options: Partial<Stripe.SetupIntentCreateParams> = {}): Promise<Stripe.SetupIntent> {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const pm = await stripe.paymentMethods.create({ type: 'card', card: { number, exp_month: 12, exp_year: 2040, cvc: '123' } });
    return stripe.setupIntents.create({
      customer: customer.id,
      payment_method: pm.id,
      usage: 'off_session',
      confirm: true,
      allowed_payment_method_types: ['card'],
      ...options,
    });
  }

  it('when the seed card 1091 is saved off-session without a requested challenge, then it succeeds at once and is attached', async () => {
    const si = await setup('4000000000001091');
    expect(si.status).toBe('succeeded');
    const pm = await stripeClient(emulator()).paymentMethods.retrieve(si.payment_method as string);
    expect(pm.customer).toBe(si.customer);
  });

  it('when a challenge is requested, then the SetupIntent requires action; passing saves the card', async () => {
    const stripe = stripeClient(emulator());
    const si = await setup('4000000000001091', { payment_method_options: { card: { request_three_d_secure: 'challenge' } } });
    expect(si).toMatchObject({ status: 'requires_action', payment_method_options: { card: { request_three_d_secure: 'challenge' } } });
    expect(si.next_action?.type).toBe('use_stripe_sdk');
    const url = (si.next_action?.use_stripe_sdk as UseStripeSdk).stripe_js;
    expect(url).toBe(`${emulator().url}/c/3ds/${si.id}`);
    expect((await submitChallenge(url, 'pass')).status).toBe(200);
    const after = await stripe.setupIntents.retrieve(si.id);
    expect(after.status).toBe('succeeded');
    expect((await stripe.paymentMethods.retrieve(after.payment_method as string)).customer).toBe(si.customer);
    const types = (emulator().events() as Stripe.Event[]).filter((e) => (e.data.object as { id: string }).id === si.id).map((e) => e.type);
    expect(types).toEqual(['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.succeeded']);
  });

  it('when the challenge is failed, then setup_intent_authentication_failure and nothing is saved', async () => {
    const stripe = stripeClient(emulator());
    const si = await setup('3530111333300000', {
      return_url: RETURN_URL,
      payment_method_options: { card: { request_three_d_secure: 'any' } },
    });
    expect(si.next_action).toEqual({ type: 'redirect_to_url', redirect_to_url: { url: `${emulator().url}/c/3ds/${si.id}`, return_url: RETURN_URL } });
    const fail = await submitChallenge(si.next_action?.redirect_to_url?.url as string, 'fail');
    expect(new URL(fail.headers.get('location') as string).searchParams.get('redirect_status')).toBe('failed');
    const after = await stripe.setupIntents.retrieve(si.id);
    expect(after).toMatchObject({ status: 'requires_payment_method', payment_method: null, last_setup_error: { code: 'setup_intent_authentication_failure' } });
  });

  it('when a challenge is requested for the Amex card without 3DS, then the setup succeeds without one', async () => {
    const si = await setup('378282246310005', { payment_method_options: { card: { request_three_d_secure: 'challenge' } } });
    expect(si).toMatchObject({ status: 'succeeded', next_action: null });
  });

  it('when the challenge is requested on confirm, then it applies to that confirmation', async () => {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const si = await stripe.setupIntents.create({ customer: customer.id, usage: 'off_session' });
    const confirmed = await stripe.setupIntents.confirm(si.id, {
      payment_method: 'pm_card_visa',
      payment_method_options: { card: { request_three_d_secure: 'challenge' } },
    });
    expect(confirmed.status).toBe('requires_action');
    const bad = await rejectionOf(stripe.setupIntents.confirm(si.id, { payment_method_options: { card: { request_three_d_secure: 'never' } } } as never));
    expect(bad.param).toBe('payment_method_options[card][request_three_d_secure]');
  });
});
