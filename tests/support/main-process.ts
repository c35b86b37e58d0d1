import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** `npm start` as a process of its own: the real app/main.ts, run from source. */

const root = path.resolve(__dirname, '../..');
const BASE_ENV = { NODE_ENV: 'development', LOG_LEVEL: 'info', LOG_FORMAT: 'json' };

export async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface MainProcess {
  child: ChildProcess;
  output(): string;
  url: string;
}

function spawnMain(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['-r', './tests/support/ts-register.js', 'app/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...BASE_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return { child, output: () => output };
}

/** Runs main.ts until it exits by itself (it is killed after `guardMs`: a service that started would run forever). */
export function runMainToExit(env: Record<string, string>, guardMs = 150_000): Promise<{ code: number | null; output: string }> {
  const { child, output } = spawnMain(env);
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), guardMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output: output() });
    });
  });
}

/** Starts main.ts on a free PORT and waits until /health/live answers; throws with its output if it exits first. */
export async function startMain(env: Record<string, string>): Promise<MainProcess> {
  const port = await freePort();
  const { child, output } = spawnMain({ PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited at start-up:\n${output()}`);
    const live = await fetch(`${url}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (live) return { child, output, url };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the service did not start:\n${output()}`);
}

/** SIGKILL, as a crash or the OOM killer stops a process: no shutdown code runs. */
export function killHard(proc: MainProcess): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
