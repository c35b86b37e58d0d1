import type { Knex } from 'knex';

// payment_events feed the Payment Hub's merchant webhooks: the trigger on charges and refunds asks
// hub_merchants whether the row's owner is a merchant, a PL/pgSQL call and a lookup on every insert
// and status change. BillRun's rows (owner 'billrun', the owner every BillRun row has had since
// migration 12) never are: the trigger is not called for them at all.
const TRIGGERS = [
  { table: 'charges', trigger: 'charges_payment_events', subject: 'charge' },
  { table: 'refunds', trigger: 'refunds_payment_events', subject: 'refund' },
];

async function recreate(knex: Knex, when: string): Promise<void> {
  for (const { table, trigger, subject } of TRIGGERS) {
    await knex.raw('DROP TRIGGER IF EXISTS ?? ON ??', [trigger, table]);
    await knex.raw(`CREATE TRIGGER ?? AFTER INSERT OR UPDATE OF status ON ?? FOR EACH ROW ${when} EXECUTE FUNCTION record_payment_event('${subject}')`, [
      trigger,
      table,
    ]);
  }
}

export async function up(knex: Knex): Promise<void> {
  await recreate(knex, "WHEN (NEW.owner_id <> 'billrun')");
}

export async function down(knex: Knex): Promise<void> {
  await recreate(knex, '');
}
