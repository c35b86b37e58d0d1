import { Router } from 'express';
import { isAppError } from '../shared/app-error';
import { pingDatabase } from '../db';
import type { Deps } from '../shared/deps';

export interface Lifecycle {
  /** Set when shutdown begins so load balancers stop sending traffic before connections close. */
  shuttingDown: boolean;
}

interface CheckResult {
  status: 'ok' | 'fail';
  latency_ms: number;
  error?: string;
  /** For the log only. */
  detail?: string;
}

const CHECK_TIMEOUT_MS = 3000;
/** Probes come every few seconds from every load balancer: Stripe is asked at most this often. */
const STRIPE_CHECK_CACHE_MS = 5000;

async function timed(fn: () => Promise<unknown>): Promise<CheckResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', latency_ms: elapsed() };
  } catch (err) {
    // Only a short reason here (the endpoint is unauthenticated); the detail goes to the log.
    const reason =
      isAppError(err) && err.code === 'stripe_auth'
        ? 'API key refused'
        : err instanceof Error && err.message.startsWith('no answer')
          ? 'timeout'
          : 'unreachable';
    return { status: 'fail', latency_ms: elapsed(), error: reason, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness (the process answers) and readiness (it can do its job: database and Stripe reachable). */
export function createHealthRouter(deps: Deps, lifecycle: Lifecycle): Router {
  const router = Router();

  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });

  let stripeCheck: { at: number; result: Promise<CheckResult> } | undefined;
  const checkStripe = (): Promise<CheckResult> => {
    const now = Date.now();
    if (!stripeCheck || now - stripeCheck.at > STRIPE_CHECK_CACHE_MS)
      stripeCheck = {
        at: now,
        result: timed(async () => {
          // Which account the key acts on must be known (cached once it is), and the key must read.
          await deps.stripeAccounts.defaultAccount();
          await deps.stripeAccounts.defaultGateway().ping();
        }),
      };
    return stripeCheck.result;
  };

  router.get('/health/ready', async (req, res) => {
    const [database, stripe] = await Promise.all([timed(() => pingDatabase(deps.db)), checkStripe()]);
    const all = { database, stripe: { ...stripe, mode: deps.config.stripe.mode } };
    const failing = Object.entries(all)
      .filter(([, c]) => c.status === 'fail')
      .map(([name]) => name);
    if (lifecycle.shuttingDown) failing.push('shutting_down');
    const checks = Object.fromEntries(Object.entries(all).map(([name, { detail: _detail, ...shown }]) => [name, shown]));
    if (failing.length > 0) {
      req.log.warn({ failing, checks: all }, 'not ready');
      res.status(503).json({ status: 'unavailable', failing, checks });
      return;
    }
    res.json({ status: 'ok', checks });
  });

  return router;
}
