import type { Knex } from 'knex';

// Merchant webhooks out. Every status change of a merchant's charge or refund is recorded by the
// database itself, in the transaction that makes it (a trigger: no code path can forget it, and
// a crash loses nothing); the Hub routes each such event to a signed delivery for the merchant's
// `webhook_url`, retried with backoff.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payment_events', (t) => {
    t.bigIncrements('id').primary();
    t.string('owner_id', 64).notNullable();
    t.string('subject', 8).notNullable();
    t.bigInteger('subject_id').notNullable();
    t.string('status', 32).notNullable();
    t.string('state', 8).notNullable().defaultTo('new');
    t.timestamp('next_check_at', { useTz: true }).defaultTo(knex.fn.now());
    t.integer('check_failures').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['next_check_at']);
  });
  await knex.raw(`
    CREATE FUNCTION record_payment_event() RETURNS trigger AS $$
    BEGIN
      IF (TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status)
         AND EXISTS (SELECT 1 FROM hub_merchants WHERE owner_id = NEW.owner_id) THEN
        INSERT INTO payment_events (owner_id, subject, subject_id, status) VALUES (NEW.owner_id, TG_ARGV[0], NEW.id, NEW.status);
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(
    `CREATE TRIGGER charges_payment_events AFTER INSERT OR UPDATE OF status ON charges FOR EACH ROW EXECUTE FUNCTION record_payment_event('charge')`,
  );
  await knex.raw(
    `CREATE TRIGGER refunds_payment_events AFTER INSERT OR UPDATE OF status ON refunds FOR EACH ROW EXECUTE FUNCTION record_payment_event('refund')`,
  );

  await knex.schema.alterTable('hub_merchants', (t) => {
    // GET (the seed: an empty signal, the merchant reads the transaction) or POST with a JSON body.
    t.string('webhook_method', 4).notNullable().defaultTo('GET');
  });

  await knex.schema.createTable('hub_webhook_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.string('owner_id', 64).notNullable().references('owner_id').inTable('hub_merchants');
    t.bigInteger('payment_event_id').unique().references('id').inTable('payment_events');
    t.bigInteger('transaction_id').notNullable().references('id').inTable('hub_transactions');
    t.string('event_type', 64).notNullable();
    t.text('url').notNullable();
    t.string('method', 4).notNullable();
    t.text('body').notNullable();
    // Stable across retries and resends (Standard Webhooks `webhook-id`).
    t.string('webhook_id', 40).notNullable().unique();
    t.string('state', 12).notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.timestamp('next_check_at', { useTz: true });
    t.integer('check_failures').notNullable().defaultTo(0);
    // Retried until then (24 h after it was made or last re-sent), then failed.
    t.timestamp('give_up_at', { useTz: true }).notNullable();
    t.integer('last_status');
    t.text('last_error');
    t.integer('last_latency_ms');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['owner_id', 'created_at']);
    t.index(['next_check_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('hub_webhook_deliveries');
  await knex.schema.alterTable('hub_merchants', (t) => t.dropColumn('webhook_method'));
  await knex.raw('DROP TRIGGER refunds_payment_events ON refunds');
  await knex.raw('DROP TRIGGER charges_payment_events ON charges');
  await knex.raw('DROP FUNCTION record_payment_event()');
  await knex.schema.dropTable('payment_events');
}
