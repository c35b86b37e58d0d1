/**
 * Standalone emulator: `npm run emulator`. Listens on EMULATOR_PORT (default 12111) and
 * EMULATOR_HOST (default 127.0.0.1), accepts any sk_test_ key (each its own account); with EMULATOR_STATE_FILE its
 * state survives restarts in that file. This is a developer tool beside
 * the service, so it reads its few variables here rather than through config/.
 */
import { startEmulator } from './index';

async function main(): Promise<void> {
  const port = Number(process.env.EMULATOR_PORT ?? 12111);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`EMULATOR_PORT must be a port number, got ${process.env.EMULATOR_PORT}\n`);
    process.exit(2);
  }
  const verbose = process.env.EMULATOR_VERBOSE === '1';
  const stateFile = process.env.EMULATOR_STATE_FILE || undefined;
  const emulator = await startEmulator({
    port,
    host: process.env.EMULATOR_HOST ?? '127.0.0.1',
    publicUrl: process.env.EMULATOR_PUBLIC_URL || undefined,
    stateFile,
    // Without EMULATOR_VERBOSE only what the state file has to say (loaded, set aside, save failed).
    log: (msg, fields) => {
      if (verbose || fields?.severity !== undefined) process.stderr.write(`${JSON.stringify({ msg, ...fields })}\n`);
    },
  });
  process.stdout.write(
    `Stripe emulator (sandbox, no real money) listening on ${emulator.url} — use any sk_test_ key, each its own account` +
      `${stateFile ? ` — state kept in ${stateFile}` : ''}\n`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`Stripe emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
