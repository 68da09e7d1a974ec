import type { INestApplicationContext } from '@nestjs/common';
import { hashingVector } from '../../src/external/hashing-embedder.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';

/**
 * Raw world memories straight into the table, pending consolidation, oldest first (a millisecond
 * apart), embedded as the hashing embedder (and the fake OpenAI server) would: what the
 * consolidation benchmarks start from, without retain's cost in their set-up.
 */
export async function seedRawMemories(app: INestApplicationContext, bankId: string, texts: string[]): Promise<void> {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<VectorBackend>(MEMORY_VECTOR_BACKEND, { strict: false });
  await database.query(`INSERT INTO banks (id) VALUES ($1) ON CONFLICT DO NOTHING`, [bankId]);
  for (let start = 0; start < texts.length; start += 200) {
    const chunk = texts.slice(start, start + 200);
    const params: unknown[] = [bankId];
    const rows = chunk.map((text, offset) => {
      params.push(text, vectors.serialize(hashingVector(text, vectors.dimension)), start + offset);
      const at = params.length;
      const time = `now() + make_interval(secs => $${at}::double precision / 1000)`;
      return `($1, $${at - 2}, 'world', ${vectors.param(`$${at - 1}`)}, ${time}, ${time})`;
    });
    await database.query(
      `INSERT INTO memory_units (bank_id, text, fact_type, embedding, mentioned_at, created_at) VALUES ${rows.join(', ')}`,
      params,
    );
  }
}
