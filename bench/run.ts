/**
 * `npm run bench`: the service against a floor (bench/floor.ts: the same Stripe calls, nothing
 * else), each flow at each concurrency, every part in a process of its own: the Stripe emulator,
 * the service (`node dist/app/main.js`, configured as a deployment), the floor, and a load driver
 * per measurement (bench/load.ts). Prints figures and ratios to the floor; asserts nothing.
 * Flags: `npm run bench -- --help`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import knex, { type Knex } from 'knex';
import { BENCH_SECRET, FLOWS, type FlowContext, type FlowName, type HubCredentials } from './flows';
import type { LoadJob, LoadResult } from './load';
import { cpuMs, meterBackends, meterProcess, rssMb } from './proc';
import { ask, freePort, runNodeForJson, startNode, stop, waitReady, type Started } from './processes';
import { flowTable, medianCell, type CellMetrics, type Row } from './report';

const HELP = `npm run bench -- [flags]
  --pg                 PostgreSQL (the default when DATABASE_URL is set); DATABASE_URL (or --pg-url) names the server,
                       the bench makes a database pgw_bench_<random> there and drops it at the end
  --pg-url URL         PostgreSQL server to use (default DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --pglite             the embedded PGlite (the default without DATABASE_URL); both flags: both
  --flow LIST          card-setup,pay,hub (default all)
  --concurrency LIST   default 1,8,64 (PostgreSQL)
  --pglite-concurrency LIST   default 1,8
  --flows N            flows per measurement (default 1000: a measurement of a few hundred flows lasts about a second,
                       and what each costs once, the new connections, weighs on the floor's small figure)
  --runs N             runs; each figure is the median (default 3)
  --warmup N           flows of each kind before measuring (default 1000: V8 is still compiling the service's code for the
                       first few thousand requests, so a short warm-up measures the compiler too)
  --rss LIST           RSS of a fresh service after these many flows (default 1000,10000; 0 skips)
  --rss-flow NAME      the flow of the RSS check (default card-setup)
  --rss-concurrency N  default 8
  --log-level LEVEL    the service's LOG_LEVEL (default info; JSON lines to a file)
  --profile DIR        write a V8 CPU profile of each service and floor process to DIR (node --cpu-prof; open in Chrome DevTools;
                       it samples wall time, so time the service waits for a core on a busy machine shows as its own)
  --service-node-flags=FLAGS  more node flags for the service and the floor, space-separated, after an = (e.g. --service-node-flags=--perf-basic-prof
                       for \`perf record\`)`;

const { values: flags } = parseArgs({
  options: {
    pg: { type: 'boolean', default: false },
    'pg-url': { type: 'string' },
    pglite: { type: 'boolean', default: false },
    flow: { type: 'string', default: 'card-setup,pay,hub' },
    concurrency: { type: 'string', default: '1,8,64' },
    'pglite-concurrency': { type: 'string', default: '1,8' },
    flows: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1000' },
    rss: { type: 'string', default: '1000,10000' },
    'rss-flow': { type: 'string', default: 'card-setup' },
    'rss-concurrency': { type: 'string', default: '8' },
    'log-level': { type: 'string', default: 'info' },
    profile: { type: 'string' },
    'service-node-flags': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${raw}`);
  return n;
}
const intList = (name: string, raw: string, allowZero = false): number[] =>
  raw
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => positiveInt(name, s.trim(), allowZero));
function flowName(raw: string): FlowName {
  const name = raw.trim() as FlowName;
  if (!FLOWS.has(name)) throw new Error(`unknown flow ${raw}: one of ${[...FLOWS.keys()].join(', ')}`);
  return name;
}

type DbChoice = 'postgres' | 'pglite';

const SERVICE_KEY = 'sk_test_bench_billrun';
const VENDOR_KEY = 'sk_test_bench_vendor';
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
// One per bench: the RSS check starts the service again on the same database and its sealed vendor key.
const HUB_ENCRYPTION_KEY = randomBytes(32).toString('hex');
const SESSION_SECRET = randomBytes(24).toString('hex');
const STRIPE_TIMEOUT_MS = 20000;
const STRIPE_RETRIES = 2;
/** Accounts with a saved card that pay cycles through: as many as the highest concurrency, so no two pays in flight share one. */
const PAY_ACCOUNTS = 64;

const dist = __dirname;
const script = (relative: string): string => path.join(dist, relative);
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, TZ: process.env.TZ });

