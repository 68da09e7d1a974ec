import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Directives (rules a bank's owner puts into every reflect and mental-model prompt) and the
 * content history of mental models. Both are bank-owned, so their keys lead with `bank_id`
 * (see 1764700000000-bank-leading-keys).
 */
export class Directives1765200000000 implements MigrationInterface {
  name = 'Directives1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE directives (
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        content text NOT NULL,
        priority integer NOT NULL DEFAULT 0,
        is_active boolean NOT NULL DEFAULT true,
        tags text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (bank_id, id)
      );
      CREATE INDEX directives_by_priority ON directives (bank_id, priority DESC, created_at);

      CREATE TABLE mental_model_history (
        bank_id text NOT NULL,
        mental_model_id text NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        previous_content text,
        new_content text,
        reason text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (bank_id, mental_model_id, id),
        FOREIGN KEY (bank_id, mental_model_id) REFERENCES mental_models(bank_id, id) ON DELETE CASCADE
      );
      CREATE INDEX mental_model_history_by_time ON mental_model_history (bank_id, mental_model_id, changed_at DESC);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE mental_model_history;
      DROP TABLE directives;
    `);
  }
}
