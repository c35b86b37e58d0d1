import request from 'supertest';
import { createApp } from '../../app/app';
import { createDb } from '../../app/db';
import { startTestContext, type TestContext } from '../support/test-context';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await startTestContext({ stripeTimeoutMs: 1000 });
});
afterAll(async () => {
  await ctx.close();
});

describe('health', () => {
  test('when asked if alive, then 200', async () => {
    const res = await request(ctx.app).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  test('when the database and Stripe answer, then ready is 200 with both checks and their latency', async () => {
    const res = await request(ctx.app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'ok',
      checks: {
        database: { status: 'ok', latency_ms: expect.any(Number) },
        stripe: { status: 'ok', latency_ms: expect.any(Number), mode: 'stripe' },
      },
    });
    expect(ctx.emulator.requests().some((r) => r.method === 'GET' && r.path === '/v1/customers')).toBe(true);
  });

  test('when Stripe keeps failing, then ready is 503 naming stripe, with a short reason and the detail only in the log', async () => {
    ctx.emulator.injectFault({ type: 'error_500', count: 3, method: 'GET', path: '/v1/customers' });
    const fresh = createApp(ctx.deps); // its own Stripe check cache
    const res = await request(fresh.app).get('/health/ready');
    fresh.session.close();
    expect(res.status).toBe(503);
    expect(res.body.failing).toEqual(['stripe']);
    expect(res.body.checks.database.status).toBe('ok');
    expect(res.body.checks.stripe).toEqual({ status: 'fail', error: 'unreachable', latency_ms: expect.any(Number), mode: 'stripe' });
    expect(ctx.logs.some((l) => l.includes('"not ready"') && l.includes('Stripe customer listing failed'))).toBe(true);
  });

  test('when probes come in a burst, then Stripe is asked once', async () => {
    const fresh = createApp(ctx.deps);
    ctx.emulator.clearRequests();
    for (let i = 0; i < 5; i++) expect((await request(fresh.app).get('/health/ready')).status).toBe(200);
    fresh.session.close();
    expect(ctx.emulator.requests().filter((r) => r.path === '/v1/customers')).toHaveLength(1);
  });

  test('when shutdown has begun, then ready is 503 so traffic drains', async () => {
    ctx.handle.lifecycle.shuttingDown = true;
    const res = await request(ctx.app).get('/health/ready');
    ctx.handle.lifecycle.shuttingDown = false;
    expect(res.status).toBe(503);
    expect(res.body.failing).toEqual(['shutting_down']);
  });

  test('when a path is unknown, then 404 JSON, not an HTML page', async () => {
    const res = await request(ctx.app).get('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { type: 'not_found', message: 'No such endpoint' } });
  });
});

describe('health when the database is down', () => {
  test('when the database cannot be reached, then ready is 503 naming database', async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const unreachable = createDb({ url: 'postgres://postgres@127.0.0.1:9/none', logger: ctx.deps.logger });
    const broken = createApp({ ...ctx.deps, db: unreachable });
    try {
      const res = await request(broken.app).get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.failing).toEqual(['database']);
      expect(res.body.checks.database).toEqual({ status: 'fail', error: 'unreachable', latency_ms: expect.any(Number) });
      expect(res.body.checks.stripe.status).toBe('ok');
    } finally {
      broken.session.close();
      await unreachable.destroy();
    }
  });
});
