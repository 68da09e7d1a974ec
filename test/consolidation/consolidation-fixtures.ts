import type { INestApplicationContext } from '@nestjs/common';
import { AiClients } from '../../src/external/ai-clients.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';

export interface MemoryRow {
  id: string;
  text: string;
  fact_type: string;
  state: string;
  consolidation_status: string;
  consolidation_attempts: number;
  consolidation_error: string | null;
  lease_owner: string | null;
  lease_token: string | null;
  source_memory_ids: string[] | null;
  proof_count: number | null;
  observation_key: string | null;
  tags: string[];
}

/** Raw memories written straight into the table (embedded with the app's embedder), oldest first. */
export async function seedMemories(app: INestApplicationContext, bankId: string, texts: string[], tags: string[] = []): Promise<string[]> {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<VectorBackend>(MEMORY_VECTOR_BACKEND, { strict: false });
  const embeddings = await app.get(AiClients).embedder.embed(texts);
  return database.transaction(async (sql) => {
    await sql.query(`INSERT INTO banks (id) VALUES ($1) ON CONFLICT DO NOTHING`, [bankId]);
    const ids: string[] = [];
    for (const [index, text] of texts.entries()) {
      const [row] = await sql.query<{ id: string }>(
        `INSERT INTO memory_units (bank_id, text, fact_type, tags, embedding, mentioned_at, created_at)
         VALUES ($1, $2, 'world', $3::text[], ${vectors.param('$4')}, now() + make_interval(secs => $5), now() + make_interval(secs => $5))
         RETURNING id`,
        [bankId, text, tags, vectors.serialize(embeddings[index]), index / 1000],
      );
      ids.push(row.id);
    }
    return ids;
  });
}

export function memoryRows(app: INestApplicationContext, bankId: string, where = 'true', params: unknown[] = []): Promise<MemoryRow[]> {
  return app.get(MemoryDatabase).query<MemoryRow>(
    `SELECT id, text, fact_type, state, consolidation_status, consolidation_attempts, consolidation_error, lease_owner,
            lease_token::text AS lease_token, source_memory_ids, proof_count, observation_key, tags
       FROM memory_units WHERE bank_id = $1 AND (${where}) ORDER BY created_at, id`,
    [bankId, ...params],
  );
}

export async function observations(app: INestApplicationContext, bankId: string): Promise<MemoryRow[]> {
  return memoryRows(app, bankId, `fact_type = 'observation' AND state = 'valid'`);
}

export function sorted(ids: string[] | null): string[] {
  return [...(ids ?? [])].sort();
}
