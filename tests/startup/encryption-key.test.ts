import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, killHard, runMainToExit, startMain } from '../support/main-process';

/** A HUB_ENCRYPTION_KEY that does not open the secrets in the database stops the start with a sentence. */

jest.setTimeout(180_000);

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'pgw-key-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('when the service starts with another HUB_ENCRYPTION_KEY than its secrets were sealed with, then it exits 1 saying so, without a stack trace', async () => {
  // The first start (sandbox, embedded database in a directory) seals the demo merchant's secrets with the development key.
  const first = await startMain({ DATA_DIR: dataDir, EMULATOR_PORT: String(await freePort()) });
  for (let i = 0; i < 300 && !first.output().includes('Payment Hub demo merchant'); i++) await new Promise((r) => setTimeout(r, 100));
  expect(first.output()).toContain('Payment Hub demo merchant');
  await killHard(first);

  const wrong = await runMainToExit({
    DATA_DIR: dataDir,
    EMULATOR_PORT: String(await freePort()),
    PORT: String(await freePort()),
    HUB_ENCRYPTION_KEY: 'cd'.repeat(32),
  });
  expect([wrong.code, wrong.code === 1 ? '' : wrong.output]).toEqual([1, '']);
  expect(wrong.output).toContain(
    "Start-up failed: the Payment Hub's secrets in the database were sealed with another key than HUB_ENCRYPTION_KEY: start with the key they were sealed with",
  );
  expect(wrong.output).not.toMatch(/\n\s+at /);
  expect(wrong.output).not.toContain('listening');

  // With the key they were sealed with (the development key file), it starts again.
  const again = await startMain({ DATA_DIR: dataDir, EMULATOR_PORT: String(await freePort()) });
  await killHard(again);
});
