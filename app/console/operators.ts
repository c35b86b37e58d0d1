import { hash, verify } from '@node-rs/argon2';
import { CONSOLE_USER_NAME, type ConsoleUser } from '../../config';
import type { Db } from '../db';

/**
 * Console operators: those `npm run console -- add-user` stores (table console_operators) and
 * those CONSOLE_USERS names. Passwords are kept only as Argon2id hashes (@node-rs/argon2's
 * defaults: 19 MiB, 2 passes, the OWASP minimum).
 */

export const MIN_PASSWORD_LENGTH = 12;
export const validOperatorName = (name: string): boolean => CONSOLE_USER_NAME.test(name);

export const hashPassword = (password: string): Promise<string> => hash(password);

/** Verified against an unknown name too, so a wrong name costs the same time as a wrong password. */
let dummyHash: Promise<string> | undefined;

async function verifyHash(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A hash that is not Argon2 (a row edited by hand): no password opens it.
    return false;
  }
}

/** The operator's name when `password` is theirs; undefined otherwise. Stored operators come first. */
export async function authenticate(db: Db, configured: readonly ConsoleUser[], name: string, password: string): Promise<string | undefined> {
  const stored = validOperatorName(name) ? await db('console_operators').where({ name }).first('password_hash') : undefined;
  const passwordHash: string | undefined = stored?.password_hash ?? configured.find((u) => u.name === name)?.passwordHash;
  if (!passwordHash) {
    dummyHash ??= hashPassword('no operator has this password');
    await verifyHash(await dummyHash, password);
    return undefined;
  }
  return (await verifyHash(passwordHash, password)) ? name : undefined;
}

/** Adds an operator, or sets a new password for an existing one. Returns whether the operator is new. */
export async function saveOperator(db: Db, name: string, password: string, now: Date): Promise<boolean> {
  if (!validOperatorName(name)) throw new Error('an operator name is 1-64 letters, digits or . _ @ -');
  if (password.length < MIN_PASSWORD_LENGTH) throw new Error(`a password has at least ${MIN_PASSWORD_LENGTH} characters`);
  const passwordHash = await hashPassword(password);
  const existed = await operatorExists(db, name);
  await db('console_operators')
    .insert({ name, password_hash: passwordHash, created_at: now, updated_at: now })
    .onConflict('name')
    .merge({ password_hash: passwordHash, updated_at: now });
  return !existed;
}

export async function removeOperator(db: Db, name: string): Promise<boolean> {
  // The deleted rows, not knex's count: on the embedded database (knex-pglite) a DELETE answers a result object instead.
  return (await db('console_operators').where({ name }).delete().returning('name')).length > 0;
}

export async function listOperators(db: Db): Promise<Array<{ name: string; createdAt: Date; updatedAt: Date }>> {
  const rows = await db('console_operators').orderBy('name').select('name', 'created_at', 'updated_at');
  return rows.map((r) => ({ name: String(r.name), createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at) }));
}

export async function operatorExists(db: Db, name: string): Promise<boolean> {
  return (await db('console_operators').where({ name }).first('name')) !== undefined;
}

export interface OperatorAction {
  operator: string;
  action: string;
  subject?: string;
  subjectId?: string | number;
  detail?: string;
}

/** What an operator did, kept in console_actions (the caller logs it too). */
export async function recordAction(db: Db, a: OperatorAction, now: Date): Promise<void> {
  await db('console_actions').insert({
    operator: a.operator,
    action: a.action,
    subject: a.subject ?? null,
    subject_id: a.subjectId === undefined ? null : String(a.subjectId),
    detail: a.detail ?? null,
    created_at: now,
  });
}
