import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per change of an observation: what it said before consolidation folded new sources into
 * it, and which sources that fold added, so `GET …/memories/{id}/history` can show how it came to
 * read as it does. Bank-owned, so its keys lead with `bank_id` (see 1764700000000-bank-leading-keys).
 *
 * The rows go with their observation through a trigger rather than a foreign key to
 * `memory_units`: such a key would hang on `memory_units_pkey`, which the down() of the
 * bank-leading-keys migration has to drop and re-create.
 */
export class ObservationHistory1765300000000 implements MigrationInterface {
  name = 'ObservationHistory1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE observation_history (
        bank_id text NOT NULL,
        observation_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        previous_text text NOT NULL,
        previous_tags text[] NOT NULL DEFAULT '{}',
        previous_occurred_start timestamptz,
        previous_occurred_end timestamptz,
        previous_mentioned_at timestamptz,
        new_source_memory_ids uuid[] NOT NULL DEFAULT '{}',
        changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (bank_id, observation_id, id),
        FOREIGN KEY (bank_id) REFERENCES banks(id) ON DELETE CASCADE
      );
      CREATE INDEX observation_history_by_time ON observation_history (bank_id, observation_id, changed_at);

      CREATE FUNCTION observation_history_forget() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM observation_history WHERE bank_id = OLD.bank_id AND observation_id = OLD.id;
        RETURN OLD;
      END;
      $$;
      CREATE TRIGGER observation_history_forget AFTER DELETE ON memory_units
        FOR EACH ROW WHEN (OLD.fact_type = 'observation') EXECUTE FUNCTION observation_history_forget();
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER observation_history_forget ON memory_units;
      DROP FUNCTION observation_history_forget();
      DROP TABLE observation_history;
    `);
  }
}
