import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { signData } from '../../app/billrun';
import { newAid } from '../support/billrun-requests';
import { startTestContext, type TestContext } from '../support/test-context';
import { FUZZ_SEED, PROTOTYPE_NAMES, runFuzz, type FuzzRun } from './fuzz-inputs';
import { handshakeRows } from '../support/handshake-rows';

/**
 * Every secret is distinctive (SECRETMARKER...), so finding one anywhere is unambiguous. The
 * service then runs its main flows, hostile webhooks and a short fuzz, and its log and every
 * table are searched for the secrets, card numbers and the CVC typed on the hosted page.
 */
const MARK = 'SECRETMARKER';
const salt = randomBytes(6).toString('hex');
const SECRETS = {
  stripeKey: `sk_test_${MARK}stripe${salt}`,
  webhookSecret: `whsec_${MARK}webhook${salt}`,
  billrunSecret: `${MARK}-billrun-${salt}`,
  oauthClient: { client_id: 'billrun-hygiene', client_secret: `${MARK}-oauth-client-${salt}` },
  sessionSecret: `${MARK}-session-${salt}-0123456789abcdef`,
};
const CARD_NUMBERS = ['4242424242424242', '4242 4242 4242 4242', '4000002760003184', '4000 0027 6000 3184'];
/** Typed on the hosted page and passed to the emulator; found as a number on its own, not inside ids or timestamps. */
const CVC = '7391';
const CVC_ALONE = new RegExp(`(?<![0-9A-Za-z])${CVC}(?![0-9A-Za-z])`);
const FUZZ_REQUESTS = 300;

let ctx: TestContext;
/** What the flows answered: checked first, so the scans below are known to look at real traffic. */
const seen: Record<string, unknown> = {};
let fuzz: FuzzRun;
let accessToken = '';

const nowS = (): string => String(Math.floor(ctx.clock.now().getTime() / 1000));
const signed = (fields: Record<string, unknown>): string => signData(JSON.stringify(fields), SECRETS.billrunSecret);
const setupFields = (aid: number) => ({
  iframe: true,
  aid,
  name: 'StripeCheckout',
  type: 'account',
  _t_: nowS(),
  ok_page: 'https://portal.example/billing/ok',
  fail_page: 'https://portal.example/billing/fail',
});
/** `redirect=0` answers JSON; without `redirect` the browser is sent on (302). */
const okPage = (txId: string, mode: 'json' | 'redirect' = 'json') =>
  request(ctx.app)
    .get('/paymentgateways/OkPage')
    .query({ name: 'StripeCheckout', txId, ...(mode === 'json' ? { redirect: '0' } : {}) });
const post = (action: 'pay' | 'credit', fields: Record<string, unknown>) =>
  request(ctx.app)
    .post(`/paymentgateways/${action}`)
    .type('form')
    .send({ data: signed({ _t_: nowS(), ...fields }) });

async function startSetup(aid: number): Promise<{ txId: string; sessionId: string; checkoutUrl: string }> {
  const res = await request(ctx.app)
    .get('/paymentgateways/getRequest')
    .query({ data: signed(setupFields(aid)) });
  if (res.body.status !== 1) throw new Error(`getRequest failed: ${JSON.stringify(res.body)}`);
  const checkoutUrl: string = res.body.details.url;
  const sessionId = checkoutUrl.split('/').pop() as string;
  const handshake = await handshakeRows(ctx.db).where({ checkout_session_id: sessionId }).first();
  return { txId: handshake.tx_id, sessionId, checkoutUrl };
}

function signedWebhook(payload: string, path = '/webhooks/stripe') {
  const header = ctx.stripe.webhooks.generateTestHeaderString({ payload, secret: SECRETS.webhookSecret });
  return request(ctx.app).post(path).set('Content-Type', 'application/json').set('Stripe-Signature', header).timeout({ response: 5000 }).send(payload);
}

/** Each flow is recorded, never thrown: a failing flow must not stop the ones after it from being scanned. */
async function flow(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    seen[name] = await fn();
  } catch (err) {
    seen[name] = { failed: err instanceof Error ? err.message : String(err) };
  }
}

