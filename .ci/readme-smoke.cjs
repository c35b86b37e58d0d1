/* global console, fetch, setTimeout */
// Runs the README's shell examples as a newcomer pastes them, in order, in one shell, against
// `npm start` on embedded defaults at the README's own ports (3000, emulator 12111). Each block's
// output must show the literal values of the answers the README prints after it (`# {...}`);
// a block marked `<!-- readme-smoke: skip: <reason> -->` is skipped and the reason printed.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const PORT = 3000;
const EMULATOR_PORT = 12111;
// The value the README's administration example exports.
const ADMIN_TOKEN = 'a-long-random-admin-token-of-yours';

function blocksOf(readme) {
  const lines = readme.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```sh\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const body = lines.slice(start, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)));
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const skip = before >= 0 ? /<!-- readme-smoke: skip: (.*?) -->/.exec(lines[before]) : null;
    blocks.push({ line: i + 1, body, skip: skip ? skip[1] : undefined });
    i = end;
  }
  return blocks;
}

/** `"key":value` pairs of the answers the README shows (`# {...}`), literal values only (no `...`). */
function expectedValues(body) {
  const pairs = [];
  for (const line of body) {
    const shown = /^#\s*(?:\d{3}\s+)?(\{.*)$/.exec(line.trim());
    if (!shown) continue;
    for (const m of shown[1].matchAll(/"([A-Za-z_]+)":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)/g)) {
      // `...` and `<...>` stand for what differs each time; so do timings (`"latency_ms":4.6`).
      if (m[2].includes('...') || m[2].includes('<') || /^-?\d+\.\d+$/.test(m[2])) continue;
      pairs.push(`"${m[1]}":${m[2]}`);
    }
  }
  return pairs;
}

const normalise = (text) => text.replace(/"\s*:\s*/g, '":');

function portFree(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function waitLive() {
  for (let i = 0; i < 900; i++) {
    const live = await fetch(`http://localhost:${PORT}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (live) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the service did not start');
}

async function main() {
  const blocks = blocksOf(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));
  for (const port of [PORT, EMULATOR_PORT]) {
    if (!(await portFree(port))) throw new Error(`port ${port} is taken: the README's examples need it free`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgw-readme-'));
  const log = path.join(dataDir, 'service.log');
  const env = { ...process.env, PORT: String(PORT), EMULATOR_PORT: String(EMULATOR_PORT), DATA_DIR: path.join(dataDir, 'data'), HUB_ADMIN_TOKEN: ADMIN_TOKEN };
  for (const name of ['DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'NODE_ENV', 'BILLRUN_SHARED_SECRETS']) delete env[name];
  const out = fs.openSync(log, 'w');
  const service = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', out, out], detached: true });
  const stop = () => {
    try {
      process.kill(-service.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  let failed = 0;
  try {
    await waitLive();
    const runnable = blocks.filter((b) => !b.skip);
    const script = ['set -eo pipefail', ...runnable.flatMap((b, n) => [`echo '@@readme-block ${n}@@'`, ...b.body])].join('\n');
    const run = spawnSync('bash', ['-c', script], { cwd: root, env: { ...env, HUB_ADMIN_TOKEN: '' }, encoding: 'utf8', timeout: 300_000 });
    const outputs = (run.stdout + run.stderr).split(/@@readme-block (\d+)@@\n/);
    const byBlock = new Map();
    for (let i = 1; i < outputs.length; i += 2) byBlock.set(Number(outputs[i]), outputs[i + 1]);
    runnable.forEach((b, n) => {
      const output = byBlock.get(n);
      if (output === undefined) {
        failed++;
        console.log(`README line ${b.line}: not reached (an earlier block failed)`);
        return;
      }
      const missing = expectedValues(b.body).filter((pair) => !normalise(output).includes(pair));
      const lastRan = n === runnable.length - 1 || !byBlock.has(n + 1);
      const exitedHere = lastRan && run.status !== 0;
      if (missing.length > 0 || exitedHere) {
        failed++;
        console.log(
          `README line ${b.line}: FAILED${exitedHere ? ` (the shell exited ${run.status})` : ''}${missing.length ? `; not in the output: ${missing.join(', ')}` : ''}`,
        );
        console.log(output.trim().split('\n').slice(-15).join('\n'));
      } else {
        console.log(`README line ${b.line}: ok (${expectedValues(b.body).length} shown values found)`);
      }
    });
    for (const b of blocks.filter((x) => x.skip)) console.log(`README line ${b.line}: skipped: ${b.skip}`);
    if (run.status !== 0 && failed === 0) failed++;
  } finally {
    stop();
    await new Promise((r) => setTimeout(r, 1500));
    if (failed) console.log(`--- service log (last lines) ---\n${fs.readFileSync(log, 'utf8').split('\n').slice(-30).join('\n')}`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed) {
    console.log(`readme smoke: ${failed} README block(s) failed`);
    process.exit(1);
  }
  console.log('readme smoke: every runnable README shell block works as pasted');
}

main().catch((err) => {
  console.error(`readme smoke: ${err.message}`);
  process.exit(1);
});
