import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Supersession stated by the LLM during consolidation (docs/ARCHITECTURE.md, "Supersession"). The
 * rule recomputes its lines from attribute keys, and an LLM pointer usually joins memories the
 * rule cannot key at all: without a mark of where a pointer came from, the next recompute would
 * clear it as if nothing had replaced the memory. The partial index keeps the check for LLM
 * pointers whose successor went away cheap enough to run on every recompute.
 */
export class LlmSupersession1764500000000 implements MigrationInterface {
  name = 'LlmSupersession1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE memory_units ADD COLUMN superseded_by_llm boolean NOT NULL DEFAULT false;
      CREATE INDEX memory_units_superseded_by_llm ON memory_units (bank_id) WHERE superseded_by_llm;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX memory_units_superseded_by_llm;
      ALTER TABLE memory_units DROP COLUMN superseded_by_llm;
    `);
  }
}
