import type { Knex } from 'knex';

// Signals for 3-D Secure tokens: a token made with a `webhook_url` has no transaction yet, so the
// merchant learns of its later status changes (review -> verified / failed / skipped, then used)
// at that URL. The database records each change in payment_events in the changing transaction,
// as it does for charges and refunds; a token event names the token (subject_ref), not a row id.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('hub_tokens', (t) => {
    t.text('webhook_url');
  });
  await knex.schema.alterTable('payment_events', (t) => {
    t.string('subject_ref', 40);
  });
  await knex.raw('ALTER TABLE payment_events ALTER COLUMN subject_id DROP NOT NULL');
  await knex.raw(`
    CREATE FUNCTION record_token_event() RETURNS trigger AS $$
    BEGIN
      IF NEW.status IS DISTINCT FROM OLD.status AND NEW.webhook_url IS NOT NULL THEN
        INSERT INTO payment_events (owner_id, subject, subject_ref, status) VALUES (NEW.owner_id, 'token', NEW.id, NEW.status);
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await knex.raw(`CREATE TRIGGER hub_tokens_payment_events AFTER UPDATE OF status ON hub_tokens FOR EACH ROW EXECUTE FUNCTION record_token_event()`);
  await knex.raw('ALTER TABLE hub_webhook_deliveries ALTER COLUMN transaction_id DROP NOT NULL');
  await knex.schema.alterTable('hub_webhook_deliveries', (t) => {
    t.string('token_id', 40).references('id').inTable('hub_tokens');
  });
  await knex.raw(
    'ALTER TABLE hub_webhook_deliveries ADD CONSTRAINT hub_webhook_deliveries_subject_check CHECK (transaction_id IS NOT NULL OR token_id IS NOT NULL)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE hub_webhook_deliveries DROP CONSTRAINT hub_webhook_deliveries_subject_check');
  await knex('hub_webhook_deliveries').whereNull('transaction_id').delete();
  await knex.schema.alterTable('hub_webhook_deliveries', (t) => t.dropColumn('token_id'));
  await knex.raw('ALTER TABLE hub_webhook_deliveries ALTER COLUMN transaction_id SET NOT NULL');
  await knex.raw('DROP TRIGGER hub_tokens_payment_events ON hub_tokens');
  await knex.raw('DROP FUNCTION record_token_event()');
  await knex('payment_events').whereNull('subject_id').delete();
  await knex.raw('ALTER TABLE payment_events ALTER COLUMN subject_id SET NOT NULL');
  await knex.schema.alterTable('payment_events', (t) => t.dropColumn('subject_ref'));
  await knex.schema.alterTable('hub_tokens', (t) => t.dropColumn('webhook_url'));
}
