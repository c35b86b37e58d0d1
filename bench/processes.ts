/** Starting, watching and stopping the benchmark's processes (emulator, service, floor, load driver). */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const running = new Set<ChildProcess>();
// Whatever happens to the orchestrator, the processes it started end with it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Started {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Where its stdout and stderr go. */
  logFile: string;
}

/** Starts `node script args`; its output goes to `logFile`; `ipc` opens Node's message channel to it. */
export function startNode(
  name: string,
  script: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; logFile: string; ipc?: boolean; nodeFlags?: string[] },
): Started {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), script, ...args], {
    env: options.env,
    stdio: ['ignore', fd, fd, ...(options.ipc ? (['ipc'] as const) : [])],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  running.add(child);
  child.once('exit', () => running.delete(child));
  return { name, child, pid: child.pid, logFile: options.logFile };
}

const tail = (file: string): string => readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');

/** Resolves once `url` answers 2xx; fails with the process's last log lines if it exits or takes longer than `timeoutMs`. */
export async function waitReady(started: Started, url: string, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`${started.name} exited (${started.child.exitCode}):\n${tail(started.logFile)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${started.name} not ready at ${url} after ${timeoutMs} ms:\n${tail(started.logFile)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stop(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

/** Runs `node script arg` to its end and answers the last line it printed, parsed as JSON. */
export async function runNodeForJson<T>(script: string, arg: string, env: NodeJS.ProcessEnv): Promise<T> {
  const child = spawn(process.execPath, [script, arg], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  running.delete(child);
  if (code !== 0) throw new Error(`${script} failed (${code}): ${err.trim()}`);
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/** Asks a process started with `ipc` a question and waits for its answer. */
export function ask<T>(started: Started, message: string, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      started.child.off('message', onMessage);
      reject(new Error(`${started.name} did not answer ${message}`));
    }, timeoutMs);
    const onMessage = (answer: unknown) => {
      clearTimeout(timer);
      resolve(answer as T);
    };
    started.child.once('message', onMessage);
    started.child.send(message);
  });
}
