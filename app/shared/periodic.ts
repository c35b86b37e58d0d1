import type { Logger } from './logger';

export interface PeriodicHandle {
  /** Stops the timer and waits for a pass in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` (and at once with `immediately`), never two at once in this
 * process; a failed pass is logged as `failureMessage`.
 */
export function runPeriodically(
  pass: () => Promise<unknown>,
  intervalMs: number,
  logger: Logger,
  failureMessage: string,
  options: { immediately?: boolean } = {},
): PeriodicHandle {
  let running: Promise<unknown> | undefined;
  const tick = (): void => {
    if (running) return;
    running = pass()
      .catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, failureMessage))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  if (options.immediately) tick();
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
