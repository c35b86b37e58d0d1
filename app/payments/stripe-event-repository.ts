import type { Knex } from 'knex';
import { directRaw, fromJsonColumn } from '../db';

/** A row the event's handler will need, read in the statement that records the event: a scalar subquery giving one jsonb (or null). */
export interface EventPreload<T> {
  sql: string;
  bindings: Knex.Value[];
  parse(value: unknown): T;
}

/**
 * Records a delivery of a Stripe event in one statement: inserted the first time, its delivery
 * count raised on every redelivery. Returns whether it was already processed, and what `preload`
 * read in the same statement (undefined without one, null when it found nothing).
 */
export async function recordStripeEvent<T = never>(
  db: Knex,
  event: { stripeAccount: number; id: string; type: string; objectId: string | null },
  now: Date,
  preload?: EventPreload<T>,
): Promise<{ alreadyProcessed: boolean; preloaded?: T | null }> {
  const result = await directRaw(
    db,
    `with event as (
  insert into stripe_events (stripe_account, id, type, object_id, received_at) values (?, ?, ?, ?, ?)
  on conflict (stripe_account, id) do update set deliveries = stripe_events.deliveries + 1
  returning processed_at
)
select event.processed_at${preload ? `, (${preload.sql}) as preloaded` : ''} from event`,
    [event.stripeAccount, event.id, event.type, event.objectId, now, ...(preload?.bindings ?? [])],
  );
  const row = (result.rows as { processed_at: unknown; preloaded?: unknown }[])[0];
  if (!preload) return { alreadyProcessed: row?.processed_at != null };
  // jsonb arrives parsed from `pg`, as text from some PGlite paths.
  const json = fromJsonColumn<unknown>(row?.preloaded);
  return { alreadyProcessed: row?.processed_at != null, preloaded: json == null ? null : preload.parse(json) };
}

export async function markStripeEventProcessed(db: Knex, stripeAccount: number, id: string, outcome: string, now: Date): Promise<void> {
  await db('stripe_events').where({ stripe_account: stripeAccount, id }).update({ processed_at: now, outcome });
}
