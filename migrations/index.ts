import type { Knex } from 'knex';
import * as createAccounts from './20261121000001_create_accounts';
import * as createHandshakes from './20261121000002_create_handshakes';
import * as createCards from './20261121000003_create_cards';
import * as createSessions from './20261121000004_create_sessions';
import * as createChargesAndRefunds from './20261121000005_create_charges_and_refunds';
import * as createStripeEvents from './20261121000006_create_stripe_events';
import * as addHandshakeNextCheck from './20261121000007_add_handshake_next_check';
import * as addHandshakeCardAndBrowser from './20261121000008_add_handshake_card_and_browser';
import * as createInstallation from './20261121000009_create_installation';
import * as addChargeAuthAttempts from './20261121000010_add_charge_auth_attempts';
import * as addCheckFailures from './20261121000011_add_check_failures';
import * as ownersAndStripeAccounts from './20261202000012_owners_and_stripe_accounts';
import * as cardSetups from './20261203000013_card_setups';
import * as paymentHub from './20261203000014_payment_hub';
import * as hubRateLimits from './20261203000015_hub_rate_limits';
import * as hubWebhooks from './20261203000016_hub_webhooks';
import * as refundReason from './20261203000017_refund_reason';
import * as consoleOperators from './20261203000018_console_operators';
import * as tokenWebhooks from './20261203000019_token_webhooks';
import * as cardSetupsPaymentMethod from './20261207000020_card_setups_payment_method';
import * as cardForeignKeys from './20261207000021_card_foreign_keys';
import * as billrunChargesSkipEvents from './20261207000022_billrun_charges_skip_events';
import * as redundantIndexes from './20261208000023_redundant_indexes';

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Every migration in order. Listed explicitly (not read from the folder) so the same list works
 * from TypeScript under jest and from compiled JavaScript in dist/.
 */
export const migrations: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261121000001_create_accounts', createAccounts],
  ['20261121000002_create_handshakes', createHandshakes],
  ['20261121000003_create_cards', createCards],
  ['20261121000004_create_sessions', createSessions],
  ['20261121000005_create_charges_and_refunds', createChargesAndRefunds],
  ['20261121000006_create_stripe_events', createStripeEvents],
  ['20261121000007_add_handshake_next_check', addHandshakeNextCheck],
  ['20261121000008_add_handshake_card_and_browser', addHandshakeCardAndBrowser],
  ['20261121000009_create_installation', createInstallation],
  ['20261121000010_add_charge_auth_attempts', addChargeAuthAttempts],
  ['20261121000011_add_check_failures', addCheckFailures],
  ['20261202000012_owners_and_stripe_accounts', ownersAndStripeAccounts],
  ['20261203000013_card_setups', cardSetups],
  ['20261203000014_payment_hub', paymentHub],
  ['20261203000015_hub_rate_limits', hubRateLimits],
  ['20261203000016_hub_webhooks', hubWebhooks],
  ['20261203000017_refund_reason', refundReason],
  ['20261203000018_console_operators', consoleOperators],
  ['20261203000019_token_webhooks', tokenWebhooks],
  ['20261207000020_card_setups_payment_method', cardSetupsPaymentMethod],
  ['20261207000021_card_foreign_keys', cardForeignKeys],
  ['20261207000022_billrun_charges_skip_events', billrunChargesSkipEvents],
  ['20261208000023_redundant_indexes', redundantIndexes],
];

/**
 * A knex MigrationSource over a list of migrations (the list above, or the start of it for a
 * database as an older release left it). Names are those knex records in knex_migrations.
 */
export function migrationSourceOf(list: typeof migrations): Knex.MigrationSource<string> {
  return {
    getMigrations: async () => list.map(([name]) => name),
    getMigrationName: (name) => name,
    getMigration: async (name) => {
      const found = list.find(([n]) => n === name);
      if (!found) throw new Error(`Unknown migration ${name}`);
      return found[1];
    },
  };
}

export const migrationSource: Knex.MigrationSource<string> = migrationSourceOf(migrations);
