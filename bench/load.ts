/**
 * The benchmark's load driver, a process of its own so its CPU is neither the service's nor the
 * floor's: runs `flows` flows of one kind with `concurrency` in flight and prints one JSON line
 * (LoadResult). Started by bench/run.ts: `node dist/bench/load.js '<json LoadJob>'`.
 */
import { FLOWS, type FlowContext, type FlowName } from './flows';

export interface LoadJob {
  flow: FlowName;
  context: FlowContext;
  flows: number;
  concurrency: number;
  /** The first flow's number (account ids for card setups): unique across the jobs of one target. */
  firstN: number;
}

export interface LoadResult {
  done: number;
  errors: number;
  firstError?: string;
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
}

/** The value below which `p` percent of the sorted values lie (nearest rank). */
export const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const flow = FLOWS.get(job.flow);
  if (!flow) throw new Error(`unknown flow ${job.flow}`);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.flows) {
        const n = job.firstN + next++;
        try {
          latencies.push(await flow.run(job.context, n));
        } catch (err) {
          errors += 1;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const wallMs = performance.now() - began;
  latencies.sort((a, b) => a - b);
  return { done: latencies.length, errors, firstError, wallMs, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

if (require.main === module) {
  runLoad(JSON.parse(process.argv[2] ?? '{}') as LoadJob).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (err: unknown) => {
      process.stderr.write(`load driver failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
