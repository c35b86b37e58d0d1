import Stripe from 'stripe';
import { createCustomer, createSetupSession, stripeClient, useEmulator } from './emulator-test-helpers';

function form(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  };
}

const FUTURE_EXP = `12/${String((new Date().getUTCFullYear() + 4) % 100).padStart(2, '0')}`;

describe('emulator: hosted checkout pages', () => {
  const emulator = useEmulator();

  async function newSession(): Promise<{ stripe: Stripe; session: Stripe.Checkout.Session; customer: Stripe.Customer }> {
    const stripe = stripeClient(emulator());
    const customer = await createCustomer(stripe);
    const session = await createSetupSession(stripe, customer.id);
    return { stripe, session, customer };
  }

  it('when the session url is opened, then it serves the sandbox card form with a Cancel link', async () => {
    const { session } = await newSession();
    const res = await fetch(session.url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<title>Stripe emulator — sandbox, no real money</title>');
    for (const field of ['name="number"', 'name="exp"', 'name="cvc"', 'name="name"']) expect(html).toContain(field);
    expect(html).toContain(`<form method="post" action="/c/pay/${session.id}"`);
    expect(html).toContain(`href="/c/pay/${session.id}/cancel"`);
    expect(html).not.toMatch(/<(script|link|img)\b/);
  });

  it('when the form is posted with 4242, then it redirects 303 to success_url and the card is saved with its expiry', async () => {
    const { stripe, session, customer } = await newSession();
    const res = await fetch(session.url as string, form({ number: '4242 4242 4242 4242', exp: FUTURE_EXP, cvc: '123', name: 'Ada L' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://merchant.example/ok?session_id=${session.id}`);

    const got = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent.payment_method'] });
    expect(got.status).toBe('complete');
    const pm = (got.setup_intent as Stripe.SetupIntent).payment_method as Stripe.PaymentMethod;
    expect(pm.customer).toBe(customer.id);
    expect(pm.billing_details.name).toBe('Ada L');
    expect(pm.card).toMatchObject({ last4: '4242', exp_month: 12, exp_year: 2000 + Number(FUTURE_EXP.slice(3)) });
    expect(pm.card?.checks?.cvc_check).toBe('pass');
    expect(got.customer_details?.name).toBe('Ada L');
  });

  it('when a declined card is posted, then the form shows the decline inline and the session stays open', async () => {
    const { stripe, session } = await newSession();
    const res = await fetch(session.url as string, form({ number: '4000000000000002', exp: FUTURE_EXP, cvc: '123', name: '<b>x</b>' }));
    expect(res.status).toBe(402);
    const html = await res.text();
    expect(html).toContain('Your card was declined.');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).not.toContain('<b>x</b>');
    // The number and CVC are never echoed back into the form (the test-card hint table lists public numbers).
    expect(html).toMatch(/<input id="number" name="number"(?![^>]*value=)[^>]*>/);
    expect(html).toMatch(/<input id="cvc" name="cvc"(?![^>]*value=)[^>]*>/);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it.each([
    [{ number: '4242424242424241', exp: FUTURE_EXP, cvc: '123' }, 'Your card number is invalid.'],
    [{ number: '4242', exp: FUTURE_EXP, cvc: '123' }, 'Your card number is incomplete.'],
    [{ number: '4242424242424242', exp: '01/20', cvc: '123' }, "Your card's expiration year is in the past."],
    [{ number: '4242424242424242', exp: FUTURE_EXP, cvc: '1' }, "Your card's security code is incomplete."],
  ])('when the form has invalid input %o, then it says %s', async (fields, message) => {
    const { session } = await newSession();
    const res = await fetch(session.url as string, form(fields));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain(message.replace(/'/g, '&#39;'));
  });

  it('when a 3DS card is posted and the challenge passes, then it completes and redirects to success_url', async () => {
    const { stripe, session } = await newSession();
    const res = await fetch(session.url as string, form({ number: '4000002500003155', exp: FUTURE_EXP, cvc: '123' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/c/3ds/${session.id}`);
    const pending = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
    expect((pending.setup_intent as Stripe.SetupIntent).status).toBe('requires_action');

    const challenge = await fetch(`${emulator().url}/c/3ds/${session.id}`);
    const html = await challenge.text();
    expect(html).toContain('Complete authentication');
    expect(html).toContain('Fail authentication');

    const pass = await fetch(`${emulator().url}/c/3ds/${session.id}`, form({ result: 'pass' }));
    expect(pass.status).toBe(303);
    expect(pass.headers.get('location')).toBe(`https://merchant.example/ok?session_id=${session.id}`);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('complete');
  });

  it('when the 3DS challenge fails, then it returns to the form with an error and the session stays open', async () => {
    const { stripe, session } = await newSession();
    await fetch(session.url as string, form({ number: '4000000000003220', exp: FUTURE_EXP, cvc: '123' }));
    const fail = await fetch(`${emulator().url}/c/3ds/${session.id}`, form({ result: 'fail' }));
    expect(fail.status).toBe(303);
    const back = await fetch(`${emulator().url}${fail.headers.get('location')}`);
    expect(await back.text()).toContain('We are unable to authenticate your payment method.');
    const got = await stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
    expect(got.status).toBe('open');
    expect((got.setup_intent as Stripe.SetupIntent).last_setup_error?.code).toBe('setup_intent_authentication_failure');
  });

  it('when Cancel is followed, then it redirects 303 to cancel_url and the session stays open', async () => {
    const { stripe, session } = await newSession();
    const res = await fetch(`${emulator().url}/c/pay/${session.id}/cancel`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`https://merchant.example/cancelled?session_id=${session.id}`);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it('when the session is expired or complete, then the page says so instead of showing the form', async () => {
    const { stripe, session } = await newSession();
    await stripe.checkout.sessions.expire(session.id);
    const expired = await fetch(`${emulator().url}/c/pay/${session.id}`);
    expect(expired.status).toBe(410);
    const expiredHtml = await expired.text();
    expect(expiredHtml).toContain('This checkout session has expired');
    expect(expiredHtml).not.toContain('name="number"');

    const second = await newSession();
    emulator().completeCheckoutSession(second.session.id, '4242424242424242');
    const complete = await fetch(`${emulator().url}/c/pay/${second.session.id}`);
    const completeHtml = await complete.text();
    expect(completeHtml).toContain('already complete');
    const post = await fetch(`${emulator().url}/c/pay/${second.session.id}`, form({ number: '4242424242424242', exp: FUTURE_EXP, cvc: '123' }));
    expect(await post.text()).toContain('already complete');
  });

  it('when the session id is unknown, then the page is a 404', async () => {
    const res = await fetch(`${emulator().url}/c/pay/cs_test_nope`);
    expect(res.status).toBe(404);
  });
});
