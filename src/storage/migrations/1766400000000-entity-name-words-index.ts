import type { MigrationInterface, QueryRunner } from 'typeorm';

const WORDS = `btrim(regexp_replace(lower(canonical_name), '[^[:alnum:]]+', ' ', 'g'))`;

/**
 * Drops `entities_name_words`, the index of migration 1764900000000 on a name's words. Recall
 * finds the names a question gives by their first word alone (`namedEntitiesQuery` in
 * src/recall/arms/entity-arm.ts): a name given in full begins with one of the question's words
 * too, so the first-word index finds it, and nothing else read this one. Each entity retain and
 * imports write costs one index entry less.
 *
 * An instance of an earlier version still running while a newer one migrates (a rolling upgrade)
 * also looks the names' words up, and without this index its statement reads the bank's entities
 * and filters them: slower until it is replaced, never wrong.
 */
export class EntityNameWordsIndex1766400000000 implements MigrationInterface {
  name = 'EntityNameWordsIndex1766400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX entities_name_words`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX entities_name_words ON entities (bank_id, (${WORDS}))`);
  }
}
