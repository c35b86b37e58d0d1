import { AppError, isAppError } from '../shared/app-error';
import type { Logger } from '../shared/logger';
import { createStripeClient, createStripeGateway, type StripeClientOptions, type StripeGateway } from './stripe-gateway';

/**
 * Many Stripe accounts, one door each. A key is known to the registry; which Stripe account it
 * acts on is asked of Stripe (`GET /v1/account`) and recorded as a row, so every row the core
 * writes names the account its Stripe objects live in. A swapped key (sandbox -> test mode, a
 * reset emulator) is then a different account, not a source of "no such customer" errors.
 */

/** The door to one Stripe account. `accountId` is our row id (`stripe_accounts.id`). */
export interface StripeDoor {
  accountId: number;
  stripeAccountId: string;
  /** Test and live mode of one account are apart: their objects and events never mix. */
  livemode: boolean;
  gateway: StripeGateway;
  /** Every secret that may sign this account's webhooks. */
  webhookSecrets: readonly string[];
}

/** Where the registry keeps which Stripe accounts it has seen (a repository, injected). */
export interface StripeAccountStore {
  /**
   * The row for a Stripe account, made on first sight. `claimLegacy` is asked when the account is
   * new and a row from before accounts were recorded waits for its acct_ id, with a few of that
   * row's customers; it answers whether they live in this account (then the row becomes its).
   */
  recordAccount(stripeAccountId: string, livemode: boolean, label: string, claimLegacy: (sampleCustomerIds: string[]) => Promise<boolean>): Promise<number>;
}

export interface KeyedAccount {
  /** How the account is named in logs and rows ("default", a vendor's name). Never the key. */
  label: string;
  gateway: StripeGateway;
  livemode: boolean;
  webhookSecrets: readonly string[];
}

export interface StripeAccounts {
  /** The configured account (STRIPE_SECRET_KEY, or the sandbox emulator). */
  defaultAccount(): Promise<StripeDoor>;
  /** The door for a row's account. */
  forAccount(accountId: number): Promise<StripeDoor>;
  /** The door for a Stripe account id (acct_...), for webhooks addressed to it. */
  forStripeAccount(stripeAccountId: string): Promise<StripeDoor | undefined>;
  /**
   * Asks Stripe again which account the default key acts on: after "no such customer" the key
   * may have been swapped or the account reset under us. Returns the (possibly new) door.
   */
  refreshDefault(): Promise<StripeDoor>;
  /** Adds an account known by its key (a vendor). Resolved with Stripe on first use. */
  add(account: KeyedAccount): void;
  /** The door of a keyed account (added first if it is new): asks Stripe which account the key acts on, once. */
  doorOf(account: KeyedAccount): Promise<StripeDoor>;
  /** The default key's door without asking Stripe which account it is (readiness checks). */
  defaultGateway(): StripeGateway;
}

const FAILED_LOOKUP_HOLD_MS = 5000;

