import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, runMainToExit } from '../support/main-process';

/** `npm start` as a process: the real main.ts, run from source, on embedded defaults. */

async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('someone else'));
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// Start-up takes seconds when the machine is idle and tens of seconds when the suite loads it.
jest.setTimeout(180_000);

const runMain = (env: Record<string, string>) => runMainToExit({ DATA_DIR: 'memory://', ...env });

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
