import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { parseSharedSecrets, type SharedSecret } from './shared-secrets';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

export type StripeMode = 'sandbox' | 'stripe';

export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `json` (one object per line, for log shippers) or `pretty` (for a person at a terminal). */
  logFormat: 'json' | 'pretty';
  publicBaseUrl: string;
  database: { url?: string; dataDir: string; poolMax: number };
  stripe: {
    /** 'sandbox' when no key is set: the built-in emulator is started in-process. */
    mode: StripeMode;
    secretKey?: string;
    apiBase?: URL;
    /** Signing secrets of the webhook endpoint; several while one is rotated out. */
    webhookSecrets: string[];
    timeoutMs: number;
    maxNetworkRetries: number;
  };
  emulator: { port: number };
  /** Seconds between reconciler passes; 0 turns the background reconciler off. */
  reconcileIntervalS: number;
  /** `npm run bench`: count database round trips and answer them over the IPC channel of the process that started this one. */
  benchQueryCounter: boolean;
  billrun: {
    sharedSecrets: SharedSecret[];
    /** 0 turns the `_t_` freshness check off. */
    signatureMaxAgeS: number;
    oauthClients: OAuthClient[];
    oauthTokenTtlS: number;
    /** Where the customer ends after a redirect flow when the request names no return_url. */
    defaultReturnUrl: string;
  };
  session: { secret: string; secretIsEphemeral: boolean; cookieSecure: boolean };
  allowedRedirectOrigins: string[];
  /** Express `trust proxy`: which proxies' X-Forwarded-* headers to believe (secure cookies need it behind TLS offload). */
  trustProxy: string | boolean | number;
  hub: {
    /** AES-256-GCM key for vendor secrets at rest; unset in development: one is made once and kept in DATA_DIR. */
    encryptionKey?: Buffer;
    /** Bearer token of the admin API; unset: the admin API answers 404. */
    adminToken?: string;
    /** Requests per minute and API key (0: no limit). */
    rateLimitPerMinute: number;
  };
  /** Bearer token `GET /metrics` asks for; unset: the metrics are open to whoever reaches the port. */
  metrics: { token?: string };
  /** Operators of /console named in the environment (besides those `npm run console -- add-user` stores). */
  console: { users: ConsoleUser[] };
}

/** An operator from CONSOLE_USERS: a name and the Argon2id hash of the password (never the password). */
export interface ConsoleUser {
  name: string;
  passwordHash: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Development default so `npm start` works on a fresh clone; refused in production. */
export const DEV_BILLRUN_SECRET = 'dev-only-billrun-secret';

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().optional());
const intWithDefault = (def: number, min: number, max: number) => z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(def));

const httpUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

const envSchema = z.object({
  NODE_ENV: z.preprocess(blankToUndefined, z.enum(['development', 'test', 'production']).default('development')),
  PORT: intWithDefault(3000, 0, 65535),
  LOG_LEVEL: z.preprocess(blankToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  LOG_FORMAT: z.preprocess(blankToUndefined, z.enum(['json', 'pretty']).optional()),
  PUBLIC_BASE_URL: z.preprocess(blankToUndefined, httpUrl.optional()),
  DATABASE_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATABASE_POOL_MAX: intWithDefault(10, 1, 1000),
  DATA_DIR: z.preprocess(blankToUndefined, z.string().default('.data')),
  STRIPE_SECRET_KEY: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^(sk|rk)_(test|live)_[0-9A-Za-z_]+$/, 'must look like sk_test_..., sk_live_... or rk_...')
      .optional(),
  ),
  STRIPE_API_BASE: z.preprocess(blankToUndefined, httpUrl.optional()),
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_TIMEOUT_MS: intWithDefault(20000, 100, 120000),
  STRIPE_MAX_NETWORK_RETRIES: intWithDefault(2, 0, 5),
  EMULATOR_PORT: intWithDefault(12111, 0, 65535),
  RECONCILE_INTERVAL_S: intWithDefault(60, 0, 24 * 3600),
  BILLRUN_SHARED_SECRETS: optionalString,
  BILLRUN_SIGNATURE_MAX_AGE_S: intWithDefault(300, 0, 7 * 24 * 3600),
  BILLRUN_OAUTH_CLIENTS: optionalString,
  BILLRUN_OAUTH_TOKEN_TTL_S: intWithDefault(3600, 60, 24 * 3600),
  BILLRUN_RETURN_URL: z.preprocess(blankToUndefined, httpUrl.optional()),
  SESSION_SECRET: z.preprocess(blankToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  ALLOWED_REDIRECT_ORIGINS: optionalString,
  TRUST_PROXY: optionalString,
  HUB_ENCRYPTION_KEY: optionalString,
  HUB_RATE_LIMIT_PER_MINUTE: intWithDefault(1200, 0, 1_000_000),
  HUB_ADMIN_TOKEN: z.preprocess(blankToUndefined, z.string().min(24, 'must be at least 24 characters').optional()),
  BENCH_QUERY_COUNTER: z.preprocess(blankToUndefined, z.enum(['0', '1']).default('0')),
  METRICS_TOKEN: z.preprocess(blankToUndefined, z.string().min(24, 'must be at least 24 characters').optional()),
  CONSOLE_USERS: optionalString,
});