beforeAll(async () => {
  ctx = await startTestContext({
    stripeKey: SECRETS.stripeKey,
    env: {
      STRIPE_WEBHOOK_SECRET: SECRETS.webhookSecret,
      BILLRUN_SHARED_SECRETS: SECRETS.billrunSecret,
      BILLRUN_OAUTH_CLIENTS: JSON.stringify([SECRETS.oauthClient]),
      SESSION_SECRET: SECRETS.sessionSecret,
    },
  });

  // OAuth first: the fuzz below fails many logins, and the limiter would then refuse this one.
  await flow('oauth token', async () => {
    const res = await request(ctx.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', ...SECRETS.oauthClient });
    accessToken = res.body.access_token ?? '';
    const basic = await request(ctx.app)
      .post('/oauth2/token')
      .set('Authorization', `Basic ${Buffer.from(`${SECRETS.oauthClient.client_id}:${SECRETS.oauthClient.client_secret}`).toString('base64')}`)
      .type('form')
      .send({ grant_type: 'client_credentials' });
    const wrong = await request(ctx.app)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: SECRETS.oauthClient.client_id, client_secret: `${SECRETS.oauthClient.client_secret}x` });
    return { token: typeof res.body.access_token, basic: typeof basic.body.access_token, wrong: wrong.status };
  });
  await flow('bearer getRequest', async () => {
    const fields = setupFields(newAid());
    const res = await request(ctx.app)
      .get('/paymentgateways/getRequest')
      .set('Authorization', `Bearer ${accessToken}`)
      .query({ data: JSON.stringify(fields) });
    return res.body.status;
  });

  let savedAid = 0;
  await flow('hosted page 4242 + OkPage', async () => {
    savedAid = newAid();
    const setup = await startSetup(savedAid);
    const page = await fetch(setup.checkoutUrl);
    const submit = await fetch(setup.checkoutUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ number: '4242 4242 4242 4242', exp: '12/34', cvc: CVC, name: 'Jo Tester' }).toString(),
    });
    const ok = await okPage(setup.txId);
    const again = await okPage(setup.txId, 'redirect');
    return { page: page.status, submit: submit.status, ok: ok.body.details?.credit_card, redirect: again.status };
  });

  let paid = '';
  await flow('pay', async () => {
    const res = await post('pay', { aid: savedAid, amount: '19.99', currency: 'USD', reference: `hygiene-${salt}-1` });
    paid = res.body.details?.transaction_id ?? '';
    return res.body.details?.status;
  });
  await flow('credit', async () => {
    const res = await post('credit', { transaction_id: paid, amount: '5.00', reference: `hygiene-${salt}-r1` });
    return res.body.details?.status;
  });

  let pendingPi = '';
  await flow('3-D Secure pay with 4000002760003184', async () => {
    const aid = newAid();
    const setup = await startSetup(aid);
    ctx.emulator.completeCheckoutSession(setup.sessionId, '4000002760003184', { threeDSecure: 'pass', cvc: CVC });
    const ok = await okPage(setup.txId);
    const reference = `hygiene-${salt}-3ds`;
    const res = await post('pay', { aid, amount: '30.00', currency: 'USD', reference });
    pendingPi = res.body.details?.transaction_id ?? '';
    const link = new URL(res.body.details.authentication_url);
    const shown = await request(ctx.app).get(link.pathname);
    const pressed = await request(ctx.app).post(link.pathname);
    const done = ctx.emulator.authenticatePaymentIntent(pendingPi, 'pass');
    const back = await request(ctx.app).get(new URL(done.redirectUrl).pathname + new URL(done.redirectUrl).search);
    await ctx.emulator.settleWebhooks();
    const again = await post('pay', { aid, amount: '30.00', currency: 'USD', reference });
    return {
      ok: ok.body.details?.credit_card,
      first: res.body.details?.status,
      shown: shown.status,
      pressed: pressed.status,
      back: back.status,
      again: again.body.details?.status,
    };
  });

  await flow('failPage', async () => {
    const json = await startSetup(newAid());
    const cancelled = await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId: json.txId, redirect: '0' });
    const redirected = await startSetup(newAid());
    const back = await request(ctx.app).get('/paymentgateways/failPage').query({ name: 'StripeCheckout', txId: redirected.txId });
    return { json: cancelled.body.details?.message, redirect: back.status };
  });

  await flow('signed webhooks', async () => {
    const statuses: Record<string, number> = {};
    for (const type of PROTOTYPE_NAMES) {
      const payload = JSON.stringify({
        id: `evt_hygiene_${type.replace(/_/g, '')}_${salt}`,
        object: 'event',
        type,
        data: { object: { id: pendingPi || 'pi_none', object: 'payment_intent' } },
      });
      statuses[type] = (await signedWebhook(payload)).status;
    }
    statuses.null = (await signedWebhook('null')).status;
    statuses['null on the Payment Hub path'] = (await signedWebhook('null', '/api/v1/hook/stripe')).status;
    const real = JSON.stringify({
      id: `evt_hygiene_real_${salt}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: pendingPi, object: 'payment_intent' } },
    });
    const received = await signedWebhook(real);
    statuses['payment_intent.succeeded'] = received.status;
    return { statuses, received: received.body.received };
  });

  fuzz = await runFuzz({
    baseUrl: ctx.baseUrl,
    seed: FUZZ_SEED,
    count: FUZZ_REQUESTS,
    concurrency: 4,
    // Answers are the fuzz test's business; here only what the requests leave behind counts.
    stopAfterFailures: Infinity,
    targets: {
      billrunSecret: SECRETS.billrunSecret,
      webhookSecret: SECRETS.webhookSecret,
      oauthClient: SECRETS.oauthClient,
      bearerToken: accessToken,
      aids: [savedAid, newAid()],
      txIds: [],
      paymentIntentIds: [paid, pendingPi].filter(Boolean),
      authTokens: [],
      signWebhook: (opts) => ctx.stripe.webhooks.generateTestHeaderString(opts),
      now: () => ctx.clock.now(),
    },
  });
  await ctx.emulator.settleWebhooks();
}, 120_000);

afterAll(async () => {
  await ctx?.close();
});

/** Every row of every table in the public schema, as JSON text (row_to_json works on PGlite and PostgreSQL). */
async function tableDump(): Promise<Map<string, string[]>> {
  const tables = await ctx.db.raw(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const dump = new Map<string, string[]>();
  for (const { table_name: name } of tables.rows as Array<{ table_name: string }>) {
    const rows = await ctx.db.raw(`SELECT row_to_json(t)::text AS row FROM "${name.replace(/"/g, '""')}" t`);
    dump.set(
      name,
      (rows.rows as Array<{ row: string }>).map((r) => r.row),
    );
  }
  return dump;
}

