import request from 'supertest';
import { startTestContext, type TestContext } from '../support/test-context';

/** The access line and a handler's own line carry the request's id, through HTTP. */
describe('request ids on log lines', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext();
  });
  afterAll(() => ctx.close());

  test('when a handler logs and the answer is sent, then both lines carry the request id', async () => {
    const quiet = await request(ctx.app).get('/health/live').set('X-Request-Id', 'quiet-1');
    const logged = await request(ctx.app).post('/console/login').set('X-Request-Id', 'logged-1').type('form').send({ username: 'x', password: 'y' });
    expect(quiet.headers['x-request-id']).toBe('quiet-1');
    expect(logged.headers['x-request-id']).toBe('logged-1');
    const lines = ctx.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = (id: string) => lines.filter((l) => l.msg === 'request' && l.reqId === id);
    expect(access('quiet-1')).toHaveLength(1);
    expect(access('logged-1')).toHaveLength(1);
    expect(lines.filter((l) => l.msg !== 'request' && l.reqId === 'logged-1').length).toBeGreaterThan(0);
    expect(ctx.logs.join('')).not.toContain('"password":"y"');
  });
});
