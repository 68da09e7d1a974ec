import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops `unit_entities_unit (unit_id, entity_id)`, the index migration 1764700000000 kept when the
 * primary key became `(bank_id, unit_id, entity_id)`. Every statement that reads a memory's links
 * now names its bank, so the primary key serves them, and each link that retain, consolidation
 * and imports write costs one index entry less.
 *
 * `unit_entities_entity (entity_id)` stays, though every statement but one reads an entity's
 * links with the bank too (through `unit_entities_entity_time`): recall's observations of its
 * candidates' entities join by entity alone, because a join given the bank is ordered by the
 * bank's statistics, and a bank new since the last `ANALYZE` is estimated at one row
 * (src/recall/recalled-rows.ts, `loadCandidates`).
 *
 * An instance of an earlier version still running while a newer one migrates (a rolling upgrade)
 * reads a memory's links by its id alone, which without this index scans the table: slower until
 * it is replaced, never wrong.
 *
 * Migration 1766500000000 puts the index back: recall's observations join reads links by memory
 * id too, and without it took a scan of every link in a bank with few observations.
 */
export class LinkUnitIndex1766300000000 implements MigrationInterface {
  name = 'LinkUnitIndex1766300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX unit_entities_unit`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX unit_entities_unit ON unit_entities (unit_id, entity_id)`);
  }
}
