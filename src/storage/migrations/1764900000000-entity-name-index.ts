import type { MigrationInterface, QueryRunner } from 'typeorm';

/** As `words` and `firstWord` in `src/recall/arms/entity-arm.ts` spell them (there with the `e.` alias). */
const WORDS = `btrim(regexp_replace(lower(canonical_name), '[^[:alnum:]]+', ' ', 'g'))`;

/**
 * Every recall looks for the people its question names (`namedEntities`). It compared each of the
 * bank's entities with the question, a regular expression per entity: fine for a thousand, not
 * for a bank that has met fifty thousand people. It now compares the names' words with the
 * question's word runs, by equality, and these two indexes, led by the bank, answer it: one on a
 * name's words, one on its first word (people are asked about by first name). An expression index
 * serves only the very expression it was built on: the arm must keep spelling them this way.
 */
export class EntityNameIndex1764900000000 implements MigrationInterface {
  name = 'EntityNameIndex1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE INDEX entities_name_words ON entities (bank_id, (${WORDS}));
      CREATE INDEX entities_first_name_word ON entities (bank_id, (split_part(${WORDS}, ' ', 1)));
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX entities_first_name_word;
      DROP INDEX entities_name_words;
    `);
  }
}
