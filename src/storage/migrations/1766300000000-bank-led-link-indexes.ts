import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the two indexes of `unit_entities` that do not lead with the bank: `unit_entities_entity
 * (entity_id)` and `unit_entities_unit (unit_id, entity_id)`. Every statement that reads links now
 * names its bank, so the primary key `(bank_id, unit_id, entity_id)` serves reads by memory and
 * `unit_entities_entity_time (bank_id, entity_id, memory_at, unit_id)` reads by entity, and the
 * two foreign keys' checks (a memory or an entity deleted) are served by the same two.
 *
 * Each of the two cost every link that retain, consolidation and imports write an index entry,
 * to serve nothing the bank-led indexes do not: together about a fifth of the table with its
 * indexes, and sync retain of 100 memories on PostgreSQL ran about 7 % faster without them
 * (medians of 12 rounds each, alternating in one process). They also kept lookups by id alone
 * possible, which on a database distributed by bank go to every shard
 * (docs/SCALING.md, "Keys led by the bank").
 *
 * An instance of an earlier version still running while a newer one migrates (a rolling upgrade)
 * reads links by memory or entity alone, which without these indexes scans the table: slower
 * until it is replaced, never wrong.
 */
export class BankLedLinkIndexes1766300000000 implements MigrationInterface {
  name = 'BankLedLinkIndexes1766300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX unit_entities_entity;
      DROP INDEX unit_entities_unit;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE INDEX unit_entities_unit ON unit_entities (unit_id, entity_id);
      CREATE INDEX unit_entities_entity ON unit_entities (entity_id);
    `);
  }
}
