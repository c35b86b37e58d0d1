import { ConfigError, parseConfig } from '../../config';

const expectProblems = (env: Record<string, string>): string[] => {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  test('when nothing is set, then development defaults: sandbox Stripe, embedded database, port 3000', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      publicBaseUrl: 'http://localhost:3000',
      database: { url: undefined, dataDir: '.data', poolMax: 10 },
      stripe: { mode: 'sandbox', secretKey: undefined },
      billrun: {
        signatureMaxAgeS: 300,
        sharedSecrets: [{ key: 'dev-only-billrun-secret' }],
        defaultReturnUrl: 'http://localhost:3000/paymentgateways/success',
      },
    });
    expect(Object.isFrozen(config.billrun)).toBe(true);
  });

  test('when LOG_FORMAT is given, then it is taken; outside a terminal and outside development the default is JSON; a wrong one is refused', () => {
    expect(parseConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(parseConfig({ NODE_ENV: 'test' }).logFormat).toBe('json');
    expect(expectProblems({ LOG_FORMAT: 'fancy' })).toEqual([expect.stringMatching(/^LOG_FORMAT:/)]);
  });

  test('when METRICS_TOKEN is set, then it is taken; unset or blank, /metrics needs none; a short one is refused', () => {
    expect(parseConfig({ METRICS_TOKEN: 'metrics-token-0123456789abcdef' }).metrics.token).toBe('metrics-token-0123456789abcdef');
    expect(parseConfig({}).metrics.token).toBeUndefined();
    expect(parseConfig({ METRICS_TOKEN: ' ' }).metrics.token).toBeUndefined();
    expect(expectProblems({ METRICS_TOKEN: 'short' })).toEqual([expect.stringMatching(/^METRICS_TOKEN: must be at least 24 characters/)]);
  });

  test('when DATABASE_POOL_MAX is given, then it sizes the pool; zero or a word is refused', () => {
    expect(parseConfig({ DATABASE_POOL_MAX: '4' }).database.poolMax).toBe(4);
    expect(expectProblems({ DATABASE_POOL_MAX: '0' })).toEqual([expect.stringMatching(/^DATABASE_POOL_MAX:/)]);
    expect(expectProblems({ DATABASE_POOL_MAX: 'many' })).toEqual([expect.stringMatching(/^DATABASE_POOL_MAX:/)]);
  });

  test('when several variables are bad, then one error lists every one of them', () => {
    const problems = expectProblems({ PORT: 'abc', LOG_LEVEL: 'loud', STRIPE_SECRET_KEY: 'pk_test_123', DATABASE_URL: 'mysql://x' });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
    expect(problems.join('\n')).toMatch(/STRIPE_SECRET_KEY/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
  });

  test('when NODE_ENV is production without a Stripe key or a database, then start-up is refused with the reasons', () => {
    const problems = expectProblems({ NODE_ENV: 'production' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^STRIPE_SECRET_KEY: required in production/),
        expect.stringMatching(/^DATABASE_URL: required in production/),
      ]),
    );
  });

  test('when shared secrets come as a JSON array with windows, then they are parsed with dates', () => {
    const config = parseConfig({ BILLRUN_SHARED_SECRETS: '[{"key":"old","to":"2026-12-01T00:00:00Z"},{"key":"new","from":"2026-11-01T00:00:00Z"}]' });
    expect(config.billrun.sharedSecrets).toEqual([
      { key: 'old', to: new Date('2026-12-01T00:00:00Z') },
      { key: 'new', from: new Date('2026-11-01T00:00:00Z') },
    ]);
  });

  test('when OAuth clients or redirect origins are malformed, then each is reported', () => {
    const problems = expectProblems({ BILLRUN_OAUTH_CLIENTS: '[{"client_id":"a"}]', ALLOWED_REDIRECT_ORIGINS: 'ftp://x' });
    expect(problems).toEqual([expect.stringMatching(/^BILLRUN_OAUTH_CLIENTS/), expect.stringMatching(/^ALLOWED_REDIRECT_ORIGINS/)]);
  });

  test('when TRUST_PROXY is a hop count, true or an address list, then Express gets the right kind', () => {
    expect(parseConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(parseConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(parseConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
    expect(parseConfig({}).trustProxy).toBe('loopback, linklocal, uniquelocal');
  });

  test('when a freshness window of 0 is set, then the _t_ check is off', () => {
    expect(parseConfig({ BILLRUN_SIGNATURE_MAX_AGE_S: '0' }).billrun.signatureMaxAgeS).toBe(0);
  });
});
