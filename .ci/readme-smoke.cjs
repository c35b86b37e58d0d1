/* global console, fetch, setTimeout, clearTimeout */
// Runs the shell examples of README.md and emulator/README.md as a newcomer pastes them, in order,
// in one shell, against `npm start` on embedded defaults at the README's own ports (3000,
// emulator 12111). Each block's output must show the literal values of the answers the README
// prints after it (`# {...}`). An HTML comment in the lines just above a block tells the smoke what
// a newcomer does around it:
//   <!-- readme-smoke: skip: <reason> -->          the block is not run; the reason is printed
//   <!-- readme-smoke: restart with: NAME='value' -->  the service is started again with that
//        variable (and no other the README set), as the README says: it must show
//        `NAME='value' npm start`
//   <!-- readme-smoke: service stopped -->         the service is stopped before the block and
//        started again (as it was) before the next block that needs it
//   <!-- readme-smoke: each line runs until Ctrl-C -->  each line starts a server: it must print
//        `listening on`, then gets Ctrl-C (SIGINT) and must stop
// The shell has job control on (`set -m`), as a terminal has, so `kill %1` stops a whole job.
// README_SMOKE_VERBOSE=1 prints every block's output.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const FILES = ['README.md', 'emulator/README.md'];
const PORT = 3000;
const EMULATOR_PORT = 12111;
const SHELL_TIMEOUT_MS = 600_000;

/** `NAME='value' OTHER=value` as the shell reads it (single quotes or no spaces). */
function assignments(text) {
  const found = [];
  const re = /\s*([A-Z_][A-Z0-9_]*)=(?:'([^']*)'|(\S*))/gy;
  let m;
  let end = 0;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    found.push({ name: m[1], value: m[2] ?? m[3], source: m[0].trim() });
    end = re.lastIndex;
  }
  if (found.length === 0 || end !== text.length) return undefined;
  return found;
}

