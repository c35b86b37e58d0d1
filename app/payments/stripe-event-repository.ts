import type { Knex } from 'knex';

/**
 * Records a delivery of a Stripe event in one statement: inserted the first time, its delivery
 * count raised on every redelivery. Returns whether it was already processed.
 */
export async function recordStripeEvent(
  db: Knex,
  event: { stripeAccount: number; id: string; type: string; objectId: string | null },
  now: Date,
): Promise<{ alreadyProcessed: boolean }> {
  const [row] = await db('stripe_events')
    .insert({ stripe_account: event.stripeAccount, id: event.id, type: event.type, object_id: event.objectId, received_at: now })
    .onConflict(['stripe_account', 'id'])
    .merge({ deliveries: db.raw('stripe_events.deliveries + 1') })
    .returning(['processed_at']);
  return { alreadyProcessed: row?.processed_at != null };
}

export async function markStripeEventProcessed(db: Knex, stripeAccount: number, id: string, outcome: string, now: Date): Promise<void> {
  await db('stripe_events').where({ stripe_account: stripeAccount, id }).update({ processed_at: now, outcome });
}
