import { Router } from 'express';
import type { Deps } from '../shared/deps';

export interface Lifecycle {
  /** Set when shutdown begins so load balancers stop sending traffic before connections close. */
  shuttingDown: boolean;
}

interface CheckResult {
  status: 'ok' | 'fail';
  latency_ms: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 3000;

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
    return { status: 'fail', latency_ms: elapsed(), error: err instanceof Error ? err.message : 'failed' };
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

  router.get('/health/ready', async (req, res) => {
    const [database, stripe] = await Promise.all([timed(() => deps.db.raw('select 1')), timed(() => deps.stripe.ping())]);
    const checks = { database, stripe: { ...stripe, mode: deps.config.stripe.mode } };
    const failing = Object.entries(checks).filter(([, c]) => c.status === 'fail').map(([name]) => name);
    if (lifecycle.shuttingDown) failing.push('shutting_down');
    if (failing.length > 0) {
      req.log.warn({ failing, checks }, 'not ready');
      res.status(503).json({ status: 'unavailable', failing, checks });
      return;
    }
    res.json({ status: 'ok', checks });
  });

  return router;
}
