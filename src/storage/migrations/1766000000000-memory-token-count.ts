import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each memory carries what it costs a recall's token budget: the cl100k_base tokens of its text
 * plus those of its context, counted once by whoever writes it (retain, imports, consolidation).
 *
 * Recall budgets some 200 candidates at its default size, and counting them was the largest piece
 * of its work on the event loop (about 2 ms per recall of memories the counter had not seen yet,
 * the queue every concurrent request waits in). A stored count is read with the row instead.
 *
 * `NULL` means "not counted": rows written before this column, and any write that changes the text
 * or context without giving the new count. Recall counts those itself, so the trigger below is what
 * keeps a count from outliving the text it was made of, whoever the writer. A writer that gives a
 * new text the old text's count (the same number of tokens) looks to it like one that gave none,
 * and that row is counted by recall: slower, never wrong.
 */
export class MemoryTokenCount1766000000000 implements MigrationInterface {
  name = 'MemoryTokenCount1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE memory_units ADD COLUMN tokens_cl100k integer;

      CREATE FUNCTION memory_units_forget_stale_token_count() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.tokens_cl100k := NULL;
        RETURN NEW;
      END;
      $$;
      CREATE TRIGGER memory_units_forget_stale_token_count BEFORE UPDATE OF text, context ON memory_units
        FOR EACH ROW
        WHEN ((OLD.text, OLD.context) IS DISTINCT FROM (NEW.text, NEW.context)
              AND OLD.tokens_cl100k IS NOT DISTINCT FROM NEW.tokens_cl100k)
        EXECUTE FUNCTION memory_units_forget_stale_token_count();
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER memory_units_forget_stale_token_count ON memory_units;
      DROP FUNCTION memory_units_forget_stale_token_count();
      ALTER TABLE memory_units DROP COLUMN tokens_cl100k;
    `);
  }
}
