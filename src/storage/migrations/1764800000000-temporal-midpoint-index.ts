import type { MigrationInterface, QueryRunner } from 'typeorm';

const WHEN_START = 'coalesce(occurred_start, mentioned_at)';
const WHEN_END = 'CASE WHEN occurred_start IS NULL THEN mentioned_at ELSE greatest(occurred_start, occurred_end) END';
const LASTS = 'occurred_start IS NOT NULL AND occurred_end > occurred_start';

/**
 * The temporal arm (`src/recall/arms/temporal-arm.ts`) ranks the memories of a range by how near
 * the middle of their own time is to the range's centre. With an index on the bounds only, it read
 * every memory of the range to rank them: at 100k memories a month was some 8,000 rows and 15,000
 * pages a question. An index on the midpoint lets it walk outwards from the centre and stop after
 * the few it returns.
 *
 * The midpoint is indexed in UTC wall-clock time, the one form of it PostgreSQL accepts in an
 * index (see the arm). A memory can overlap a range without its middle being in it only when it
 * lasts; the arm looks for those with the two bound indexes of migration 1764600000000, now
 * partial to memories that last, which also takes them off the write path of every moment.
 *
 * The keyword arm fills its last places with one-word matches, most recent first
 * (`src/recall/arms/keyword-arm.ts`): `memory_units_mentioned` lets it walk a bank by mention time
 * and stop when it has them.
 */
export class TemporalMidpointIndex1764800000000 implements MigrationInterface {
  name = 'TemporalMidpointIndex1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE INDEX memory_units_when_middle ON memory_units (bank_id,
        ((${WHEN_START}) AT TIME ZONE 'UTC' + (${WHEN_END} - ${WHEN_START}) / 2));
      DROP INDEX memory_units_when_start;
      DROP INDEX memory_units_when_end;
      CREATE INDEX memory_units_span_start ON memory_units (bank_id, (${WHEN_START}), (${WHEN_END})) WHERE ${LASTS};
      CREATE INDEX memory_units_span_end ON memory_units (bank_id, (${WHEN_END}), (${WHEN_START})) WHERE ${LASTS};
      CREATE INDEX memory_units_mentioned ON memory_units (bank_id, mentioned_at DESC, id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX memory_units_mentioned;
      DROP INDEX memory_units_span_end;
      DROP INDEX memory_units_span_start;
      DROP INDEX memory_units_when_middle;
      CREATE INDEX memory_units_when_start ON memory_units (bank_id, (${WHEN_START}), (${WHEN_END}));
      CREATE INDEX memory_units_when_end ON memory_units (bank_id, (${WHEN_END}), (${WHEN_START}));
    `);
  }
}
