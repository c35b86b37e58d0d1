/** The benchmark's tables: one per database and flow, the service beside the floor, medians of the runs. */

export interface CellMetrics {
  /** CPU of the service (or floor) process per completed flow, ms. */
  cpuMs: number;
  /** CPU of the database's backends per completed flow, ms (PostgreSQL only; PGlite runs inside the service). */
  dbCpuMs?: number;
  flowsPerS: number;
  p50Ms: number;
  p99Ms: number;
  stripeCalls: number;
  roundTrips?: number;
  /** Of `roundTrips`, those made after the load ended, while the service finished what the flows left (payment events). */
  laterRoundTrips?: number;
  rssMb: number;
  errors: number;
  firstError?: string;
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The median of each figure over the runs (errors are summed). */
export function medianCell(runs: CellMetrics[]): CellMetrics {
  const m = (pick: (c: CellMetrics) => number | undefined) => median(runs.map((r) => pick(r) ?? NaN));
  return {
    cpuMs: m((c) => c.cpuMs),
    dbCpuMs: runs.some((r) => r.dbCpuMs !== undefined) ? m((c) => c.dbCpuMs) : undefined,
    flowsPerS: m((c) => c.flowsPerS),
    p50Ms: m((c) => c.p50Ms),
    p99Ms: m((c) => c.p99Ms),
    stripeCalls: m((c) => c.stripeCalls),
    roundTrips: runs.some((r) => r.roundTrips !== undefined) ? m((c) => c.roundTrips) : undefined,
    laterRoundTrips: runs.some((r) => r.laterRoundTrips !== undefined) ? m((c) => c.laterRoundTrips) : undefined,
    rssMb: m((c) => c.rssMb),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    firstError: runs.find((r) => r.firstError)?.firstError,
  };
}

const f = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–');

export interface Row {
  concurrency: number;
  service: CellMetrics;
  floor: CellMetrics;
  /** Each run's own measurements, in order (service and floor measured one after the other). */
  runs?: { service: CellMetrics; floor: CellMetrics }[];
}

/**
 * One flow's table. "÷ floor" is service ÷ floor: for CPU the service alone and the service with
 * its database; for throughput the service's flows/s over the floor's.
 */
export function flowTable(rows: Row[], inProcessDb: boolean): string {
  const lines = [
    '| concurrency | service CPU ms/flow | + DB CPU ms/flow | floor CPU ms/flow | CPU ÷ floor (service / + DB) | flows/s (floor) | ÷ floor | p50 ms (floor) | p99 ms (floor) | Stripe calls/flow (floor) | DB round trips/flow | RSS MB (floor) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { concurrency, service: s, floor: fl } of rows) {
    const withDb = inProcessDb ? s.cpuMs : s.cpuMs + (s.dbCpuMs ?? NaN);
    lines.push(
      `| ${concurrency} | ${f(s.cpuMs, 2)} | ${inProcessDb ? 'in process' : f(s.dbCpuMs, 2)} | ${f(fl.cpuMs, 2)} | ${ratio(s.cpuMs, fl.cpuMs)} / ${ratio(withDb, fl.cpuMs)} | ${f(s.flowsPerS, 0)} (${f(fl.flowsPerS, 0)}) | ${ratio(s.flowsPerS, fl.flowsPerS)} | ${f(s.p50Ms)} (${f(fl.p50Ms)}) | ${f(s.p99Ms)} (${f(fl.p99Ms)}) | ${f(s.stripeCalls, 2)} (${f(fl.stripeCalls, 2)}) | ${f(s.roundTrips)}${(s.laterRoundTrips ?? 0) >= 0.2 ? ` (${f(s.laterRoundTrips)} later)` : ''} | ${f(s.rssMb, 0)} (${f(fl.rssMb, 0)}) |`,
    );
  }
  // The medians' ratio is the table's; each run's own pair shows how far one run is from another
  // (the floor's figure moves by a third between runs on a shared machine).
  const spread = rows
    .filter((r) => (r.runs?.length ?? 0) > 1)
    .map((r) => {
      const pairs = (r.runs ?? []).map(({ service: s, floor: fl }) => {
        const withDb = inProcessDb ? s.cpuMs : s.cpuMs + (s.dbCpuMs ?? NaN);
        return `${ratio(s.cpuMs, fl.cpuMs)} / ${ratio(withDb, fl.cpuMs)}`;
      });
      return `- concurrency ${r.concurrency}: ${pairs.join(', ')}`;
    });
  if (spread.length > 0) lines.push('', "CPU ÷ floor of each run's own pair (service / + DB):", ...spread);
  const failed = rows.flatMap((r) =>
    (['service', 'floor'] as const)
      .filter((t) => r[t].errors > 0)
      .map((t) => `  ${t}, concurrency ${r.concurrency}: ${r[t].errors} failed flows (${r[t].firstError})`),
  );
  if (failed.length > 0) lines.push('', 'Failed flows (left out of the figures):', ...failed);
  return lines.join('\n');
}
