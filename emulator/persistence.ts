/**
 * Optional persistence (`EmulatorOptions.stateFile`): the whole emulator state in one JSON file,
 * loaded at start, saved (debounced, atomically: a temp file renamed over the old one) after
 * changes and once more on close.
 *
 * Kept, per account (its id, the SHA-256 of its key, whether it is the default): every stored
 * object (customers, Checkout Sessions, SetupIntents, PaymentMethods with their test-card key,
 * PaymentIntents, Charges, Refunds, webhook endpoints with their secrets, ephemeral keys), the
 * event log and finished idempotency entries; for the emulator: the clock offset and the payment
 * and refund modes. A version 1 file (one account, before accounts by key) loads into the default
 * account. Not kept: the request log, pending faults, webhook deliveries (queued, in
 * flight or logged) and the delivery test controls. Ids are random, so there are no counters.
 *
 * Card data: PaymentMethods hold only the test-card key, brand, last4, expiry and a fingerprint;
 * accounts hold a hash of their API key, never the key; idempotency entries a hash of the
 * parameters; stored error answers
 * (which may echo an id the caller sent) have card-number-like digit runs masked.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, promises as fsp, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type Stripe from 'stripe';
import type { Account, AccountRegistry } from './accounts';
import type { EmulatorClock } from './clock';
import type { SavedIdempotencyEntry } from './idempotency';
import { newId } from './ids';
import { maskCardNumbers } from './request-log';
import type {
  EmulatorEvent,
  EphemeralKeyObject,
  Modes,
  Store,
  StoredCharge,
  StoredCheckoutSession,
  StoredPaymentIntent,
  StoredPaymentMethod,
  StoredSetupIntent,
  StoredWebhookEndpoint,
} from './store';
import { TEST_CARDS } from './test-cards';

/** The file format's version; a file with another one (other than the old LEGACY_VERSION) is set aside, never read. */
export const STATE_VERSION = 2;
/** Version 1: a single account's collections at the top level, before accounts by key. Still read, into the default account. */
export const LEGACY_VERSION = 1;
export const DEFAULT_SAVE_DEBOUNCE_MS = 200;

/** One account's objects, as the file keeps them. */
export interface SavedAccountData {
  customers: Array<Stripe.Customer | Stripe.DeletedCustomer>;
  checkoutSessions: StoredCheckoutSession[];
  setupIntents: StoredSetupIntent[];
  paymentMethods: StoredPaymentMethod[];
  paymentIntents: StoredPaymentIntent[];
  charges: StoredCharge[];
  refunds: Stripe.Refund[];
  webhookEndpoints: StoredWebhookEndpoint[];
  ephemeralKeys: EphemeralKeyObject[];
  /** Oldest first, as `Store.events`. */
  events: EmulatorEvent[];
  idempotency: SavedIdempotencyEntry[];
}

export interface SavedAccount extends SavedAccountData {
  id: string;
  created: number;
  /** SHA-256 (hex) of the account's secret key, never the key; null for the default account no key has claimed yet. */
  keyHash: string | null;
  /** The default account (see accounts.ts). */
  default: boolean;
}

interface SavedHeader {
  /** ISO time of the save, for people reading the file. */
  savedAt: string;
  /** The origin hosted-page urls in stored objects were made with. */
  publicUrl: string;
  clockOffsetSeconds: number;
  modes: Modes;
}

export interface SavedState extends SavedHeader {
  version: typeof STATE_VERSION;
  accounts: SavedAccount[];
}

/** A version 1 file. */
type LegacyState = SavedHeader & SavedAccountData & { version: typeof LEGACY_VERSION };

/** What a state file reads from and restores into. */
export interface PersistedParts {
  clock: EmulatorClock;
  modes: Modes;
  accounts: AccountRegistry;
  runtime: { publicUrl: string };
}

type Log = (msg: string, fields?: Record<string, unknown>) => void;

