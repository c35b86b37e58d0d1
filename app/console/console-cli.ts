import { parseConfig } from '../../config';
import { createDb, migrateLatest } from '../db';
import { systemClock } from '../shared/clock';
import { hashPassword, listOperators, MIN_PASSWORD_LENGTH, removeOperator, saveOperator, validOperatorName } from './operators';

/**
 * `npm run console -- <command>`: console operators in the database the service uses
 * (DATABASE_URL, or the embedded database in DATA_DIR: stop the service first, it holds those
 * files). Passwords come from CONSOLE_PASSWORD or standard input, never from the command line.
 */

const USAGE = `usage: npm run console -- <command>
  add-user <name>        add an operator, or set a new password for one (password: CONSOLE_PASSWORD or standard input)
  remove-user <name>
  list-users
  hash-password          print an Argon2id hash for CONSOLE_USERS (password: CONSOLE_PASSWORD or standard input)
environment: DATABASE_URL or DATA_DIR as for npm start (the embedded database: with the service stopped)`;

async function readPassword(): Promise<string> {
  const fromEnv = process.env.CONSOLE_PASSWORD;
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) process.stderr.write(`Password (at least ${MIN_PASSWORD_LENGTH} characters), then Enter and Ctrl-D: `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One line: the trailing new line of `echo` or a terminal is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** The embedded database's files belong to one process: a service answering on PORT is using them. */
async function refuseWhileServiceRuns(port: number): Promise<void> {
  const answered = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(1000) }).then(
    () => true,
    () => false,
  );
  if (answered) throw new Error(`a service answers on port ${port} and holds the embedded database: stop it first (or use DATABASE_URL)`);
}

async function withDb<T>(fn: (db: ReturnType<typeof createDb>) => Promise<T>): Promise<T> {
  const config = parseConfig(process.env);
  if (!config.database.url) await refuseWhileServiceRuns(config.port);
  const db = createDb({ url: config.database.url, pgliteDataDir: config.database.dataDir });
  try {
    await migrateLatest(db);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, name] = argv;
  switch (command) {
    case 'add-user': {
      if (!name || !validOperatorName(name)) throw new Error('add-user needs a name of 1-64 letters, digits or . _ @ -');
      const password = await readPassword();
      const created = await withDb((db) => saveOperator(db, name, password, systemClock.now()));
      process.stdout.write(`${created ? 'added operator' : 'new password for operator'} ${name}\n`);
      return;
    }
    case 'remove-user': {
      if (!name) throw new Error('remove-user needs a name');
      const removed = await withDb((db) => removeOperator(db, name));
      if (!removed) throw new Error(`no operator ${name} in the database (one from CONSOLE_USERS is removed there)`);
      process.stdout.write(`removed operator ${name}\n`);
      return;
    }
    case 'list-users': {
      const operators = await withDb((db) => listOperators(db));
      for (const o of operators) process.stdout.write(`${o.name}\tadded ${o.createdAt.toISOString()}\tpassword set ${o.updatedAt.toISOString()}\n`);
      if (operators.length === 0) process.stdout.write('no operators in the database\n');
      return;
    }
    case 'hash-password': {
      const password = await readPassword();
      if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`a password has at least ${MIN_PASSWORD_LENGTH} characters`);
      process.stdout.write(`${await hashPassword(password)}\n`);
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
