import type { Knex } from 'knex';
import type { StripeAccountStore } from '../stripe';

/**
 * Records a Stripe account (in one mode: test and live objects are apart) the first time a key is
 * found to act on it; returns its row id. The row from before accounts were recorded (no acct_ id
 * yet) becomes this account's when `claim` says its customers live here: the key did not change
 * across the upgrade. Stripe is asked before any lock is taken.
 */
export async function recordStripeAccount(
  db: Knex,
  stripeAccountId: string,
  livemode: boolean,
  label: string,
  claim: (sampleCustomerIds: string[]) => Promise<boolean>,
): Promise<number> {
  const find = () => db('stripe_accounts').where({ stripe_account_id: stripeAccountId, livemode }).first('id');
  const known = await find();
  if (known) return Number(known.id);
  const legacy = await db('stripe_accounts').whereNull('stripe_account_id').orderBy('id').first('id');
  if (legacy) {
    // The newest few: one deleted or missing customer must not decide for all of them.
    const samples = await db('customers').where({ stripe_account: legacy.id }).orderBy('id', 'desc').limit(3).pluck('stripe_customer_id');
    if (await claim(samples)) {
      const claimed = await db('stripe_accounts')
        .where({ id: legacy.id })
        .whereNull('stripe_account_id')
        .update({ stripe_account_id: stripeAccountId, livemode, label });
      if (claimed > 0) return Number(legacy.id);
    }
  }
  await db('stripe_accounts').insert({ stripe_account_id: stripeAccountId, livemode, label }).onConflict(['stripe_account_id', 'livemode']).ignore();
  return Number((await find()).id);
}

/** The registry's store (app/stripe/ knows no tables): Stripe accounts recorded in `stripe_accounts`. */
export const stripeAccountStore = (db: Knex): StripeAccountStore => ({
  recordAccount: (stripeAccountId, livemode, label, claim) => recordStripeAccount(db, stripeAccountId, livemode, label, claim),
});
