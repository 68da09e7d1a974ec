import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The temporal arm (`src/recall/arms/temporal-arm.ts`) keeps the memories whose time overlaps the
 * question's range: `when_start < range end AND when_end >= range start`, where a memory's time is
 * its own [occurred_start, occurred_end] when retain dated it, else the moment it was mentioned.
 * Without an index on those two expressions every recall with a time in it read the whole bank.
 *
 * One index per bound, each led by its bank: a range near the present is narrow on the end (few
 * memories end after last Monday), one long ago on the start (few start before 2019), and the
 * planner takes the narrower. The other bound is the index's last column, so it is checked in the
 * index and only the memories of the range are read from the table. A narrow range in the middle
 * of a long history is the case neither serves: the planner cannot know that start and end move
 * together, estimates a quarter of the bank, and scans it, as before this migration.
 *
 * A memory whose end precedes its start (an LLM's answer can say so) counts as a moment, as
 * before: `greatest` ignores a missing end. The arm spells the same two expressions, which is
 * what lets PostgreSQL match them to these indexes; changing one means a new migration.
 */
export class TemporalIndex1764600000000 implements MigrationInterface {
  name = 'TemporalIndex1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE INDEX memory_units_when_start ON memory_units (bank_id,
        (coalesce(occurred_start, mentioned_at)),
        (CASE WHEN occurred_start IS NULL THEN mentioned_at ELSE greatest(occurred_start, occurred_end) END));
      CREATE INDEX memory_units_when_end ON memory_units (bank_id,
        (CASE WHEN occurred_start IS NULL THEN mentioned_at ELSE greatest(occurred_start, occurred_end) END),
        (coalesce(occurred_start, mentioned_at)));
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX memory_units_when_end;
      DROP INDEX memory_units_when_start;
    `);
  }
}
