import type { MigrationInterface, QueryRunner } from 'typeorm';

const EARLIEST = `'0001-01-01 00:00:00+00'::timestamptz`;
const LATEST = `'9999-12-31 23:59:59.999+00'::timestamptz`;

/** The columns that hold a memory's own times, or copies of them. */
const MEMORY_TIMES: Record<string, string[]> = {
  memory_units: ['occurred_start', 'occurred_end', 'mentioned_at'],
  unit_entities: ['memory_at'],
  observation_history: ['previous_occurred_start', 'previous_occurred_end', 'previous_mentioned_at'],
};

/**
 * Moves the memories' times that lie outside years 1 to 9999 to the nearest end of them
 * (src/storage/storable-instant.ts). Earlier versions wrote such times on node-postgres, from a
 * timestamp of 9999-12-31 or a date like "31 December 9999" in the text (whose range ends in year
 * 10000), and reading one back failed every recall, list and export that met the row. One pass
 * over each table; the rows it changes are the only ones written.
 *
 * `down` changes nothing back: the times it moved could not be read.
 */
export class ClampMemoryTimes1766700000000 implements MigrationInterface {
  name = 'ClampMemoryTimes1766700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, columns] of Object.entries(MEMORY_TIMES)) {
      const outside = columns.map((column) => `${column} < ${EARLIEST} OR ${column} > ${LATEST}`).join(' OR ');
      const clamped = columns.map((column) => `${column} = LEAST(GREATEST(${column}, ${EARLIEST}), ${LATEST})`).join(', ');
      await queryRunner.query(`UPDATE ${table} SET ${clamped} WHERE ${outside}`);
    }
  }

  async down(): Promise<void> {}
}
