import request from 'supertest';
import { admin } from '../support/hub-requests';
import { runHubCli } from '../../app/hub/hub-cli';
import { startTestContext, TEST_HUB_ADMIN_TOKEN, TEST_STRIPE_KEY, type TestContext } from '../support/test-context';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext();
});
afterAll(async () => {
  await ctx.close();
});

const allText = async (table: string): Promise<string> => JSON.stringify(await ctx.db(table).select('*'));

describe('Hub administration', () => {
  test('when a merchant is created, then its keys and webhook secret are shown once and kept only as hashes or sealed', async () => {
    const res = await admin(ctx).post('/merchants', { name: 'Bookandlink test' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      success: true,
      message: expect.any(String),
      data: {
        id: expect.stringMatching(/^mer_[0-9a-f]{16}$/),
        name: 'Bookandlink test',
        public_key: expect.stringMatching(/^hub_pk_test_[0-9A-Za-z]{32}$/),
        secret_key: expect.stringMatching(/^hub_sk_test_[0-9A-Za-z]{32}$/),
        webhook_secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      },
    });
    const { id, public_key: publicKey, secret_key: secretKey, webhook_secret: webhookSecret } = res.body.data;
    for (const table of ['hub_api_keys', 'hub_merchants', 'owners']) {
      const text = await allText(table);
      for (const secret of [publicKey, secretKey, webhookSecret, webhookSecret.slice(6)]) expect(text).not.toContain(secret);
    }
    expect(await ctx.db('owners').where({ id }).first()).toMatchObject({ kind: 'merchant', name: 'Bookandlink test' });
    const listed = await admin(ctx).get('/merchants');
    expect(listed.body.data.find((m: { id: string }) => m.id === id).keys.map((k: { kind: string; prefix: string }) => [k.kind, k.prefix])).toEqual([
      ['public', publicKey.slice(0, 20)],
      ['secret', secretKey.slice(0, 20)],
    ]);
  });

  test('when a vendor is registered with a Stripe key, then Stripe names its account, the key is sealed and only its hint is shown', async () => {
    const merchant = (await admin(ctx).post('/merchants', { name: 'Vendor owner' })).body.data;
    const res = await admin(ctx).post(`/merchants/${merchant.id}/vendors`, {
      name: 'Main Stripe',
      stripe_secret_key: TEST_STRIPE_KEY,
      stripe_publishable_key: 'pk_test_publishable0123',
      stripe_webhook_secret: 'whsec_vendorsecret0123456789',
      allow_raw_card_data: true,
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      merchant_id: merchant.id,
      name: 'Main Stripe',
      stripe_account: ctx.emulator.accountId(TEST_STRIPE_KEY),
      livemode: false,
      secret_key_hint: `...${TEST_STRIPE_KEY.slice(-4)}`,
      publishable_key: 'pk_test_publishable0123',
      webhook_secret_set: true,
      webhook_url: `${ctx.config.publicBaseUrl}/api/v1/hook/stripe/${res.body.data.id}`,
      webhook_events: expect.arrayContaining([
        'invoice.paid',
        'charge.expired',
        'charge.failed',
        'charge.refunded',
        'payment_intent.succeeded',
        'refund.updated',
      ]),
      allow_raw_card_data: true,
      sandbox: false,
      created_at: expect.any(String),
      disabled_at: null,
    });
    const text = await allText('hub_vendors');
    expect(text).not.toContain(TEST_STRIPE_KEY);
    expect(text).not.toContain('whsec_vendorsecret0123456789');
    expect(JSON.stringify(res.body)).not.toContain(TEST_STRIPE_KEY);
    expect((await admin(ctx).get(`/merchants/${merchant.id}/vendors`)).body.data.map((v: { id: string }) => v.id)).toEqual([res.body.data.id]);
  });

  test('when vendor input is wrong, then 400 names each field, a keyless vendor outside the sandbox is refused and another merchant id is 404', async () => {
    const merchant = (await admin(ctx).post('/merchants', { name: 'Careless' })).body.data;
    const bad = await admin(ctx).post(`/merchants/${merchant.id}/vendors`, {
      stripe_secret_key: 'sk_nope',
      stripe_webhook_secret: 'secret',
      allow_raw_card_data: 'yes',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, message: 'Validation failed', data: null });
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['allow_raw_card_data', 'stripe_secret_key', 'stripe_webhook_secret']);
    // Outside the sandbox a vendor needs a key of its own.
    const keyless = await admin(ctx).post(`/merchants/${merchant.id}/vendors`, { name: 'no key' });
    expect(keyless.body.errors).toEqual([{ field: 'stripe_secret_key', message: expect.stringMatching(/required/) }]);
    expect((await admin(ctx).post('/merchants/mer_0000000000000000/vendors', { stripe_secret_key: TEST_STRIPE_KEY })).status).toBe(404);
    expect(await ctx.db('hub_vendors').where({ owner_id: merchant.id })).toEqual([]);
  });

  test('when the admin token is missing or wrong, then 401, and nothing is created', async () => {
    const before = (await ctx.db('hub_merchants').count({ n: '*' }))[0].n;
    const none = await request(ctx.app).post('/api/v1/admin/merchants').send({ name: 'x' });
    const wrong = await request(ctx.app).post('/api/v1/admin/merchants').set('Authorization', 'Bearer not-the-token').send({ name: 'x' });
    for (const res of [none, wrong]) expect([res.status, res.body]).toEqual([401, { success: false, message: 'Unauthorized', data: null }]);
    expect((await ctx.db('hub_merchants').count({ n: '*' }))[0].n).toBe(before);
  });

  test('when the body is not JSON or the name is missing, then 400 Validation failed, never a 500', async () => {
    const broken = await request(ctx.app)
      .post('/api/v1/admin/merchants')
      .set('Authorization', `Bearer ${process.env.NONE ?? 'test-hub-admin-token-0123456789'}`)
      .set('Content-Type', 'application/json')
      .send('{"name":');
    expect([broken.status, broken.body.message]).toEqual([400, 'Validation failed']);
    const unnamed = await admin(ctx).post('/merchants', { name: '' });
    expect(unnamed.body).toMatchObject({ success: false, message: 'Validation failed', errors: [{ field: 'name', message: 'is required' }] });
  });
});

