import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the large banks' keyword walk indexes (`memory_units_mentioned_bank_…`), which the bank
 * index maintenance built until this version. Each carried a memory's words, tags and sources in
 * its entries, and a btree entry holds at most 2,704 bytes: in a bank that had one, a memory with a
 * long context or an observation of a few dozen sources could not be written, and consolidation of
 * such a bank failed batch after batch (src/storage/bank-vector-indexes.queries.ts,
 * `RETIRED_BANK_INDEXES`). The maintenance drops them too, where it runs; this drops them where it
 * does not (turned off, or PGlite without `onPglite`).
 *
 * `down` builds nothing: the maintenance of the version before builds them again on its own.
 */
export class DropKeywordWalkIndexes1766600000000 implements MigrationInterface {
  name = 'DropKeywordWalkIndexes1766600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DO $$
      DECLARE
        walk_index text;
      BEGIN
        FOR walk_index IN
          SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           WHERE i.indrelid = 'memory_units'::regclass AND starts_with(c.relname::text, 'memory_units_mentioned_bank_')
        LOOP
          EXECUTE format('DROP INDEX %I', walk_index);
        END LOOP;
      END
      $$`);
  }

  async down(): Promise<void> {}
}