export function captureState(parts: PersistedParts): SavedState {
  return {
    version: STATE_VERSION,
    savedAt: new Date().toISOString(),
    publicUrl: parts.runtime.publicUrl,
    clockOffsetSeconds: parts.clock.offset(),
    modes: { ...parts.modes },
    accounts: parts.accounts.slots().map(({ keyHash, isDefault, account }) => ({
      id: account.id,
      created: account.created,
      keyHash,
      default: isDefault,
      ...captureAccount(account),
    })),
  };
}

function captureAccount(account: Account): SavedAccountData {
  const { store } = account;
  return {
    customers: [...store.customers.values()],
    checkoutSessions: [...store.checkoutSessions.values()],
    setupIntents: [...store.setupIntents.values()],
    paymentMethods: [...store.paymentMethods.values()],
    paymentIntents: [...store.paymentIntents.values()],
    charges: [...store.charges.values()],
    refunds: [...store.refunds.values()],
    webhookEndpoints: [...store.webhookEndpoints.values()],
    ephemeralKeys: [...store.ephemeralKeys.values()],
    events: store.events,
    idempotency: account.idempotency.saved().map((e) => (e.answer.status >= 400 ? { ...e, answer: { ...e.answer, body: maskErrorBody(e.answer.body) } } : e)),
  };
}

/** Replaces the emulator's state (every account) with a validated saved one. */
export function restoreState(parts: PersistedParts, state: SavedState): void {
  const accounts = parts.accounts.restore(state.accounts.map((a) => ({ id: a.id, created: a.created, keyHash: a.keyHash, isDefault: a.default })));
  accounts.forEach((account, i) => restoreAccount(account, state.accounts[i]));
  parts.modes.payments = state.modes.payments;
  parts.modes.refunds = state.modes.refunds;
  parts.clock.setOffset(state.clockOffsetSeconds);
}

function restoreAccount(account: Account, saved: SavedAccountData): void {
  const { store } = account;
  const fill = <T>(map: Map<string, T>, items: readonly T[], id: (item: T) => string) => {
    map.clear();
    for (const item of items) map.set(id(item), item);
  };
  fill(store.customers, saved.customers, (c) => c.id);
  fill(store.checkoutSessions, saved.checkoutSessions, (s) => s.api.id);
  fill(store.setupIntents, saved.setupIntents, (s) => s.api.id);
  fill(store.paymentMethods, saved.paymentMethods, (s) => s.api.id);
  fill(store.paymentIntents, saved.paymentIntents, (s) => s.api.id);
  fill(store.charges, saved.charges, (s) => s.api.id);
  fill(store.refunds, saved.refunds, (r) => r.id);
  fill(store.webhookEndpoints, saved.webhookEndpoints, (e) => e.api.id);
  fill(store.ephemeralKeys, saved.ephemeralKeys, (k) => k.id);
  store.events.length = 0;
  for (const event of saved.events) store.events.push(event);
  store.rebuildSnapshots();
  account.idempotency.restore(saved.idempotency);
}

/**
 * A version 1 file held one account: it becomes the default account (the first configured key's,
 * or the first key used's), under a new account id that is saved from then on.
 */
function upgradeLegacy(legacy: LegacyState): SavedState {
  const { version: _version, savedAt, publicUrl, clockOffsetSeconds, modes, ...data } = legacy;
  // The account existed before its oldest event.
  const created = data.events.reduce((oldest, e) => Math.min(oldest, e.created), Math.floor(Date.now() / 1000) + clockOffsetSeconds);
  return {
    version: STATE_VERSION,
    savedAt,
    publicUrl,
    clockOffsetSeconds,
    modes,
    accounts: [{ id: newId.account(), created, keyHash: null, default: true, ...data }],
  };
}

/**
 * Once the server listens: hosted-page links stored in open objects (session.url, next_action)
 * move to the new origin when it changed since the save (another port). Events keep theirs.
 */
