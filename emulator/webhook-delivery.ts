/**
 * Signed webhook delivery, one dispatcher for every account. Each event goes to each enabled
 * endpoint of its own account whose `enabled_events` match, as a POST signed like Stripe's
 * (`Stripe-Signature: t=<unix>,v1=<HMAC-SHA256>`), never inside the API request that caused it.
 * Each endpoint has its own lane: one delivery at a time, in event order; a non-2xx answer or a
 * network error is retried after `retryDelaysMs` (3 attempts in all by default) before the lane
 * moves on.
 *
 * Tests bend delivery the ways Stripe's own can go wrong: held and released out of order,
 * duplicated, lost, failed, redelivered. These controls act on every account at once. `settle()`
 * resolves when nothing is left to send.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Account } from './accounts';
import type { EmulatorRuntime } from './api-routes';
import { typeMatches } from './resources/events';
import type { EmulatorEvent, StoredWebhookEndpoint } from './store';
import type { ReleaseOptions, WebhookDelivery } from './types';

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [50, 200];
const DEFAULT_TIMEOUT_MS = 10_000;
const USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';

interface Job {
  event: EmulatorEvent;
  endpointId: string;
  /** Attempts made so far. */
  attempts: number;
}

/** One endpoint's deliveries; an endpoint belongs to one account. */
interface Lane {
  account: Account;
  queue: Job[];
  /** A delivery is in flight or waiting for its retry: the lane keeps its order by waiting too. */
  busy: boolean;
  retryTimer?: NodeJS.Timeout;
  inFlight?: AbortController;
  /** The account was reset: whatever is still running for this lane stops without a trace. */
  dropped?: boolean;
}

interface LoseRule {
  remaining: number;
  type?: string;
}

export interface DispatcherOptions {
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
  /** Called when delivery changes stored state (an event's pending_webhooks), for the state file. */
  onStateChange?: () => void;
}

