import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A link's memory time (migration 1765900000000) is looked up by the insert trigger only when the
 * writer did not give it.
 *
 * Retain and imports insert a request's links in one statement that reads each memory's time in a
 * join (`linkNewMemories`); the trigger's row-by-row lookup, a PL/pgSQL call per link,
 * was about a third of that statement's time, spent on a value the statement already had. Writers
 * that insert links without the time (consolidation, memory edits, the benchmarks' bulk load) keep
 * getting it from the trigger, so the copy stays right whoever writes.
 */
export class LinkTimeGiven1766100000000 implements MigrationInterface {
  name = 'LinkTimeGiven1766100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER unit_entities_take_memory_time ON unit_entities;
      CREATE TRIGGER unit_entities_take_memory_time BEFORE INSERT ON unit_entities
        FOR EACH ROW WHEN (NEW.memory_at IS NULL) EXECUTE FUNCTION unit_entities_take_memory_time();
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER unit_entities_take_memory_time ON unit_entities;
      CREATE TRIGGER unit_entities_take_memory_time BEFORE INSERT ON unit_entities
        FOR EACH ROW EXECUTE FUNCTION unit_entities_take_memory_time();
    `);
  }
}