export function moveHostedUrls(stores: readonly Store[], from: string, to: string): void {
  if (!from || from === to) return;
  const move = (url: string | null | undefined) => (url?.startsWith(`${from}/c/`) ? `${to}${url.slice(from.length)}` : url);
  for (const store of stores) {
    for (const s of store.checkoutSessions.values()) s.api.url = move(s.api.url) ?? null;
    for (const intent of [...store.setupIntents.values(), ...store.paymentIntents.values()]) {
      const action = intent.api.next_action;
      const r = action?.redirect_to_url;
      if (r?.url) r.url = move(r.url) ?? null;
      const sdk = action?.use_stripe_sdk;
      if (typeof sdk?.stripe_js === 'string') sdk.stripe_js = move(sdk.stripe_js);
    }
  }
}

/** The file: load once, then `changed()` after every state change and `close()` at the end. */
export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  /** A bad file that could not be moved aside is never overwritten. */
  private disabled = false;

  constructor(
    readonly file: string,
    private readonly capture: () => SavedState,
    private readonly log: Log,
    private readonly debounceMs = DEFAULT_SAVE_DEBOUNCE_MS,
  ) {}

  /** The saved state, or undefined (no file, or a bad one, which is set aside and logged). */
  load(): SavedState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.log('state file not found: starting empty', { file: this.file, severity: 'info' });
        return undefined;
      }
      return this.setAside(`unreadable: ${errorMessage(err)}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return this.setAside(`not JSON: ${errorMessage(err)}`);
    }
    const version = isObject(raw) ? raw.version : undefined;
    if (version !== STATE_VERSION && version !== LEGACY_VERSION) {
      return this.setAside(
        `unsupported version ${JSON.stringify(version) ?? 'undefined'} (this emulator reads versions ${LEGACY_VERSION} and ${STATE_VERSION})`,
      );
    }
    try {
      const state = version === LEGACY_VERSION ? upgradeLegacy(validateLegacyState(raw)) : validateState(raw);
      const total = (pick: (a: SavedAccount) => unknown[]) => state.accounts.reduce((n, a) => n + pick(a).length, 0);
      this.log('state file loaded', {
        file: this.file,
        severity: 'info',
        savedAt: state.savedAt,
        version,
        accounts: state.accounts.length,
        customers: total((a) => a.customers),
        events: total((a) => a.events),
        webhookEndpoints: total((a) => a.webhookEndpoints),
      });
      return state;
    } catch (err) {
      return this.setAside(`invalid: ${errorMessage(err)}`);
    }
  }

  /** Schedules a save; many changes within the debounce window make one write. */
  changed(): void {
    if (this.closed || this.disabled) return;
    this.dirty = true;
    this.schedule();
  }

  /** Waits for a write in flight, then saves the final state synchronously. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.disabled) return;
    try {
      this.writeSync(this.serialize());
    } catch (err) {
      this.log('state file save failed', { file: this.file, error: errorMessage(err), severity: 'warn' });
    }
  }

  private schedule(): void {
    // A write in flight reschedules itself when it finishes and something changed meanwhile.
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
    this.timer.unref();
  }

  private flush(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    let text: string;
    try {
      text = this.serialize();
    } catch (err) {
      this.log('state file save failed', { file: this.file, error: errorMessage(err), severity: 'warn' });
      return;
    }
    this.writing = this.writeAsync(text)
      .catch((err: unknown) => this.log('state file save failed', { file: this.file, error: errorMessage(err), severity: 'warn' }))
      .finally(() => {
        this.writing = undefined;
        if (this.dirty && !this.closed) this.schedule();
      });
  }

  /** Taken in one synchronous step, so the file is always one consistent moment. */
  private serialize(): string {
    return `${JSON.stringify(this.capture())}\n`;
  }

  private tempName(): string {
    return `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  private async writeAsync(text: string): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    const temp = this.tempName();
    try {
      const handle = await fsp.open(temp, 'w', 0o600);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(temp, this.file);
    } catch (err) {
      await fsp.unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  private writeSync(text: string): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temp = this.tempName();
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, text, null, 'utf8');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.file);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // nothing was left behind
      }
      throw err;
    }
  }

  /** Keeps a bad file as `<file>.corrupt-<timestamp>` and starts empty. */
  private setAside(reason: string): undefined {
    const keptAs = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.file, keptAs);
      this.log('state file unusable: starting empty', { file: this.file, reason, keptAs, severity: 'warn' });
    } catch (err) {
      this.disabled = true;
      this.log('state file unusable and could not be moved aside: starting empty, and not saving this run so it is not overwritten', {
        file: this.file,
        reason,
        error: errorMessage(err),
        severity: 'warn',
      });
    }
    return undefined;
  }
}

