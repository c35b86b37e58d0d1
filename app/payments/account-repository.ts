import type { Knex } from 'knex';
import { toSafeInt } from '../db';

export interface Account {
  aid: number;
  stripeCustomerId: string;
  email: string | null;
}

interface AccountRow {
  aid: unknown;
  stripe_customer_id: string;
  email: string | null;
}

const toAccount = (row: AccountRow): Account => ({
  aid: toSafeInt(row.aid),
  stripeCustomerId: row.stripe_customer_id,
  email: row.email,
});

export async function findAccount(db: Knex | Knex.Transaction, aid: number, options: { forUpdate?: boolean } = {}): Promise<Account | undefined> {
  const query = db<AccountRow>('accounts').where({ aid }).first();
  const row = await (options.forUpdate ? query.forUpdate() : query);
  return row ? toAccount(row) : undefined;
}

/**
 * Records the aid -> customer mapping unless one exists; returns the mapping that won, so two
 * parallel first requests agree on one customer.
 */
export async function insertAccountIfAbsent(db: Knex, account: Account): Promise<Account> {
  await db('accounts')
    .insert({ aid: account.aid, stripe_customer_id: account.stripeCustomerId, email: account.email })
    .onConflict('aid')
    .ignore();
  const stored = await findAccount(db, account.aid);
  if (!stored) throw new Error(`account ${account.aid} vanished after insert`);
  return stored;
}
