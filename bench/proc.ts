/**
 * What the benchmark reads about processes, from Linux's /proc: CPU time (utime + stime, every
 * thread of the process) and resident memory; and the CPU of the PostgreSQL backends serving one
 * database, found through pg_stat_activity.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Knex } from 'knex';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of the process in ms, or undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Resident set size in MB, or NaN once the process is gone. */
export function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The CPU of a set of processes between `start` and `stop`, by their delta (a process started meanwhile counts from zero). */
export interface CpuMeter {
  stop(): Promise<number>;
}

export function meterProcess(pid: number): CpuMeter {
  const before = cpuMs(pid) ?? 0;
  return { stop: async () => (cpuMs(pid) ?? before) - before };
}

const POLL_MS = 250;

/**
 * The CPU of the PostgreSQL backends connected to `database` (client backends and autovacuum
 * workers), polled every 250 ms so backends that come and go during the measurement are seen;
 * the server's shared processes (WAL writer, checkpointer, background writer) are not counted.
 * `admin` must be connected to another database so the polling is not counted.
 */
export async function meterBackends(admin: Knex, database: string): Promise<CpuMeter> {
  const baseline = new Map<number, number>();
  const last = new Map<number, number>();
  const pids = async (): Promise<number[]> =>
    ((await admin.raw('select pid from pg_stat_activity where datname = ?', [database])) as { rows: { pid: number }[] }).rows.map((r) => r.pid);
  const read = (pid: number, isNew: boolean): void => {
    const ms = cpuMs(pid);
    if (ms === undefined) return;
    if (!baseline.has(pid)) baseline.set(pid, isNew ? 0 : ms);
    last.set(pid, ms);
  };
  for (const pid of await pids()) read(pid, false);
  const poll = async (): Promise<void> => {
    for (const pid of last.keys()) read(pid, false);
    for (const pid of await pids()) if (!baseline.has(pid)) read(pid, true);
  };
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(poll).catch(() => undefined);
  }, POLL_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await polling;
      await poll();
      let total = 0;
      for (const [pid, ms] of last) total += ms - (baseline.get(pid) ?? ms);
      return total;
    },
  };
}
