import type { Knex } from 'knex';
import type { StripeAccountStore } from '../stripe';
import { inTransaction } from '../db';

/**
 * Records a Stripe account the first time a key is found to act on it; returns its row id. The
 * row from before accounts were recorded (no acct_ id yet) becomes this account's when `claim`
 * says its customers live here: the key did not change across the upgrade.
 */
export async function recordStripeAccount(
  db: Knex,
  stripeAccountId: string,
  livemode: boolean,
  label: string,
  claim: (sampleCustomerId: string | undefined) => Promise<boolean>,
): Promise<number> {
  const known = await db('stripe_accounts').where({ stripe_account_id: stripeAccountId }).first('id');
  if (known) return Number(known.id);
  return inTransaction(db, async (trx) => {
    const legacy = await trx('stripe_accounts').whereNull('stripe_account_id').orderBy('id').forUpdate().first('id');
    if (legacy) {
      const sample = await trx('customers').where({ stripe_account: legacy.id }).first('stripe_customer_id');
      if (await claim(sample?.stripe_customer_id)) {
        await trx('stripe_accounts').where({ id: legacy.id }).update({ stripe_account_id: stripeAccountId, livemode, label });
        return Number(legacy.id);
      }
    }
    await trx('stripe_accounts').insert({ stripe_account_id: stripeAccountId, livemode, label }).onConflict('stripe_account_id').ignore();
    const row = await trx('stripe_accounts').where({ stripe_account_id: stripeAccountId }).first('id');
    return Number(row.id);
  });
}

/** The registry's store (app/stripe/ knows no tables): Stripe accounts recorded in `stripe_accounts`. */
export const stripeAccountStore = (db: Knex): StripeAccountStore => ({
  recordAccount: (stripeAccountId, livemode, label, claim) => recordStripeAccount(db, stripeAccountId, livemode, label, claim),
});