/** Flow numbers (account ids) are unique over the whole bench: the floor remembers accounts across databases. */
let nextN = 1;
const takeNs = (count: number): number => {
  const first = nextN;
  nextN += count;
  return first;
};

interface Target {
  name: 'service' | 'floor';
  process: Started;
  url: string;
  context: FlowContext;
}

interface Bench {
  emulatorUrl: string;
  workDir: string;
  logLevel: string;
  /** Where `--profile` writes the service's CPU profiles. */
  profileDir?: string;
  serviceNodeFlags: string[];
}

async function emulatorCalls(emulatorUrl: string): Promise<number> {
  const res = await fetch(`${emulatorUrl}/_emulator/requests`);
  return ((await res.json()) as { data: unknown[] }).data.length;
}
const clearEmulatorCalls = async (emulatorUrl: string): Promise<void> => void (await fetch(`${emulatorUrl}/_emulator/requests`, { method: 'DELETE' }));

async function load(context: FlowContext, flow: FlowName, flows: number, concurrency: number): Promise<LoadResult & { firstN: number }> {
  const job: LoadJob = { flow, context, flows, concurrency, firstN: takeNs(flows) };
  return { ...(await runNodeForJson<LoadResult>(script('load.js'), JSON.stringify(job), baseEnv())), firstN: job.firstN };
}

const roundTrips = async (target: Target): Promise<number | undefined> =>
  target.name === 'service' ? (await ask<{ roundTrips: number }>(target.process, 'round-trips')).roundTrips : undefined;

const SETTLE_WINDOW_MS = 2500;

/**
 * Waits until the service's background work is done: the merchant-webhook worker routes the
 * payment events each charge leaves (a trigger records them) every 2 s, a batch at a time. Done
 * when a window longer than the worker's interval saw no more round trips than an idle pass makes.
 */
async function settle(service: Target, maxMs = 180000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let before = (await roundTrips(service)) ?? 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, SETTLE_WINDOW_MS));
    const now = (await roundTrips(service)) ?? 0;
    if (now - before <= 3) return;
    before = now;
  }
  throw new Error(`the service was still busy ${maxMs / 1000} s after the load ended`);
}

/** One measurement: `flows` flows at `concurrency` against one target, with the CPU, calls and round trips they cost. */
async function measure(bench: Bench, target: Target, flow: FlowName, flows: number, concurrency: number, db: Database): Promise<CellMetrics> {
  await clearEmulatorCalls(bench.emulatorUrl);
  const trips0 = await roundTrips(target);
  const cpu = meterProcess(target.process.pid);
  const dbCpu = target.name === 'service' && db.admin ? await meterBackends(db.admin, db.name) : undefined;
  const result = await load(target.context, flow, flows, concurrency);
  // What the flows left for later (the payment events of charges) is part of their cost.
  const tripsAtEnd = await roundTrips(target);
  if (target.name === 'service') await settle(target);
  const cpuTotal = await cpu.stop();
  const dbTotal = await dbCpu?.stop();
  const trips1 = await roundTrips(target);
  const done = Math.max(result.done, 1);
  return {
    cpuMs: cpuTotal / done,
    dbCpuMs: dbTotal === undefined ? undefined : dbTotal / done,
    flowsPerS: result.done / (result.wallMs / 1000),
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    stripeCalls: (await emulatorCalls(bench.emulatorUrl)) / done,
    roundTrips: trips0 === undefined || trips1 === undefined ? undefined : (trips1 - trips0) / done,
    laterRoundTrips: tripsAtEnd === undefined || trips1 === undefined ? undefined : (trips1 - tripsAtEnd) / done,
    rssMb: rssMb(target.process.pid),
    errors: result.errors,
    firstError: result.firstError,
  };
}

interface Database {
  kind: DbChoice;
  /** The bench's own database on the server; PGlite: the data folder. */
  name: string;
  url?: string;
  admin?: Knex;
  serverVersion?: string;
  drop(): Promise<void>;
}

