import request from 'supertest';
import { parseConfig, ConfigError } from '../../config';
import { hashPassword, listOperators, removeOperator, saveOperator } from '../../app/console/operators';
import { csrfOf, OPERATOR, addOperator } from '../support/console-login';
import { startTestContext, testEnv, type TestContext } from '../support/test-context';

/** Operators from CONSOLE_USERS and from the CLI's table; the console's cookie behind TLS. */

describe('CONSOLE_USERS', () => {
  test('when it holds name:hash entries separated by spaces and new lines, then each is an operator with its hash', async () => {
    const a = await hashPassword('first password 123');
    const b = await hashPassword('second password 123');
    const config = parseConfig(testEnv({ CONSOLE_USERS: `alice:${a}\n  bob@ops:${b}` }));
    expect(config.console.users).toEqual([
      { name: 'alice', passwordHash: a },
      { name: 'bob@ops', passwordHash: b },
    ]);
    expect(JSON.stringify(config)).not.toContain(a);
  });

  test.each([
    ['alice:hunter2', 'must be an Argon2id hash'],
    ['alice', 'must be name:hash'],
    ['ali ce:$argon2id$x', 'must be name:hash'],
    ['alice:$argon2id$x alice:$argon2id$y', 'alice is named twice'],
  ])('when it is %s, then the service does not start and says why', (value, message) => {
    expect(() => parseConfig(testEnv({ CONSOLE_USERS: value }))).toThrow(ConfigError);
    expect(() => parseConfig(testEnv({ CONSOLE_USERS: value }))).toThrow(new RegExp(`CONSOLE_USERS: .*${message.replace(/[$]/g, '\\$')}`));
  });
});

describe('stored operators and the cookie behind TLS', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await startTestContext({ env: { PUBLIC_BASE_URL: 'https://gateway.test' } });
  });
  afterAll(async () => {
    await ctx.close();
  });

  test('when an operator is saved, then only an Argon2id hash is stored; saving again sets a new password and the old one no longer opens', async () => {
    expect(await addOperator(ctx)).toBe(true);
    const row = await ctx.db('console_operators').where({ name: OPERATOR.name }).first();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(OPERATOR.password);
    expect(await saveOperator(ctx.db, OPERATOR.name, 'a brand new password', ctx.clock.now())).toBe(false);
    await expect(saveOperator(ctx.db, OPERATOR.name, 'short', ctx.clock.now())).rejects.toThrow('at least 12 characters');
    await expect(saveOperator(ctx.db, 'no spaces please', 'long enough password', ctx.clock.now())).rejects.toThrow('operator name');

    // A Secure cookie is not sent back over the test's plain HTTP by a cookie jar: the browser's part is played by hand.
    const login = async (password: string) => {
      const form = await request(ctx.app).get('/console/login').set('X-Forwarded-Proto', 'https');
      const loginCookie = (form.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('pgw.console.login='));
      expect(loginCookie).toMatch(/; Secure/);
      return request(ctx.app)
        .post('/console/login')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', String(loginCookie).split(';')[0])
        .type('form')
        .send({ _csrf: csrfOf(form.text), username: OPERATOR.name, password });
    };
    expect((await login(OPERATOR.password)).status).toBe(401);
    const ok = await login('a brand new password');
    expect(ok.status).toBe(303);
    // https PUBLIC_BASE_URL (or production): the console's cookies are Secure.
    const cookies = ok.headers['set-cookie'] as unknown as string[];
    expect(cookies.find((c) => c.startsWith('pgw.console='))).toMatch(/; Secure/);
  });

  test('when an operator is removed (npm run console -- remove-user), then it is gone and removing it again says there was none', async () => {
    expect(await saveOperator(ctx.db, 'leaving', 'a password of the leaver', ctx.clock.now())).toBe(true);
    expect((await listOperators(ctx.db)).map((o) => o.name)).toContain('leaving');
    expect(await removeOperator(ctx.db, 'leaving')).toBe(true);
    expect((await listOperators(ctx.db)).map((o) => o.name)).not.toContain('leaving');
    expect(await removeOperator(ctx.db, 'leaving')).toBe(false);
  });
});
