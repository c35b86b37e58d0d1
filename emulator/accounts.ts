/**
 * Stripe accounts, one per secret key. This is the one place that maps a key to its account:
 * /v1 requests, control calls and in-process methods that name a key all come through here.
 *
 * Each account has its own objects, events and webhook endpoints (its Store) and its own
 * idempotency keys. Keys are not kept: accounts are found by the key's SHA-256, which is also all
 * a state file holds of a key.
 *
 * The default account (for in-process methods and control calls that name no key) is the first
 * key's of `apiKey`; without `apiKey`, the account of the first key used. Until a key is used that
 * account exists unclaimed, so what comes before the first request (a webhook endpoint registered
 * in-process, an old single-account state file) is in the account the first key then takes over.
 */
import { hashKey, isLiveKey, maskKey, readApiKey } from './api-keys';
import type { EmulatorClock } from './clock';
import { IdempotencyStore } from './idempotency';
import { newId } from './ids';
import { Store, type Modes } from './store';
import { EmulatorApiError, unauthorized } from './stripe-errors';

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

export interface AccountIdentity {
  /** `acct_` + 16 alphanumerics. */
  readonly id: string;
  /** Unix seconds, emulator clock. */
  readonly created: number;
}

export class Account implements AccountIdentity {
  readonly store: Store;
  readonly idempotency: IdempotencyStore;

  constructor(
    readonly id: string,
    readonly created: number,
    clock: EmulatorClock,
    modes: Modes,
  ) {
    this.store = new Store(clock, modes);
    this.idempotency = new IdempotencyStore(clock);
  }
}

export interface AccountHooks {
  /** An account came into being: first use of a key, a reset, a state file restored. */
  opened(account: Account): void;
  /** An account was replaced (reset, restore): nothing may reach it any more. */
  closed(account: Account): void;
}

/** Where an account sits, as a state file records it. */
export interface AccountSlot {
  /** SHA-256 of its key; null for the default account while no key has claimed it. */
  keyHash: string | null;
  isDefault: boolean;
}

export interface RegistryOptions {
  /** The accepted keys; undefined: any sk_test_ key. */
  apiKeys: string | readonly string[] | undefined;
  /** With apiKeys: any other sk_test_ key is accepted as well. */
  acceptOtherTestKeys: boolean;
  clock: EmulatorClock;
  modes: Modes;
  hooks: AccountHooks;
}

export class AccountRegistry {
  private readonly byKeyHash = new Map<string, Account>();
  /** Hashes of the configured keys, in order; undefined: any sk_test_ key is accepted. */
  private readonly configured: readonly string[] | undefined;
  private defaultKeyHash: string | undefined;
  /** The default account while no key has claimed it (only without configured keys). */
  private unclaimed: Account | undefined;

  constructor(private readonly options: RegistryOptions) {
    this.configured = configuredHashes(options.apiKeys);
    for (const hash of this.configured ?? []) this.byKeyHash.set(hash, this.open());
    this.defaultKeyHash = this.configured?.[0];
  }

  /** The account of the key in an Authorization header, or the 401 Stripe answers. */
  authenticate(header: string | undefined): Account | EmulatorApiError {
    return this.authenticateKey(readApiKey(header));
  }

  /** For in-process callers: the key's account, or the EmulatorApiError (401) a request with it would get. */
  requireKey(key: string): Account {
    if (typeof key !== 'string') throw new TypeError('apiKey must be a string');
    const account = this.authenticateKey(key);
    if (account instanceof EmulatorApiError) throw account;
    return account;
  }

  /** The default account: the first configured key's, else the first key used's (unclaimed until then). */
  default(): Account {
    const claimed = this.defaultKeyHash !== undefined ? this.byKeyHash.get(this.defaultKeyHash) : undefined;
    if (claimed) return claimed;
    this.unclaimed ??= this.open();
    return this.unclaimed;
  }

  /** Every account. */
  all(): Account[] {
    return [...(this.unclaimed ? [this.unclaimed] : []), ...this.byKeyHash.values()];
  }

