import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The knowledge base: a tree of folders and pages, a page being a mental model placed in the
 * tree (Hindsight's `knowledge_pages`). The content stays in `mental_models`; a node keeps the
 * tree, and for a page the embedding of its name and content, which the page search computes
 * when the content it was made from has changed (`embedded_md5`).
 *
 * Keys lead with `bank_id` (1764700000000-bank-leading-keys). The parent key cascades, so
 * deleting a folder takes its subtree; the model key cascades, so a page goes with its model
 * whichever route deletes it. A folder's `mental_model_id` is null, which a composite foreign
 * key does not check.
 */
export class KnowledgeBase1765700000000 implements MigrationInterface {
  name = 'KnowledgeBase1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const [setting] = (await queryRunner.query(`SELECT value FROM memory_settings WHERE key = 'vector_backend'`)) as Array<{
      value: string;
    }>;
    const embeddingType = setting?.value === 'pgvector' ? 'vector' : 'real[]';
    await queryRunner.query(`
      CREATE TABLE knowledge_nodes (
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        id text NOT NULL,
        parent_id text,
        kind text NOT NULL CHECK (kind IN ('folder', 'page')),
        name text NOT NULL,
        mental_model_id text,
        sort_order integer NOT NULL DEFAULT 0,
        managed boolean NOT NULL DEFAULT false,
        embedding ${embeddingType},
        embedded_md5 text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (bank_id, id),
        CHECK ((kind = 'page') = (mental_model_id IS NOT NULL)),
        FOREIGN KEY (bank_id, parent_id) REFERENCES knowledge_nodes(bank_id, id) ON DELETE CASCADE,
        FOREIGN KEY (bank_id, mental_model_id) REFERENCES mental_models(bank_id, id) ON DELETE CASCADE
      );
      CREATE INDEX knowledge_nodes_children ON knowledge_nodes (bank_id, parent_id, sort_order, name);
      CREATE UNIQUE INDEX knowledge_nodes_model ON knowledge_nodes (bank_id, mental_model_id) WHERE mental_model_id IS NOT NULL;
      CREATE UNIQUE INDEX knowledge_nodes_page_name ON knowledge_nodes (bank_id, COALESCE(parent_id, ''), lower(name))
        WHERE kind = 'page';
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE knowledge_nodes`);
  }
}