/** 32 bytes as 64 hex digits or base64 (`openssl rand -hex 32`, `openssl rand -base64 32`). */
function parseEncryptionKey(raw: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(raw) ? Buffer.from(raw, 'base64') : undefined;
  if (!key || key.length !== 32) throw new Error('must be 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)');
  return key;
}

function parseOAuthClients(raw: string): OAuthClient[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON array of {"client_id","client_secret"}');
  }
  const result = z
    .array(z.object({ client_id: z.string().min(1), client_secret: z.string().min(16, 'client_secret must be at least 16 characters') }).strict())
    .safeParse(parsed);
  if (!result.success) {
    throw new Error(`must be a JSON array of {"client_id","client_secret"}: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  return result.data.map((c) => ({ clientId: c.client_id, clientSecret: c.client_secret }));
}

export const CONSOLE_USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * `name:hash` entries separated by spaces or new lines; the hash is what `npm run console --
 * hash-password` prints (an Argon2id PHC string, which holds commas, hence no comma lists).
 */
function parseConsoleUsers(raw: string): ConsoleUser[] {
  const names = new Set<string>();
  return raw
    .split(/\s+/)
    .filter((entry) => entry.length > 0)
    .map((entry, i) => {
      const colon = entry.indexOf(':');
      const name = colon > 0 ? entry.slice(0, colon) : '';
      const passwordHash = entry.slice(colon + 1);
      if (!CONSOLE_USER_NAME.test(name)) throw new Error(`entry #${i + 1} must be name:hash with a name of letters, digits and . _ @ - (at most 64)`);
      if (!passwordHash.startsWith('$argon2id$'))
        throw new Error(`entry #${i + 1} (${name}): the hash must be an Argon2id hash from npm run console -- hash-password`);
      if (names.has(name)) throw new Error(`entry #${i + 1}: ${name} is named twice`);
      names.add(name);
      return { name, passwordHash };
    });
}