  /** The account holding an object or event; ids are unique across accounts. */
  holding(id: string): Account | undefined {
    return this.all().find((account) => account.store.holds(id));
  }

  /**
   * "The account was reset" (or the key now belongs to another account): its key gets an empty
   * account with a new id, and the old one with everything in it is gone. Other accounts are untouched.
   */
  reset(previous: Account): Account {
    const keyHash = [...this.byKeyHash].find(([, account]) => account === previous)?.[0];
    if (keyHash === undefined) throw new Error(`account ${previous.id} has no key`);
    const current = this.open();
    this.byKeyHash.set(keyHash, current);
    this.options.hooks.closed(previous);
    return current;
  }

  /** Every account with its slot, for a state file. */
  slots(): Array<AccountSlot & { account: Account }> {
    const keyed = [...this.byKeyHash].map(([keyHash, account]) => ({ keyHash, isDefault: keyHash === this.defaultKeyHash, account }));
    return [...(this.unclaimed ? [{ keyHash: null, isDefault: true, account: this.unclaimed }] : []), ...keyed];
  }

  /**
   * Replaces every account with the ones a state file held, in the same order. An account without
   * a key (the unclaimed default, or an old single-account file's) becomes the first configured
   * key's or, without configured keys, the unclaimed default account again. With configured keys
   * the first one's account is the default whatever the file says.
   */
  restore(saved: ReadonlyArray<AccountSlot & AccountIdentity>): Account[] {
    for (const account of this.all()) this.options.hooks.closed(account);
    this.byKeyHash.clear();
    this.unclaimed = undefined;
    let defaultKeyHash = this.configured?.[0];
    const restored = saved.map((slot) => {
      const account = this.open(slot.id, slot.created);
      const keyHash = slot.keyHash ?? this.configured?.[0];
      if (keyHash !== undefined) this.byKeyHash.set(keyHash, account);
      else this.unclaimed = account;
      if (this.configured === undefined && slot.isDefault) defaultKeyHash = keyHash;
      return account;
    });
    for (const hash of this.configured ?? []) if (!this.byKeyHash.has(hash)) this.byKeyHash.set(hash, this.open());
    this.defaultKeyHash = defaultKeyHash;
    return restored;
  }

  private authenticateKey(key: string | undefined): Account | EmulatorApiError {
    if (key === undefined || key === '') return unauthorized(NO_KEY);
    if (isLiveKey(key)) return unauthorized(`Invalid API Key provided: ${maskKey(key)} (the emulator never accepts live-mode keys)`);
    return this.accountOf(key) ?? unauthorized(`Invalid API Key provided: ${maskKey(key)}`);
  }

  /** An accepted key's account, made on first use; undefined when the key is not accepted. */
  private accountOf(key: string): Account | undefined {
    const hash = hashKey(key);
    const accepted =
      this.configured !== undefined
        ? this.configured.includes(hash) || (this.options.acceptOtherTestKeys && key.startsWith('sk_test_'))
        : key.startsWith('sk_test_');
    if (!accepted) return undefined;
    return this.byKeyHash.get(hash) ?? this.claim(hash);
  }

  /** A new key: the first one takes the default account (perhaps already in use in-process); later ones get a new account. */
  private claim(hash: string): Account {
    let account: Account;
    if (this.defaultKeyHash === undefined) {
      account = this.unclaimed ?? this.open();
      this.unclaimed = undefined;
      this.defaultKeyHash = hash;
    } else {
      account = this.open();
    }
    this.byKeyHash.set(hash, account);
    return account;
  }

  private open(id = newId.account(), created = this.options.clock.now()): Account {
    const account = new Account(id, created, this.options.clock, this.options.modes);
    this.options.hooks.opened(account);
    return account;
  }
}

function configuredHashes(apiKeys: string | readonly string[] | undefined): readonly string[] | undefined {
  if (apiKeys === undefined) return undefined;
  const keys = typeof apiKeys === 'string' ? [apiKeys] : apiKeys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' && k !== '')) {
    throw new TypeError('apiKey must be a key or a non-empty array of keys');
  }
  return [...new Set(keys.map(hashKey))];
}