/** The signature header value stripe.webhooks.constructEvent verifies. */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export class WebhookDispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly log: WebhookDelivery[] = [];
  private loseRule: LoseRule | null = null;
  private readonly acknowledged = new Set<string>();
  private readonly retryDelaysMs: readonly number[];
  private readonly timeoutMs: number;
  private readonly onStateChange: () => void;
  private waiters: Array<() => void> = [];
  private paused = false;
  private duplicate = false;
  private failNext = 0;
  private closed = false;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly runtime: EmulatorRuntime,
    options: DispatcherOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onStateChange = options.onStateChange ?? (() => undefined);
    for (const d of this.retryDelaysMs) {
      if (!Number.isFinite(d) || d < 0) throw new TypeError('webhookRetryDelaysMs must be non-negative numbers');
    }
  }

  /** Delivers the account's events to the account's endpoints from now on. */
  watch(account: Account): void {
    account.store.onEvent((event) => this.enqueue(account, event, true));
  }

  /** The account is gone (reset): its queued deliveries and retries are dropped, one in flight is aborted. */
  forget(account: Account): void {
    for (const [endpointId, lane] of this.lanes) {
      if (lane.account !== account) continue;
      lane.dropped = true;
      if (lane.retryTimer) clearTimeout(lane.retryTimer);
      lane.inFlight?.abort();
      this.lanes.delete(endpointId);
    }
    this.checkIdle();
  }

  deliveries(): WebhookDelivery[] {
    return structuredClone(this.log);
  }

  /** Resolves once nothing is queued, in flight or waiting to be retried (deliveries held by `pause` do not count). */
  settle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  pause(): void {
    this.paused = true;
  }

  /** Sends what `pause` held, optionally reversed and/or with every delivery doubled, then delivers normally again. */
  release(opts: ReleaseOptions = {}): void {
    for (const lane of this.lanes.values()) {
      let queue = opts.order === 'reverse' ? [...lane.queue].reverse() : lane.queue;
      if (opts.duplicate) queue = queue.flatMap((job) => [job, { ...job, attempts: 0 }]);
      lane.queue = queue;
    }
    this.paused = false;
    this.pumpAll();
    this.checkIdle();
  }

  setDuplicate(on: boolean): void {
    this.duplicate = on;
  }

  /** Replaces any earlier loss still pending: `lose(0)` stops losing. */
  lose(count: number, filter: { type?: string } = {}): void {
    if (!Number.isInteger(count) || count < 0) throw new TypeError('loseWebhooks: count must be a non-negative integer');
    this.loseRule = count === 0 ? null : { remaining: count, ...(filter.type !== undefined ? { type: filter.type } : {}) };
  }

  /** Replaces any earlier count still pending: `failNextAttempts(0)` stops failing. */
  failNextAttempts(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new TypeError('failWebhookDeliveries: count must be a non-negative integer');
    this.failNext = count;
  }

  /** Sends one of the account's events again to every endpoint of it that matches now, as the Dashboard's "Resend" does. */
  redeliver(account: Account, event: EmulatorEvent): void {
    this.enqueue(account, event, false);
  }

  /** Stops for good: timers cleared, requests in flight aborted, waiters released. */
  stop(): void {
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    for (const lane of this.lanes.values()) {
      if (lane.retryTimer) clearTimeout(lane.retryTimer);
      lane.inFlight?.abort();
      lane.queue = [];
      lane.busy = false;
    }
    this.resolveWaiters();
  }

  private enqueue(account: Account, event: EmulatorEvent, fresh: boolean): void {
    if (this.closed) return;
    for (const endpoint of account.store.webhookEndpoints.values()) {
      if (!matches(endpoint, event)) continue;
      if (fresh) event.pending_webhooks += 1;
      const lane = this.lane(account, endpoint.api.id);
      lane.queue.push({ event, endpointId: endpoint.api.id, attempts: 0 });
      if (this.duplicate) lane.queue.push({ event, endpointId: endpoint.api.id, attempts: 0 });
    }
    // Never inside the request that emitted the event: the lanes start on a later turn.
    if (!this.scheduled) {
      this.scheduled = setImmediate(() => {
        this.scheduled = undefined;
        this.pumpAll();
      });
    }
  }

  private lane(account: Account, endpointId: string): Lane {
    let lane = this.lanes.get(endpointId);
    if (!lane) {
      lane = { account, queue: [], busy: false };
      this.lanes.set(endpointId, lane);
    }
    return lane;
  }

  private pumpAll(): void {
    for (const lane of this.lanes.values()) this.pump(lane);
  }

  private pump(lane: Lane): void {
    if (this.closed || this.paused || lane.busy || lane.dropped) return;
    const job = lane.queue.shift();
    if (!job) return;
    lane.busy = true;
    this.attempt(lane, job).catch((err: unknown) => {
      this.runtime.log('webhook delivery error', { error: err instanceof Error ? err.message : String(err) });
      this.done(lane);
    });
  }

  private async attempt(lane: Lane, job: Job): Promise<void> {
    const endpoint = lane.account.store.webhookEndpoints.get(job.endpointId);
    if (!endpoint || endpoint.api.status !== 'enabled') return this.done(lane);
    job.attempts += 1;
    const record = (status: number | null, error?: string) => {
      const entry: WebhookDelivery = {
        eventId: job.event.id,
        type: job.event.type,
        endpointId: job.endpointId,
        account: lane.account.id,
        attempt: job.attempts,
        status,
        ...(error !== undefined ? { error } : {}),
        at: Date.now(),
      };
      this.log.push(entry);
      this.runtime.log('webhook delivery', { ...entry });
    };

    if (job.attempts === 1 && this.takeLoseRule(job.event.type)) {
      record(null, 'lost (loseWebhooks): not sent, not retried');
      return this.done(lane);
    }
    let ok: boolean;
    if (this.failNext > 0) {
      this.failNext -= 1;
      record(null, 'failed (failWebhookDeliveries): not sent');
      ok = false;
    } else {
      const result = await this.send(lane, endpoint, job.event);
      if (this.closed || lane.dropped) return;
      record(result.status, result.error);
      ok = result.status !== null && result.status >= 200 && result.status < 300;
    }
    if (ok) {
      const key = `${job.event.id} ${job.endpointId}`;
      if (!this.acknowledged.has(key)) {
        this.acknowledged.add(key);
        job.event.pending_webhooks = Math.max(0, job.event.pending_webhooks - 1);
        this.onStateChange();
      }
      return this.done(lane);
    }
    const delay = this.retryDelaysMs[job.attempts - 1];
    if (delay === undefined) return this.done(lane);
    lane.retryTimer = setTimeout(() => {
      lane.retryTimer = undefined;
      lane.queue.unshift(job);
      lane.busy = false;
      this.pump(lane);
      this.checkIdle();
    }, delay);
  }

  private done(lane: Lane): void {
    lane.busy = false;
    this.pump(lane);
    this.checkIdle();
  }

  private takeLoseRule(type: string): boolean {
    const rule = this.loseRule;
    if (!rule || (rule.type !== undefined && !typeMatches(rule.type, type))) return false;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.loseRule = null;
    return true;
  }

  private send(lane: Lane, endpoint: StoredWebhookEndpoint, event: EmulatorEvent): Promise<{ status: number | null; error?: string }> {
    const body = JSON.stringify(event, null, 2);
    // Real wall-clock time, not the emulator clock: the receiver checks the timestamp against its own clock.
    const header = signatureHeader(endpoint.secret, body, Math.floor(Date.now() / 1000));
    const url = new URL(endpoint.api.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const abort = new AbortController();
    lane.inFlight = abort;
    return new Promise((resolve) => {
      const finish = (result: { status: number | null; error?: string }) => {
        lane.inFlight = undefined;
        resolve(result);
      };
      const req = send(
        url,
        {
          method: 'POST',
          agent: false,
          signal: abort.signal,
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(body),
            'User-Agent': USER_AGENT,
            'Stripe-Signature': header,
            Accept: '*/*; q=0.5, application/xml',
            'Cache-Control': 'no-cache',
            Connection: 'close',
          },
        },
        (res: IncomingMessage) => {
          res.resume();
          res.on('end', () => finish({ status: res.statusCode ?? null }));
          res.on('error', () => finish({ status: res.statusCode ?? null }));
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => finish({ status: null, error: err.message }));
      req.end(body);
    });
  }

  private idle(): boolean {
    if (this.closed) return true;
    for (const lane of this.lanes.values()) {
      if (lane.busy) return false;
      if (!this.paused && lane.queue.length > 0) return false;
    }
    return true;
  }

  private checkIdle(): void {
    if (this.idle()) this.resolveWaiters();
  }

  private resolveWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

function matches(endpoint: StoredWebhookEndpoint, event: EmulatorEvent): boolean {
  return endpoint.api.status === 'enabled' && endpoint.api.enabled_events.some((e) => typeMatches(e, event.type));
}
