import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_CHUNK_SIZE, splitIntoChunks } from '../../documents/chunking.js';

/** Documents read per round of the backfill: their texts are held in memory together. */
const BACKFILL_PAGE = 200;

/**
 * A document's text is stored as chunks (Hindsight's `retain_chunk_size`), and each memory
 * points at the chunk it was extracted from, so recall can return the passage around a fact and
 * `…/documents/{id}/chunks` can list it. Keys lead with the bank, as every bank-owned table's do
 * (migration 1764700000000); `chunks.id` alone answers `GET /chunks/{id}`, which names no bank.
 *
 * Existing documents are chunked from their stored text, with their bank's chunk size. Their
 * memories are given the first chunk whose text contains theirs, or the only chunk of a
 * one-chunk document; a memory an LLM reworded in a longer document stays without one rather
 * than point at a passage that may not be its source.
 */
export class DocumentChunks1765100000000 implements MigrationInterface {
  name = 'DocumentChunks1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE chunks (
        bank_id text NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        document_id text NOT NULL,
        chunk_index integer NOT NULL,
        chunk_text text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bank_id, id),
        UNIQUE (bank_id, document_id, chunk_index),
        FOREIGN KEY (bank_id, document_id) REFERENCES documents(bank_id, id) ON DELETE CASCADE
      );
      CREATE INDEX chunks_id ON chunks (id);
      ALTER TABLE memory_units
        ADD COLUMN chunk_id uuid,
        ADD CONSTRAINT memory_units_bank_id_chunk_id_fkey FOREIGN KEY (bank_id, chunk_id)
          REFERENCES chunks(bank_id, id) ON DELETE SET NULL (chunk_id);
      CREATE INDEX memory_units_chunk ON memory_units (bank_id, chunk_id) WHERE chunk_id IS NOT NULL;
    `);

    let chunked = 0;
    let after: { bankId: string; id: string } | null = null;
    for (;;) {
      const page = (await queryRunner.query(
        `SELECT d.bank_id, d.id, d.original_text, b.config->>'retain_chunk_size' AS chunk_size
           FROM documents d JOIN banks b ON b.id = d.bank_id
          WHERE d.original_text IS NOT NULL AND ($1::text IS NULL OR (d.bank_id, d.id) > ($1::text, $2::text))
          ORDER BY d.bank_id, d.id
          LIMIT ${BACKFILL_PAGE}`,
        [after?.bankId ?? null, after?.id ?? null],
      )) as Array<{ bank_id: string; id: string; original_text: string; chunk_size: string | null }>;
      if (page.length === 0) break;
      const rows = page.flatMap((document) =>
        splitIntoChunks(document.original_text, chunkSize(document.chunk_size)).map((text, index) => ({
          bankId: document.bank_id,
          documentId: document.id,
          index,
          text,
        })),
      );
      if (rows.length > 0) {
        await queryRunner.query(
          `INSERT INTO chunks (bank_id, id, document_id, chunk_index, chunk_text)
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::text[])`,
          [
            rows.map((row) => row.bankId),
            rows.map(() => randomUUID()),
            rows.map((row) => row.documentId),
            rows.map((row) => row.index),
            rows.map((row) => row.text),
          ],
        );
      }
      chunked += page.length;
      const last = page[page.length - 1];
      after = { bankId: last.bank_id, id: last.id };
    }

    await queryRunner.query(`
      UPDATE memory_units m SET chunk_id = (
        SELECT c.id FROM chunks c
         WHERE c.bank_id = m.bank_id AND c.document_id = m.document_id
           AND (strpos(c.chunk_text, m.text) > 0
                OR NOT EXISTS (SELECT 1 FROM chunks o WHERE o.bank_id = c.bank_id AND o.document_id = c.document_id AND o.chunk_index > 0))
         ORDER BY c.chunk_index
         LIMIT 1)
       WHERE m.document_id IS NOT NULL AND m.fact_type <> 'observation'
    `);
    if (chunked > 0) new Logger('Migrations').log(`Documents chunked from their stored text: ${chunked}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX memory_units_chunk;
      ALTER TABLE memory_units DROP COLUMN chunk_id;
      DROP TABLE chunks;
    `);
  }
}

function chunkSize(configured: string | null): number {
  const size = Number(configured);
  return Number.isInteger(size) && size > 0 ? size : DEFAULT_CHUNK_SIZE;
}
