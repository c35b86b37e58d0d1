import type { Knex } from 'knex';

// The operator console: operators added with `npm run console -- add-user` (their password kept
// only as an Argon2id hash; CONSOLE_USERS can name more in the environment), and what each did
// there (who, what, on which row), kept beside the log line.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('console_operators', (t) => {
    t.string('name', 64).primary();
    t.text('password_hash').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('console_actions', (t) => {
    t.bigIncrements('id').primary();
    t.string('operator', 64).notNullable();
    t.string('action', 32).notNullable();
    t.string('subject', 32);
    t.string('subject_id', 64);
    t.text('detail');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['subject', 'subject_id']);
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('console_actions');
  await knex.schema.dropTable('console_operators');
}
