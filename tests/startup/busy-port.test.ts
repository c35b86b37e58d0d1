import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** `npm start` as a process: the real main.ts, run from source, on embedded defaults. */

const root = path.resolve(__dirname, '../..');

async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('someone else'));
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function freePort(): Promise<number> {
  const probe = await takenPort();
  await probe.close();
  return probe.port;
}

function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', './tests/support/ts-register.js', 'app/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', DATA_DIR: 'memory://', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // A service that started despite the busy port would run forever: stop it and report.
    const guard = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output });
    });
  });
}

describe('start-up', () => {
  test('when PORT is taken by another process, then start-up exits non-zero naming the port, without saying it listens', async () => {
    const busy = await takenPort();
    try {
      const { code, output } = await runMain({ PORT: String(busy.port), EMULATOR_PORT: String(await freePort()) });
      expect(code).toBe(1);
      expect(output).toContain(`Start-up failed: port ${busy.port} is already in use (PORT=${busy.port})`);
      expect(output).not.toContain('payment gateway listening');
      expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace
    } finally {
      await busy.close();
    }
  });

  test('when EMULATOR_PORT is taken, then start-up exits non-zero naming it', async () => {
    const busy = await takenPort();
    try {
      const { code, output } = await runMain({ PORT: String(await freePort()), EMULATOR_PORT: String(busy.port) });
      expect(code).toBe(1);
      expect(output).toContain(`port ${busy.port} is already in use (EMULATOR_PORT=${busy.port})`);
    } finally {
      await busy.close();
    }
  });
});
