import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Puts `unit_entities_unit (unit_id, entity_id)` back, which migration 1766300000000 dropped.
 * Recall's observations of its candidates' entities join the links by memory id as well as by
 * entity id, without the bank on purpose (src/recall/recalled-rows.ts, `candidatesQuery`). For a
 * bank with few observations among many links, the cheap way is from the observations to their
 * links, by memory; without an index by memory the planner had only the links of every wanted
 * entity or a scan of the whole table to choose from, and took the scan, in parallel: in a bank
 * of a million memories, with 1.76M links and no observation, a recall's candidates' rows took
 * 154 ms (each statement started two workers, each a new backend) where they take 5 with this
 * index, and recall's p50 went from 33 to 366 ms (BENCHMARKS.md, "Recall in one bank of 1M memories").
 *
 * The index costs each link written an entry. Dropping it had made no measurable difference in
 * one process (3,741 against 3,770 memories/s); runs of the retain benchmark alternating with and
 * without it measured about 8 % of sync retain at batch 100 (5,434 and 5,487 against 5,873 and
 * 6,034 memories/s), a price for not losing a tenfold in recall.
 */
export class LinkUnitIndexBack1766500000000 implements MigrationInterface {
  name = 'LinkUnitIndexBack1766500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX unit_entities_unit ON unit_entities (unit_id, entity_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX unit_entities_unit`);
  }
}