function blocksOf(file, readme) {
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
    const block = { file, line: i + 1, body, skip: undefined, restartWith: undefined, serviceStopped: false, untilStopped: false };
    for (let before = i - 1; before >= 0; before--) {
      const text = lines[before].trim();
      if (text === '') continue;
      const marker = /^<!-- readme-smoke: (.*?) -->$/.exec(text);
      if (!marker) break;
      const [, what] = marker;
      let m;
      if ((m = /^skip: (.+)$/.exec(what))) block.skip = m[1];
      else if (what === 'service stopped') block.serviceStopped = true;
      else if (what === 'each line runs until Ctrl-C') block.untilStopped = true;
      else if ((m = /^restart with: (.+)$/.exec(what)) && assignments(m[1])) {
        block.restartWith = assignments(m[1]);
        const command = `${block.restartWith.map((a) => a.source).join(' ')} npm start`;
        if (!readme.includes(command)) throw new Error(`${file} line ${before + 1}: the README does not show "${command}"`);
      } else throw new Error(`${file} line ${before + 1}: unknown readme-smoke marker "${what}"`);
    }
    blocks.push(block);
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

async function waitPortsFree() {
  for (let i = 0; i < 150; i++) {
    if ((await portFree(PORT)) && (await portFree(EMULATOR_PORT))) return;
    await sleep(200);
  }
  throw new Error(`ports ${PORT} and ${EMULATOR_PORT} did not become free`);
}

async function waitLive(service) {
  for (let i = 0; i < 900; i++) {
    if (service.exited) throw new Error('the service exited at start-up');
    const live = await fetch(`http://localhost:${PORT}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (live) return;
    await sleep(200);
  }
  throw new Error('the service did not start');
}

/** `npm start` in a process group of its own, its output appended to the log. */
function serviceControl(baseEnv, log) {
  let service;
  const controls = {
    env: baseEnv,
    /** With `extra`: `NAME=value npm start`, as the README says; without: as it was last started. */
    async start(extra) {
      await waitPortsFree();
      if (extra) controls.env = { ...baseEnv, ...Object.fromEntries(extra.map((a) => [a.name, a.value])) };
      fs.appendFileSync(log, `\n--- ${(extra ?? []).map((a) => `${a.source} `).join('')}npm start ---\n`);
      const out = fs.openSync(log, 'a');
      const child = spawn('npm', ['start'], { cwd: root, env: controls.env, stdio: ['ignore', out, out], detached: true });
      fs.closeSync(out);
      const started = { child, exited: false, done: new Promise((r) => child.once('exit', r)) };
      void started.done.then(() => (started.exited = true));
      service = started;
      await waitLive(started);
    },
    async stop() {
      if (!service) return;
      const { child, done } = service;
      service = undefined;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return; // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }, 20_000);
      await done;
      clearTimeout(timer);
    },
  };
  return controls;
}

/**
 * The shell script: the blocks in order, each after a marker line, with a pause before a block
 * that needs the service stopped, started or restarted (the smoke does it, then the shell goes on).
 */
function scriptOf(runnable) {
  const lines = [
    'set -m',
    'set -eo pipefail',
    // A job left running when a block fails must not hold the ports for the next run.
    '__smoke_out=$(mktemp -d)',
    'trap \'for j in $(jobs -p); do kill -TERM -- -"$j" 2>/dev/null || true; done; rm -rf "$__smoke_out"\' EXIT',
  ];
  const controls = new Map();
  let running = true;
  runnable.forEach((b, n) => {
    let action;
    if (b.restartWith) action = { kind: 'restart', env: b.restartWith };
    else if (b.serviceStopped && running) action = { kind: 'stop' };
    else if (!b.serviceStopped && !running) action = { kind: 'start' };
    if (action) {
      controls.set(n, action);
      lines.push(`echo '@@readme-control ${n}@@'`, 'read -r __answer <&3', '[ "$__answer" = go ]');
      running = action.kind !== 'stop';
    }
    lines.push(`echo '@@readme-block ${n}@@'`);
    if (!b.untilStopped) {
      lines.push(...b.body);
      return;
    }
    b.body.forEach((line, k) => {
      if (line.trim() === '' || line.trim().startsWith('#')) return;
      const out = `"$__smoke_out/${n}-${k}"`;
      lines.push(
        `echo ${shellQuote(`$ ${line}`)}`,
        '(',
        line,
        `) >${out} 2>&1 &`,
        '__pid=$!',
        `for __i in $(seq 1 300); do grep -q 'listening on' ${out} && break; kill -0 "$__pid" 2>/dev/null || break; sleep 0.2; done`,
        `grep -q 'listening on' ${out} || { cat ${out}; exit 1; }`,
        'kill -INT -- -"$__pid"',
        'for __i in $(seq 1 100); do kill -0 "$__pid" 2>/dev/null || break; sleep 0.1; done',
        `cat ${out}`,
        'if kill -0 "$__pid" 2>/dev/null; then echo "still running 10 s after Ctrl-C"; exit 1; fi',
        'echo "(stopped by Ctrl-C)"',
      );
    });
  });
  return { script: lines.join('\n'), controls };
}

const shellQuote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Runs the script; at each pause it does what the block needs and answers `go` (or `fail`) on fd 3. */
function runShell(script, controls, service, env) {
  return new Promise((resolve) => {
    const shell = spawn('bash', ['-c', script], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    let handled = 0;
    let queue = Promise.resolve();
    const notes = [];
    const onData = (chunk) => {
      output += chunk;
      for (const m of output.matchAll(/@@readme-control (\d+)@@\n/g)) {
        const n = Number(m[1]);
        if (n < handled) continue;
        handled = n + 1;
        const action = controls.get(n);
        queue = queue.then(async () => {
          try {
            if (action.kind !== 'start') await service.stop();
            if (action.kind !== 'stop') await service.start(action.kind === 'restart' ? action.env : undefined);
            notes.push({ n, text: action.kind === 'stop' ? 'service stopped' : action.kind === 'start' ? 'service started' : 'service restarted' });
            shell.stdio[3].write('go\n');
          } catch (err) {
            notes.push({ n, text: `could not ${action.kind} the service: ${err.message}` });
            shell.stdio[3].write('fail\n');
          }
        });
      }
    };
    shell.stdout.on('data', onData);
    shell.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n(the shell ran longer than ${SHELL_TIMEOUT_MS / 1000} s and was stopped)\n`;
      try {
        process.kill(-shell.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, SHELL_TIMEOUT_MS);
    shell.on('close', (status) => {
      clearTimeout(timer);
      queue.then(() => resolve({ output, status: status ?? 1, notes }));
    });
  });
}

async function main() {
  const blocks = FILES.flatMap((file) => blocksOf(file, fs.readFileSync(path.join(root, file), 'utf8')));
  for (const port of [PORT, EMULATOR_PORT]) {
    if (!(await portFree(port))) throw new Error(`port ${port} is taken: the README's examples need it free`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgw-readme-'));
  const log = path.join(dataDir, 'service.log');
  const env = { ...process.env, PORT: String(PORT), EMULATOR_PORT: String(EMULATOR_PORT), DATA_DIR: path.join(dataDir, 'data') };
  for (const name of ['DATABASE_URL', 'STRIPE_SECRET_KEY', 'STRIPE_API_BASE', 'NODE_ENV', 'BILLRUN_SHARED_SECRETS', 'BILLRUN_OAUTH_CLIENTS', 'HUB_ADMIN_TOKEN'])
    delete env[name];
  fs.writeFileSync(log, '');
  const service = serviceControl(env, log);
  let failed = 0;
  try {
    await service.start();
    const runnable = blocks.filter((b) => !b.skip);
    const { script, controls } = scriptOf(runnable);
    const run = await runShell(script, controls, service, env);
    const outputs = run.output.replace(/@@readme-control \d+@@\n/g, '').split(/@@readme-block (\d+)@@\n/);
    const byBlock = new Map();
    for (let i = 1; i < outputs.length; i += 2) byBlock.set(Number(outputs[i]), outputs[i + 1]);
    const notes = new Map(run.notes.map((note) => [note.n, note.text]));
    runnable.forEach((b, n) => {
      const where = `${b.file} line ${b.line}${notes.has(n) ? ` (${notes.get(n)} first)` : ''}`;
      const output = byBlock.get(n);
      if (output === undefined) {
        failed++;
        console.log(`${where}: not reached (an earlier block failed)`);
        return;
      }
      const missing = expectedValues(b.body).filter((pair) => !normalise(output).includes(pair));
      const lastRan = n === runnable.length - 1 || !byBlock.has(n + 1);
      const exitedHere = lastRan && run.status !== 0;
      if (missing.length > 0 || exitedHere) {
        failed++;
        console.log(
          `${where}: FAILED${exitedHere ? ` (the shell exited ${run.status})` : ''}${missing.length ? `; not in the output: ${missing.join(', ')}` : ''}`,
        );
        console.log(output.trim().split('\n').slice(-15).join('\n'));
      } else {
        console.log(`${where}: ok (${expectedValues(b.body).length} shown values found)`);
        if (process.env.README_SMOKE_VERBOSE) console.log(output.trim().replace(/^/gm, '    '));
      }
    });
    for (const b of blocks.filter((x) => x.skip)) console.log(`${b.file} line ${b.line}: skipped: ${b.skip}`);
    if (run.status !== 0 && failed === 0) failed++;
  } finally {
    await service.stop();
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