export function createStripeAccounts(options: { defaultAccount: KeyedAccount; store: StripeAccountStore; logger: Logger }): StripeAccounts {
  const keyed: KeyedAccount[] = [options.defaultAccount];
  /** What each keyed account resolved to; a failed resolution is forgotten so the next call retries. */
  const resolving = new Map<KeyedAccount, Promise<StripeDoor>>();
  const byId = new Map<number, StripeDoor>();

  /** Keys asked of Stripe at least once: a failed one is asked again only when a door is missing. */
  const tried = new WeakSet<KeyedAccount>();

  const resolve = (account: KeyedAccount): Promise<StripeDoor> => {
    const known = resolving.get(account);
    if (known) return known;
    tried.add(account);
    const attempt = (async () => {
      const { id: stripeAccountId } = await account.gateway.retrieveAccount();
      const accountId = await options.store.recordAccount(stripeAccountId, account.livemode, account.label, async (samples) => {
        if (samples.length === 0) return true;
        // A deleted customer still proves the account held it.
        for (const sample of samples) if ((await account.gateway.customerState(sample)) !== 'missing') return true;
        return false;
      });
      const own: StripeDoor = { accountId, stripeAccountId, livemode: account.livemode, gateway: account.gateway, webhookSecrets: account.webhookSecrets };
      const earlier = byId.get(accountId);
      // Two keys of one Stripe account (two vendors registering it, a rotated key): one door that
      // keeps the first key for calls and verifies webhooks with the secrets of both.
      const door = earlier && earlier.gateway !== account.gateway ? joinDoors(earlier, own) : own;
      byId.set(accountId, door);
      options.logger.info({ label: account.label, stripeAccountId, accountId, sharedWithEarlierKey: door !== own }, 'Stripe account resolved');
      return door;
    })();
    resolving.set(account, attempt);
    // A failure is kept a few seconds: during an outage every request must not ask Stripe again.
    attempt.catch(() => setTimeout(() => resolving.get(account) === attempt && resolving.delete(account), FAILED_LOOKUP_HOLD_MS).unref());
    return attempt;
  };

  const resolveAll = () => Promise.allSettled(keyed.map(resolve));
  /**
   * Before a door is handed out: keys added since (a vendor registered now) join their account's
   * door first; every key again (a failed one after its hold) only when the door is not known.
   * So a vendor whose key Stripe refuses does not cost a Stripe call on every other request.
   */
  const resolveFor = async (known: () => boolean): Promise<void> => {
    await Promise.allSettled(keyed.filter((k) => !tried.has(k)).map(resolve));
    if (!known()) await resolveAll();
  };

  return {
    defaultAccount: () => resolve(options.defaultAccount),
    async forAccount(accountId) {
      await resolveFor(() => byId.has(accountId));
      const door = byId.get(accountId);
      if (!door) {
        // The message reaches clients: it names no internal id (the log has it through details).
        throw new AppError('upstream_failed', 'This was made in a Stripe account the service no longer has a key for', {
          code: 'stripe_account_unknown',
          details: { accountId },
        });
      }
      return door;
    },
    async forStripeAccount(stripeAccountId) {
      const find = () => [...byId.values()].find((d) => d.stripeAccountId === stripeAccountId);
      await resolveFor(() => find() !== undefined);
      return find();
    },
    async refreshDefault() {
      const before = await resolve(options.defaultAccount).catch(() => undefined);
      resolving.delete(options.defaultAccount);
      const after = await resolve(options.defaultAccount);
      if (before && before.accountId !== after.accountId) {
        // The old account's rows stay as its history; they are no longer reachable with this key.
        byId.delete(before.accountId);
        options.logger.warn({ from: before.stripeAccountId, to: after.stripeAccountId }, 'the default Stripe key now acts on another Stripe account');
      }
      return after;
    },
    add(account) {
      if (!keyed.includes(account)) keyed.push(account);
    },
    doorOf(account) {
      if (!keyed.includes(account)) keyed.push(account);
      return resolve(account);
    },
    defaultGateway: () => options.defaultAccount.gateway,
  };
}

/** One door for two keys of one account: calls through the first, webhooks verified by either's secrets. */
function joinDoors(first: StripeDoor, second: StripeDoor): StripeDoor {
  const verifiers = [first.gateway, second.gateway];
  const verifyWebhook: StripeGateway['verifyWebhook'] = (rawBody, signatureHeader) => {
    let failure: unknown;
    for (const gateway of verifiers) {
      try {
        return gateway.verifyWebhook(rawBody, signatureHeader);
      } catch (err) {
        failure ??= err;
        // A gateway without secrets answers `forbidden`: a real signature failure is the better answer.
        if (isAppError(err) && err.kind === 'invalid_input') failure = err;
      }
    }
    throw failure;
  };
  return {
    ...first,
    webhookSecrets: [...new Set([...first.webhookSecrets, ...second.webhookSecrets])],
    gateway: { ...first.gateway, verifyWebhook },
  };
}

/** A keyed account: its stripe-node client (one per key, kept by the registry) and its door. */
export function keyedAccount(options: StripeClientOptions & { label: string; webhookSecrets: readonly string[]; idempotencyPrefix: string }): KeyedAccount {
  const gateway = createStripeGateway(createStripeClient(options), { webhookSecrets: options.webhookSecrets, idempotencyPrefix: options.idempotencyPrefix });
  return { label: options.label, gateway, livemode: options.secretKey.includes('_live_'), webhookSecrets: options.webhookSecrets };
}
