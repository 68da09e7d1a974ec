import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each memory carries the ids of the entities it is linked to, a copy of its `unit_entities` rows
 * written with the row itself (retain, imports, consolidation, memory edits).
 *
 * Recall reads its 200-odd candidates with their entities; reaching `unit_entities` for each one
 * was a lateral index scan per candidate, about 1.2 ms of a recall at 100k memories (0.4 with
 * the ids on the row), the largest part of "the rest of recall"
 * (docs/ARCHITECTURE.md, "A memory's entities on its row").
 * `unit_entities` stays what every query *by* entity reads (the entity arm, observations, the
 * graph); this column serves only reading a memory's own entities.
 *
 * `NULL` means "not recorded": rows written before this column. Recall reads those rows' links as
 * it did before, so the migration rewrites nothing (a backfill would make a new version of every
 * memory with entities, and with it an entry in each of its indexes: minutes per 100k memories,
 * with every instance waiting for the migration).
 *
 * No trigger keeps the copy: a row-level one on `unit_entities` would update each new memory's
 * row again after its links (a second version of every row retain writes). The writers of
 * links are few and each one writes the column in the same step (src/entities/entities.queries.ts);
 * test/storage/memory-entity-ids.spec.ts compares the two after every kind of write.
 */
export class MemoryEntityIds1766200000000 implements MigrationInterface {
  name = 'MemoryEntityIds1766200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE memory_units ADD COLUMN entity_ids uuid[]`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE memory_units DROP COLUMN entity_ids`);
  }
}
