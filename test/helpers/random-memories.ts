import type { INestApplicationContext } from '@nestjs/common';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';

/**
 * `count` memories ("memory 1", "memory 2", …) with random embeddings of the app's dimension in a
 * new bank, bypassing retain: a bank of a size the index tests need, in one statement. Returns the
 * embeddings in insertion order.
 */
export async function insertRandomMemories(
  app: INestApplicationContext,
  bankId: string,
  count: number,
  random: () => number,
): Promise<number[][]> {
  const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
  const embeddings = Array.from({ length: count }, () => Array.from({ length: vectors.dimension }, () => random() * 2 - 1));
  const database = app.get(MemoryDatabase);
  await database.query(`INSERT INTO banks (id, name) VALUES ($1, $1)`, [bankId]);
  await database.query(
    `INSERT INTO memory_units (bank_id, text, embedding)
     SELECT $1, 'memory ' || i, e::vector FROM unnest($2::text[]) WITH ORDINALITY AS t(e, i)`,
    [bankId, embeddings.map((embedding) => vectors.serialize(embedding))],
  );
  return embeddings;
}