function parseOrigins(raw: string): string[] {
  return raw
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0)
    .map((o) => {
      let url: URL;
      try {
        url = new URL(o);
      } catch {
        throw new Error(`"${o}" is not a URL origin`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${o}" is not http(s)`);
      return url.origin;
    });
}

/**
 * Reads the environment once. Every problem is collected so an operator fixes them in one go;
 * the result is frozen so nothing can change it later.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  const attempt = <T>(name: string, fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return fallback;
    }
  };

  const sharedSecrets = e.BILLRUN_SHARED_SECRETS
    ? attempt('BILLRUN_SHARED_SECRETS', () => parseSharedSecrets(e.BILLRUN_SHARED_SECRETS as string), [])
    : production
      ? []
      : [{ key: DEV_BILLRUN_SECRET }];
  const oauthClients = e.BILLRUN_OAUTH_CLIENTS ? attempt('BILLRUN_OAUTH_CLIENTS', () => parseOAuthClients(e.BILLRUN_OAUTH_CLIENTS as string), []) : [];
  const allowedRedirectOrigins = e.ALLOWED_REDIRECT_ORIGINS
    ? attempt('ALLOWED_REDIRECT_ORIGINS', () => parseOrigins(e.ALLOWED_REDIRECT_ORIGINS as string), [])
    : [];

  const consoleUsers = e.CONSOLE_USERS ? attempt('CONSOLE_USERS', () => parseConsoleUsers(e.CONSOLE_USERS as string), []) : [];
  const encryptionKey = e.HUB_ENCRYPTION_KEY ? attempt('HUB_ENCRYPTION_KEY', () => parseEncryptionKey(e.HUB_ENCRYPTION_KEY as string), undefined) : undefined;

  if (production) {
    if (!e.HUB_ENCRYPTION_KEY) problems.push('HUB_ENCRYPTION_KEY: required in production (vendor secrets are encrypted with it)');
    if (!e.STRIPE_SECRET_KEY) problems.push('STRIPE_SECRET_KEY: required in production (the sandbox emulator is for development only)');
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required in production (the embedded database is for development only)');
    if (!e.SESSION_SECRET) problems.push('SESSION_SECRET: required in production');
    if (!e.PUBLIC_BASE_URL) problems.push('PUBLIC_BASE_URL: required in production');
    if (!e.BILLRUN_SHARED_SECRETS) problems.push('BILLRUN_SHARED_SECRETS: required in production');
    if (!e.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET: required in production');
    if (sharedSecrets.some((s) => s.key === DEV_BILLRUN_SECRET)) problems.push('BILLRUN_SHARED_SECRETS: the development secret is not allowed in production');
  }
  if (e.STRIPE_API_BASE && !e.STRIPE_SECRET_KEY) {
    problems.push('STRIPE_API_BASE: set STRIPE_SECRET_KEY too (without a key the built-in emulator is used)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const config: Config = {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    // Unset: pretty for a person at a terminal in development, JSON everywhere else.
    logFormat: e.LOG_FORMAT ?? (e.NODE_ENV === 'development' && process.stdout.isTTY ? 'pretty' : 'json'),
    publicBaseUrl,
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR, poolMax: e.DATABASE_POOL_MAX },
    stripe: {
      mode: e.STRIPE_SECRET_KEY ? 'stripe' : 'sandbox',
      secretKey: e.STRIPE_SECRET_KEY,
      apiBase: e.STRIPE_API_BASE ? new URL(e.STRIPE_API_BASE) : undefined,
      webhookSecrets: (e.STRIPE_WEBHOOK_SECRET ?? '')
        .split(',')
        .map((w) => w.trim())
        .filter((w) => w.length > 0),
      timeoutMs: e.STRIPE_TIMEOUT_MS,
      maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
    },
    emulator: { port: e.EMULATOR_PORT },
    reconcileIntervalS: e.RECONCILE_INTERVAL_S,
    benchQueryCounter: e.BENCH_QUERY_COUNTER === '1',
    billrun: {
      sharedSecrets,
      signatureMaxAgeS: e.BILLRUN_SIGNATURE_MAX_AGE_S,
      oauthClients,
      oauthTokenTtlS: e.BILLRUN_OAUTH_TOKEN_TTL_S,
      defaultReturnUrl: e.BILLRUN_RETURN_URL ?? `${publicBaseUrl}/paymentgateways/success`,
    },
    session: {
      secret: e.SESSION_SECRET ?? randomBytes(32).toString('hex'),
      secretIsEphemeral: !e.SESSION_SECRET,
      cookieSecure: publicBaseUrl.startsWith('https://'),
    },
    allowedRedirectOrigins,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    hub: { encryptionKey, adminToken: e.HUB_ADMIN_TOKEN, rateLimitPerMinute: e.HUB_RATE_LIMIT_PER_MINUTE },
    metrics: { token: e.METRICS_TOKEN },
    console: { users: consoleUsers },
  };
  // The configuration holds every secret: JSON.stringify (a log line, a row) and util.inspect
  // of it print a placeholder, wherever it ends up by mistake.
  for (const key of ['toJSON', Symbol.for('nodejs.util.inspect.custom')]) {
    Object.defineProperty(config, key, { value: () => '[Config: not serializable]', enumerable: false });
  }
  return deepFreeze(config);
}

/** Express `trust proxy`: true/false, a hop count, or addresses and subnets. */
function parseTrustProxy(raw: string | undefined): string | boolean | number {
  if (raw === undefined) return 'loopback, linklocal, uniquelocal';
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^[0-9]+$/.test(raw) ? Number(raw) : raw;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof URL) && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