// ---- validation: a file that passes restores without surprises ----

class Invalid extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new Invalid(what);
}

function nullableString(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

const TEST_CARD_KEYS = new Set<string>([...TEST_CARDS.map((c) => c.key), 'generic']);

/**
 * Checks each collection's items: an object whose id (at `api.id` for wrapped records) has the
 * right prefix. `seen` spans the whole file: ids are unique across collections and accounts.
 */
function collection(
  raw: Record<string, unknown>,
  where: string,
  name: string,
  prefix: string,
  wrapped: boolean,
  seen: Set<string>,
  check: (item: Record<string, unknown>) => boolean = () => true,
): void {
  const items = raw[name];
  need(Array.isArray(items), `${where}${name} must be an array`);
  (items as unknown[]).forEach((item, i) => {
    const record = isObject(item) && wrapped ? item.api : item;
    const id = isObject(record) ? record.id : undefined;
    need(isObject(item) && typeof id === 'string' && id.startsWith(prefix), `${where}${name}[${i}] has no ${prefix}… id`);
    need(!seen.has(id as string), `${where}${name}[${i}]: duplicate id ${String(id)}`);
    seen.add(id as string);
    need(check(item as Record<string, unknown>), `${where}${name}[${i}] (${String(id)}) is malformed`);
  });
}

function validateHeader(s: Record<string, unknown>): void {
  need(typeof s.publicUrl === 'string', 'publicUrl must be a string');
  need(Number.isInteger(s.clockOffsetSeconds), 'clockOffsetSeconds must be an integer');
  const modes = s.modes;
  need(
    isObject(modes) && (modes.payments === 'immediate' || modes.payments === 'processing') && (modes.refunds === 'immediate' || modes.refunds === 'pending'),
    'modes are malformed',
  );
}

/** One account's collections, at the top level of a version 1 file or in `accounts[i]`. */
function validateAccountData(s: Record<string, unknown>, where: string, seen: Set<string>): void {
  const check = (name: string, prefix: string, wrapped: boolean, ok?: (item: Record<string, unknown>) => boolean) =>
    collection(s, where, name, prefix, wrapped, seen, ok);
  check('customers', 'cus_', false);
  check('checkoutSessions', 'cs_', true, (r) => nullableString(r.pendingAuthentication));
  check('setupIntents', 'seti_', true, (r) => nullableString(r.checkoutSession) && nullableString(r.returnUrl));
  check('paymentMethods', 'pm_', true, (r) => typeof r.testCard === 'string' && TEST_CARD_KEYS.has(r.testCard) && typeof r.setupCompleted === 'boolean');
  check('paymentIntents', 'pi_', true, (r) => nullableString(r.returnUrl) && nullableString(r.pendingCharge));
  check('charges', 'ch_', true, (r) => Array.isArray(r.refunds) && r.refunds.every((x) => typeof x === 'string'));
  check('refunds', 're_', false);
  check('webhookEndpoints', 'we_', true, (r) => {
    const api = r.api as Record<string, unknown>;
    return (
      typeof r.secret === 'string' &&
      r.secret.startsWith('whsec_') &&
      typeof api.url === 'string' &&
      typeof api.status === 'string' &&
      Array.isArray(api.enabled_events) &&
      api.enabled_events.every((e) => typeof e === 'string')
    );
  });
  check('ephemeralKeys', 'ephkey_', false);
  check(
    'events',
    'evt_',
    false,
    (e) =>
      typeof e.type === 'string' &&
      typeof e.created === 'number' &&
      typeof e.pending_webhooks === 'number' &&
      isObject(e.data) &&
      isObject(e.data.object) &&
      isObject(e.request),
  );
  const idem = s.idempotency;
  need(Array.isArray(idem), `${where}idempotency must be an array`);
  (idem as unknown[]).forEach((e, i) => {
    const a = isObject(e) ? e.answer : undefined;
    need(
      isObject(e) &&
        typeof e.key === 'string' &&
        typeof e.fingerprint === 'string' &&
        typeof e.path === 'string' &&
        typeof e.createdAt === 'number' &&
        isObject(a) &&
        typeof a.status === 'number' &&
        typeof a.body === 'string' &&
        typeof a.requestId === 'string',
      `${where}idempotency[${i}] is malformed`,
    );
  });
}

function validateLegacyState(raw: unknown): LegacyState {
  need(isObject(raw), 'not an object');
  const s = raw as Record<string, unknown>;
  validateHeader(s);
  validateAccountData(s, '', new Set());
  return raw as unknown as LegacyState;
}

const ACCOUNT_ID = /^acct_[A-Za-z0-9]{16}$/;
const KEY_HASH = /^[0-9a-f]{64}$/;

function validateState(raw: unknown): SavedState {
  need(isObject(raw), 'not an object');
  const s = raw as Record<string, unknown>;
  validateHeader(s);
  need(Array.isArray(s.accounts), 'accounts must be an array');
  const accounts = s.accounts as unknown[];
  const seen = new Set<string>();
  const keyHashes = new Set<string>();
  accounts.forEach((a, i) => {
    const where = `accounts[${i}].`;
    need(isObject(a), `accounts[${i}] must be an object`);
    const account = a as Record<string, unknown>;
    need(typeof account.id === 'string' && ACCOUNT_ID.test(account.id), `${where}id must be acct_ and 16 letters or digits`);
    need(!seen.has(account.id as string), `${where}id: duplicate account ${String(account.id)}`);
    seen.add(account.id as string);
    need(Number.isInteger(account.created), `${where}created must be an integer`);
    need(
      account.keyHash === null || (typeof account.keyHash === 'string' && KEY_HASH.test(account.keyHash)),
      `${where}keyHash must be a SHA-256 (hex) or null`,
    );
    if (typeof account.keyHash === 'string') {
      need(!keyHashes.has(account.keyHash), `${where}keyHash: two accounts for one key`);
      keyHashes.add(account.keyHash);
    }
    need(typeof account.default === 'boolean', `${where}default must be true or false`);
    validateAccountData(account, where, seen);
  });
  // What accounts.ts can be in: one default account, and one without a key only before the first key used has claimed it.
  need(accounts.length === 0 || accounts.filter((a) => (a as SavedAccount).default).length === 1, 'exactly one account must be the default');
  need(accounts.every((a) => (a as SavedAccount).keyHash !== null) || accounts.length === 1, 'an account without a key must be the only one');
  return raw as unknown as SavedState;
}

/** Masks card-number-like digit runs in an error answer's texts; ids and secrets are left alone. */
function maskErrorBody(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return maskCardNumbers(body);
  }
  const masked = maskStrings(parsed);
  return JSON.stringify(masked, null, 2);
}

const ID_LIKE = /^[a-z][a-z0-9]*_[A-Za-z0-9_]+$/;

function maskStrings(value: unknown): unknown {
  if (typeof value === 'string') return ID_LIKE.test(value) ? value : maskCardNumbers(value);
  if (Array.isArray(value)) return value.map(maskStrings);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskStrings(v);
    return out;
  }
  return value;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