const credentials = (): Record<string, string> => ({
  'Stripe secret key': SECRETS.stripeKey,
  'webhook secret (ours)': SECRETS.webhookSecret,
  "webhook secret (the emulator's endpoint)": ctx.webhookSecret,
  'BillRun shared secret': SECRETS.billrunSecret,
  'OAuth client secret': SECRETS.oauthClient.client_secret,
  SESSION_SECRET: SECRETS.sessionSecret,
  'issued Bearer token': accessToken,
  'the marker itself': MARK,
});

const cards = (): Record<string, string | RegExp> => ({ ...Object.fromEntries(CARD_NUMBERS.map((n) => [`card ${n}`, n])), [`CVC ${CVC}`]: CVC_ALONE });

/** For each thing found, where: a log line or a table row, clipped around the find. */
function findings(lines: Array<{ where: string; text: string }>, needles: Record<string, string | RegExp>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, needle] of Object.entries(needles)) {
    if (!needle) continue;
    const hits = lines.flatMap(({ where, text }) => {
      const at = typeof needle === 'string' ? text.indexOf(needle) : (needle.exec(text)?.index ?? -1);
      return at < 0 ? [] : [`${where}: ...${text.slice(Math.max(0, at - 160), at + 80)}...`];
    });
    if (hits.length > 0) out[name] = [`${hits.length} place(s)`, ...hits.slice(0, 3)];
  }
  return out;
}

const logLines = () => ctx.logs.map((text, i) => ({ where: `log line ${i}`, text }));
async function tableRows() {
  const dump = await tableDump();
  return { dump, rows: [...dump].flatMap(([table, rows]) => rows.map((text, i) => ({ where: `${table} row ${i}`, text }))) };
}

describe('secrets stay out of the log and the database', () => {
  test('when the main flows run with distinctive secrets, then they work (so the scans below look at real traffic)', () => {
    expect(seen).toEqual({
      'oauth token': { token: 'string', basic: 'string', wrong: 401 },
      'bearer getRequest': 1,
      'hosted page 4242 + OkPage': { page: 200, submit: 303, ok: '4242', redirect: 302 },
      pay: 'Completed',
      credit: 'Completed',
      '3-D Secure pay with 4000002760003184': { ok: '3184', first: 'Pending', shown: 200, pressed: 303, back: 200, again: 'Completed' },
      failPage: { json: 'The card setup was cancelled', redirect: 302 },
      'signed webhooks': { statuses: expect.any(Object), received: true },
    });
    expect(fuzz.sent).toBe(FUZZ_REQUESTS);
    expect(ctx.logs.length).toBeGreaterThan(FUZZ_REQUESTS);
  });

  test('when the flows, signed webhooks typed constructor/__proto__/null and the fuzz have run, then no secret, key or token is in the log', () => {
    expect(findings(logLines(), credentials())).toEqual({});
  });

  test('when the flows, signed webhooks typed constructor/__proto__/null and the fuzz have run, then no secret, key or token (nor a serialised object) is in any table', async () => {
    const { dump, rows } = await tableRows();
    expect([...dump.keys()]).toEqual(
      expect.arrayContaining([
        'customers',
        'card_setups',
        'cards',
        'charges',
        'handshakes',
        'refunds',
        'sessions',
        'stripe_events',
        'stripe_accounts',
        'owners',
      ]),
    );
    expect(dump.get('stripe_events')?.length).toBeGreaterThan(10);
    // PGlite writes an object bound to a text column as "[object Object]" where PostgreSQL writes
    // its JSON: either way an object (the dependencies, say) ended up where text belongs.
    expect(findings(rows, { ...credentials(), 'an object in a text column': '[object Object]' })).toEqual({});
  });

  test('when cards were typed and charged, then no full card number or CVC is in the log or any table', async () => {
    const { rows } = await tableRows();
    expect(findings([...logLines(), ...rows], cards())).toEqual({});
  });
});
