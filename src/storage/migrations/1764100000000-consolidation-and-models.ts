import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What consolidation, memory edits and mental models need: edit and invalidation stamps on
 * memories, consolidation bookkeeping, a GIN index to find the observations built on a source,
 * and the mental models themselves.
 */
export class ConsolidationAndModels1764100000000 implements MigrationInterface {
  name = 'ConsolidationAndModels1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE memory_units
        ADD COLUMN invalidated_at timestamptz,
        ADD COLUMN invalidation_reason text,
        ADD COLUMN edited_at timestamptz,
        ADD COLUMN consolidated_at timestamptz,
        ADD COLUMN consolidation_error text;
      CREATE INDEX memory_units_sources ON memory_units USING gin (source_memory_ids)
        WHERE fact_type = 'observation';

      CREATE TABLE mental_models (
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        id text NOT NULL,
        name text NOT NULL,
        source_query text NOT NULL,
        content text,
        based_on jsonb NOT NULL DEFAULT '[]'::jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        max_tokens integer NOT NULL DEFAULT 2048,
        trigger jsonb NOT NULL DEFAULT '{}'::jsonb,
        last_refreshed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bank_id, id)
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE mental_models;
      DROP INDEX memory_units_sources;
      ALTER TABLE memory_units
        DROP COLUMN invalidated_at, DROP COLUMN invalidation_reason, DROP COLUMN edited_at,
        DROP COLUMN consolidated_at, DROP COLUMN consolidation_error;
    `);
  }
}