describe('Hub failures of our own', () => {
  test('when a vendor secret cannot be opened (a row changed behind our back), then 500 Server went wrong with an error id, and nothing internal', async () => {
    const merchant = (await admin(ctx).post('/merchants', { name: 'Broken vendor' })).body.data;
    await ctx
      .db('hub_vendors')
      .insert({ id: 'abcdefabcdefabcdefabcdef', owner_id: merchant.id, name: 'tampered', secret_key_enc: 'v1.AAAA.BBBB.CCCC', secret_key_hint: '...xxxx' });
    const res = await request(ctx.app)
      .post('/api/v1/transactions/token')
      .set('Authorization', `Bearer ${merchant.secret_key}`)
      .send({ payment_vendor: 'abcdefabcdefabcdefabcdef', payment_method: 'pm_card_visa' });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ success: false, message: 'Server went wrong', data: null, error_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(ctx.logs.some((line) => line.includes(res.body.error_id) && line.includes('hub: unhandled error'))).toBe(true);
  });
});

describe('Hub administration without HUB_ADMIN_TOKEN', () => {
  test('when the variable is not set, then the admin API does not exist (404)', async () => {
    const other = await startTestContext({ env: { HUB_ADMIN_TOKEN: '' } });
    try {
      const res = await request(other.app).post('/api/v1/admin/merchants').set('Authorization', 'Bearer anything').send({ name: 'x' });
      expect(res.status).toBe(404);
      expect(res.body.success).toBe(false);
    } finally {
      await other.close();
    }
  });
});

describe('npm run hub (the admin CLI)', () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    let out = '';
    let err = '';
    const code = await runHubCli(argv, {
      env: { HUB_ADMIN_TOKEN: TEST_HUB_ADMIN_TOKEN, HUB_URL: ctx.baseUrl, ...env },
      out: (t) => void (out += t),
      err: (t) => void (err += t),
    });
    return { code, out, err, json: out ? JSON.parse(out) : undefined };
  };

  test('when a merchant, a key and a vendor are made from the shell, then the running service has them, with the API shapes', async () => {
    const made = await run(['merchants', 'create', 'CLI', 'shop']);
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({ success: true, data: { name: 'CLI shop', public_key: expect.stringMatching(/^hub_pk_/) } });
    const id = made.json.data.id;
    expect((await run(['keys', 'issue', id, 'secret'])).json.data.key).toMatch(/^hub_sk_/);
    const vendor = await run(['vendors', 'create', id, '--name', 'Shell Stripe', '--stripe-secret-key', TEST_STRIPE_KEY, '--allow-raw-card-data']);
    expect(vendor.json.data).toMatchObject({ name: 'Shell Stripe', allow_raw_card_data: true });
    expect((await run(['vendors', 'list', id])).json.data.map((v: { id: string }) => v.id)).toEqual([vendor.json.data.id]);
    expect((await run(['vendors', 'disable', id, vendor.json.data.id])).code).toBe(0);
  });

  test('when the command is wrong, the token missing or the service refuses, then a non-zero exit and a message', async () => {
    expect((await run(['merchants', 'fly'])).code).toBe(2);
    expect((await run(['merchants', 'list'], { HUB_ADMIN_TOKEN: '' })).code).toBe(2);
    const refused = await run(['merchants', 'list'], { HUB_ADMIN_TOKEN: 'wrong-token' });
    expect([refused.code, refused.json.message]).toEqual([1, 'Unauthorized']);
    expect((await run(['merchants', 'list'], { HUB_URL: 'http://127.0.0.1:1' })).err).toMatch(/cannot reach the service/);
  });
});
