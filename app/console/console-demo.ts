import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../db';
import { authenticate, saveOperator } from './operators';

/** The sandbox's demo operator, as a newcomer types it into the console's login. */
export interface DemoOperator {
  name: string;
  password: string;
}

const FILE = 'console-demo.json';
const NAME = 'demo';

/**
 * Sandbox only: an operator `demo` with a random password, made once and kept in DATA_DIR (the
 * database holds only its hash), so every start can print it again.
 */
export async function ensureDemoOperator(db: Db, dataDir: string, now: Date): Promise<DemoOperator> {
  const inMemory = dataDir.startsWith('memory://');
  const file = path.join(dataDir, FILE);
  if (!inMemory && existsSync(file)) {
    const known = JSON.parse(readFileSync(file, 'utf8')) as DemoOperator;
    if (await authenticate(db, [], known.name, known.password)) return known;
  }
  const demo: DemoOperator = { name: NAME, password: randomBytes(12).toString('base64url') };
  await saveOperator(db, demo.name, demo.password, now);
  if (inMemory) return demo;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return demo;
}