async function openDatabase(kind: DbChoice, bench: Bench, serverUrl: string): Promise<Database> {
  if (kind === 'pglite') {
    const dir = path.join(bench.workDir, `pglite-${randomBytes(4).toString('hex')}`);
    return { kind, name: dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `pgw_bench_${randomBytes(5).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const version = ((await admin.raw('show server_version')) as { rows: { server_version: string }[] }).rows[0].server_version;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    name,
    url: url.toString(),
    admin,
    serverVersion: version,
    drop: async () => {
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}

/** The service as a deployment runs it: its own process, JSON logs at info to a file, the reconciler off (it would add its own work). */
async function startService(bench: Bench, db: Database): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    // Production refuses the embedded database, so PGlite runs as in development (a newcomer's `npm start`).
    NODE_ENV: db.kind === 'postgres' ? 'production' : 'development',
    PORT: String(port),
    PUBLIC_BASE_URL: url,
    LOG_LEVEL: bench.logLevel,
    LOG_FORMAT: 'json',
    ...(db.url ? { DATABASE_URL: db.url } : { DATA_DIR: db.name }),
    STRIPE_SECRET_KEY: SERVICE_KEY,
    STRIPE_API_BASE: bench.emulatorUrl,
    STRIPE_WEBHOOK_SECRET: 'whsec_bench_no_webhooks_are_sent',
    STRIPE_TIMEOUT_MS: String(STRIPE_TIMEOUT_MS),
    STRIPE_MAX_NETWORK_RETRIES: String(STRIPE_RETRIES),
    RECONCILE_INTERVAL_S: '0',
    BILLRUN_SHARED_SECRETS: BENCH_SECRET,
    SESSION_SECRET,
    HUB_ENCRYPTION_KEY,
    HUB_ADMIN_TOKEN: ADMIN_TOKEN,
    // High enough never to refuse the bench, so the limiter still does its work on each request.
    HUB_RATE_LIMIT_PER_MINUTE: '1000000',
    BENCH_QUERY_COUNTER: '1',
    // The pool size can be tried out: `DATABASE_POOL_MAX=4 npm run bench ...`.
    ...(process.env.DATABASE_POOL_MAX ? { DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX } : {}),
  };
  const started = startNode('service', script('../app/main.js'), [], {
    env,
    logFile: path.join(bench.workDir, 'service.log'),
    ipc: true,
    nodeFlags: nodeFlags(bench, 'service'),
  });
  await waitReady(started, `${url}/health/live`);
  return { name: 'service', process: started, url, context: { target: url, emulator: bench.emulatorUrl } };
}

/** A merchant with a vendor on the bench's vendor key, through the admin API, as an operator makes one. */
async function hubMerchant(serviceUrl: string): Promise<HubCredentials> {
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${serviceUrl}/api/v1/admin${p}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as { data: Record<string, string> };
    if (res.status !== 201) throw new Error(`admin ${p}: ${res.status} ${JSON.stringify(answer)}`);
    return answer.data;
  };
  const merchant = await post('/merchants', { name: 'Bench shop' });
  const vendor = await post(`/merchants/${merchant.id}/vendors`, { name: 'Stripe', stripe_secret_key: VENDOR_KEY, allow_raw_card_data: true });
  return { publicKey: merchant.public_key, secretKey: merchant.secret_key, vendorId: vendor.id };
}

let processesStarted = 0;

/** The node flags `npm start` gives the service (package.json's start script): the bench runs it the same way. */
function startNodeFlags(startScript: string): string[] {
  const [command, ...words] = startScript.trim().split(/\s+/);
  if (command !== 'node') return [];
  const firstOther = words.findIndex((word) => !word.startsWith('--'));
  return firstOther === -1 ? words : words.slice(0, firstOther);
}

const START_FLAGS = startNodeFlags(
  (JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start,
);

/**
 * The service and the floor run with the same node flags: `npm start`'s (a larger young generation,
 * which the floor's few objects need less than the service's many), and any the run adds, so a
 * profiling flag costs both the same.
 */
function nodeFlags(bench: Bench, name: string): string[] {
  processesStarted += 1;
  const profile = bench.profileDir
    ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(bench.profileDir), '--cpu-prof-name', `${name}-${process.pid}-${processesStarted}.cpuprofile`]
    : [];
  return [...START_FLAGS, ...profile, ...bench.serviceNodeFlags];
}

async function startFloor(bench: Bench): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const options = {
    port,
    stripeApiBase: bench.emulatorUrl,
    stripeKey: SERVICE_KEY,
    vendorKey: VENDOR_KEY,
    timeoutMs: STRIPE_TIMEOUT_MS,
    maxNetworkRetries: STRIPE_RETRIES,
  };
  const started = startNode('floor', script('floor.js'), [JSON.stringify(options)], {
    env: baseEnv(),
    logFile: path.join(bench.workDir, 'floor.log'),
    nodeFlags: nodeFlags(bench, 'floor'),
  });
  await waitReady(started, `${url}/health`);
  // The floor checks no key: any will do.
  return {
    name: 'floor',
    process: started,
    url,
    context: { target: url, emulator: bench.emulatorUrl, hub: { publicKey: 'pk', secretKey: 'sk', vendorId: 'vendor' } },
  };
}

function fail(what: string, result: LoadResult): never {
  throw new Error(`${what}: ${result.errors} of ${result.errors + result.done} flows failed (${result.firstError})`);
}

/** Warm-up (JIT, connection pools, the account rows the service learns once) and the saved cards pay uses. */
async function prepare(target: Target, flows: FlowName[], warmup: number): Promise<void> {
  const setups = await load(target.context, 'card-setup', Math.max(warmup, PAY_ACCOUNTS), 8);
  if (setups.errors > 0) fail(`${target.name} warm-up`, setups);
  target.context.payAccounts = Array.from({ length: PAY_ACCOUNTS }, (_, i) => setups.firstN + i);
  for (const flow of flows.filter((f) => f !== 'card-setup')) {
    const warm = await load(target.context, flow, warmup, 8);
    if (warm.errors > 0) fail(`${target.name} warm-up (${flow})`, warm);
  }
}

/** What the service does with no request: its background workers' CPU and round trips per second. */
async function idle(service: Target): Promise<string> {
  await settle(service);
  const seconds = 4;
  const cpu0 = cpuMs(service.process.pid) ?? 0;
  const trips0 = (await roundTrips(service)) ?? 0;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = ((cpuMs(service.process.pid) ?? 0) - cpu0) / seconds;
  const trips = (((await roundTrips(service)) ?? 0) - trips0) / seconds;
  return `service at rest: ${cpu.toFixed(1)} ms CPU/s, ${trips.toFixed(1)} round trips/s (merchant-webhook worker every 2 s; reconciler off)`;
}

interface Settings {
  flows: FlowName[];
  concurrency: number[];
  pgliteConcurrency: number[];
  perCell: number;
  runs: number;
  warmup: number;
  rss: number[];
  rssFlow: FlowName;
  rssConcurrency: number;
}

async function benchDatabase(bench: Bench, settings: Settings, floor: Target, db: Database): Promise<string[]> {
  const out: string[] = [];
  const service = await startService(bench, db);
  let services: Target[] = [service];
  try {
    const hub = settings.flows.includes('hub') || settings.rssFlow === 'hub' ? await hubMerchant(service.url) : undefined;
    service.context.hub = hub;
    await prepare(floor, settings.flows, settings.warmup);
    await prepare(service, settings.flows, settings.warmup);
    out.push(await idle(service));
    const concurrency = db.kind === 'postgres' ? settings.concurrency : settings.pgliteConcurrency;
    const cells = new Map<string, CellMetrics[]>();
    for (let run = 1; run <= settings.runs; run++) {
      for (const flow of settings.flows) {
        for (const c of concurrency) {
          // The floor and the service take turns, so a neighbour's load on the machine falls on both.
          for (const target of [floor, service]) {
            const key = `${flow}|${c}|${target.name}`;
            const metrics = await measure(bench, target, flow, settings.perCell, c, db);
            cells.set(key, [...(cells.get(key) ?? []), metrics]);
            process.stderr.write(
              `  ${db.kind} run ${run} ${flow} c=${c} ${target.name}: ${metrics.flowsPerS.toFixed(0)} flows/s, ${metrics.cpuMs.toFixed(2)} ms CPU/flow\n`,
            );
          }
        }
      }
    }
    for (const flow of settings.flows) {
      const rows: Row[] = concurrency.map((c) => ({
        concurrency: c,
        service: medianCell(cells.get(`${flow}|${c}|service`) ?? []),
        floor: medianCell(cells.get(`${flow}|${c}|floor`) ?? []),
        runs: (cells.get(`${flow}|${c}|service`) ?? []).flatMap((service, i) => {
          const floorRun = cells.get(`${flow}|${c}|floor`)?.[i];
          return floorRun ? [{ service, floor: floorRun }] : [];
        }),
      }));
      out.push('', `${FLOWS.get(flow)?.title}:`, '', flowTable(rows, db.kind === 'pglite'));
    }
    await stop(service.process);
    services = [];
    if (settings.rss.length > 0) out.push('', await rssCheck(bench, settings, db, hub));
  } finally {
    for (const s of services) await stop(s.process);
  }
  return out;
}

/** RSS of a fresh service process after each checkpoint's number of flows. */
async function rssCheck(bench: Bench, settings: Settings, db: Database, hub: HubCredentials | undefined): Promise<string> {
  const service = await startService(bench, db);
  try {
    service.context.hub = hub;
    if (settings.rssFlow === 'pay') await prepare(service, [], PAY_ACCOUNTS);
    const readings: string[] = [`at start ${rssMb(service.process.pid).toFixed(0)} MB`];
    let done = 0;
    for (const checkpoint of [...settings.rss].sort((a, b) => a - b)) {
      while (done < checkpoint) {
        const chunk = Math.min(1000, checkpoint - done);
        const result = await load(service.context, settings.rssFlow, chunk, settings.rssConcurrency);
        if (result.errors > 0) fail('RSS check', result);
        done += chunk;
      }
      readings.push(`after ${checkpoint.toLocaleString('en')} flows ${rssMb(service.process.pid).toFixed(0)} MB`);
    }
    return `RSS of a fresh service process, ${settings.rssFlow} at concurrency ${settings.rssConcurrency}: ${readings.join(', ')}`;
  } finally {
    await stop(service.process);
  }
}

async function main(): Promise<void> {
  if (flags.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const serverUrl = flags['pg-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbs: DbChoice[] = [
    ...(flags.pg || flags['pg-url'] || (!flags.pglite && process.env.DATABASE_URL) ? (['postgres'] as const) : []),
    ...(flags.pglite || (!flags.pg && !flags['pg-url'] && !process.env.DATABASE_URL) ? (['pglite'] as const) : []),
  ];
  const settings: Settings = {
    flows: flags.flow.split(',').map(flowName),
    concurrency: intList('concurrency', flags.concurrency),
    pgliteConcurrency: intList('pglite-concurrency', flags['pglite-concurrency']),
    perCell: positiveInt('flows', flags.flows),
    runs: positiveInt('runs', flags.runs),
    warmup: positiveInt('warmup', flags.warmup, true),
    rss: intList('rss', flags.rss, true).filter((n) => n > 0),
    rssFlow: flowName(flags['rss-flow']),
    rssConcurrency: positiveInt('rss-concurrency', flags['rss-concurrency']),
  };
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'pgw-bench-'));
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulator = startNode('emulator', script('../emulator/main.js'), [], {
    env: { ...baseEnv(), EMULATOR_PORT: String(emulatorPort) },
    logFile: path.join(workDir, 'emulator.log'),
  });
  const bench: Bench = {
    emulatorUrl,
    workDir,
    logLevel: flags['log-level'],
    profileDir: flags.profile,
    serviceNodeFlags: flags['service-node-flags'].split(' ').filter((f) => f !== ''),
  };
  const out: string[] = [
    `npm run bench -- ${process.argv.slice(2).join(' ')}`.trimEnd(),
    `${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${settings.perCell} flows per measurement, median of ${settings.runs} run(s)`,
    `Processes: Stripe emulator, service (node ${START_FLAGS.map((f) => `${f} `).join('')}dist/app/main.js as npm start runs it, LOG_LEVEL ` +
      `${bench.logLevel}, JSON to a file), floor (bench/floor.ts, the same node flags) and a load driver per measurement, each its own.`,
    'CPU = utime + stime from /proc per completed flow; DB CPU = the PostgreSQL backends of the bench database (pg_stat_activity), not the',
    "server's shared WAL writer and checkpointer. Latency: the flow's requests to the service or floor (not the emulator's Checkout step).",
  ];
  let floor: Target | undefined;
  try {
    await waitReady(emulator, `${emulatorUrl}/_emulator/health`);
    floor = await startFloor(bench);
    for (const kind of dbs) {
      const db = await openDatabase(kind, bench, serverUrl);
      try {
        out.push('', kind === 'postgres' ? `## PostgreSQL ${db.serverVersion} (database ${db.name})` : '## PGlite (embedded, on disk)');
        out.push(...(await benchDatabase(bench, settings, floor, db)));
      } finally {
        await db.drop();
      }
    }
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n(the processes' logs are kept in ${workDir})`, { cause: err });
  } finally {
    if (floor) await stop(floor.process);
    await stop(emulator);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  rmSync(workDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
