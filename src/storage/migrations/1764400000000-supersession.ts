import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Supersession (docs/ARCHITECTURE.md, "Supersession"): which fact about whom a memory states
 * (`attribute_key`), and the newer memory that replaced it. A superseded memory is kept as
 * history; deleting its successor makes it current again (`ON DELETE SET NULL`) until the group
 * is recomputed.
 */
export class Supersession1764400000000 implements MigrationInterface {
  name = 'Supersession1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE memory_units
        ADD COLUMN attribute_key text,
        ADD COLUMN superseded_by uuid REFERENCES memory_units(id) ON DELETE SET NULL,
        ADD COLUMN superseded_at timestamptz;
      CREATE INDEX memory_units_attribute ON memory_units (bank_id, attribute_key) WHERE attribute_key IS NOT NULL;
      CREATE INDEX memory_units_superseded_by ON memory_units (superseded_by) WHERE superseded_by IS NOT NULL;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX memory_units_superseded_by;
      DROP INDEX memory_units_attribute;
      ALTER TABLE memory_units DROP COLUMN superseded_at, DROP COLUMN superseded_by, DROP COLUMN attribute_key;
    `);
  }
}
