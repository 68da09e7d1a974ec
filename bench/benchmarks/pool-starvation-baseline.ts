import OpenAI from 'openai';
import type { DataSource } from 'typeorm';
import { observationKey } from '../../src/consolidation/observation-writer.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';

/**
 * The design this project exists to avoid, kept only for the benchmark: each consolidation worker
 * checks out a QueryRunner, opens a transaction, claims a batch, and keeps both while it asks the
 * LLM and embeds each new observation (Hindsight's consolidation before its fix). It does the same
 * SQL and the same external calls as `ConsolidationService`, so the only difference measured is
 * when the connection is held. It talks to the fake provider with its own `openai` client, because
 * the project's clients sit behind the guard that refuses exactly this.
 */
export interface HoldingConsolidationOptions {
  dataSource: DataSource;
  vectors: VectorBackend;
  baseUrl: string;
  bankId: string;
  batchSize: number;
  workers: number;
  model: string;
}

interface ClaimedRow {
  id: string;
  text: string;
  embedding: unknown;
  mentioned_at: Date;
}

export async function consolidateHoldingConnections(options: HoldingConsolidationOptions): Promise<number> {
  const client = new OpenAI({ baseURL: options.baseUrl, apiKey: 'bench', maxRetries: 0 });
  const workers = Array.from({ length: options.workers }, () => holdingWorker(options, client));
  const consolidated = await Promise.all(workers);
  return consolidated.reduce((sum, count) => sum + count, 0);
}

async function holdingWorker(options: HoldingConsolidationOptions, client: OpenAI): Promise<number> {
  const { dataSource, vectors, bankId } = options;
  let consolidated = 0;
  for (;;) {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const batch: ClaimedRow[] = await runner.query(
        `SELECT id, text, embedding, mentioned_at FROM memory_units
          WHERE bank_id = $1 AND fact_type <> 'observation' AND state = 'valid' AND consolidation_status = 'pending'
          ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT $2`,
        [bankId, options.batchSize],
      );
      if (batch.length === 0) {
        await runner.commitTransaction();
        return consolidated;
      }
      const candidates: Array<{ id: string; text: string }> = await runner.query(
        `SELECT DISTINCT o.id, o.text FROM unnest($2::uuid[]) AS b(id)
           JOIN memory_units m ON m.id = b.id
           CROSS JOIN LATERAL (
             SELECT o.id, o.text FROM memory_units o
              WHERE o.bank_id = $1 AND o.fact_type = 'observation' AND o.state = 'valid' AND o.embedding IS NOT NULL
              ORDER BY ${vectors.distance('o', 'm.embedding')}, o.id LIMIT 3) o`,
        [bankId, batch.map((row) => row.id)],
      );

      // The connection stays checked out, inside an open transaction, across both slow calls.
      const completion = await client.chat.completions.create({
        model: options.model,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: 'You consolidate the raw memories of an AI agent into durable observations.' },
          {
            role: 'user',
            content: JSON.stringify({
              memories: batch.map((row) => ({ id: row.id, text: row.text, time: new Date(row.mentioned_at).toISOString() })),
              observations: candidates,
            }),
          },
        ],
      });
      const reply = JSON.parse(completion.choices[0]?.message.content ?? '{}') as {
        create?: Array<{ text: string; source_ids: string[] }>;
      };
      for (const observation of reply.create ?? []) {
        const embedded = await client.embeddings.create({ model: 'bench', input: [observation.text], dimensions: vectors.dimension });
        await runner.query(
          `INSERT INTO memory_units (bank_id, text, fact_type, embedding, source_memory_ids, proof_count, observation_key,
                                     consolidation_status, consolidated_at, mentioned_at)
           VALUES ($1, $2, 'observation', ${vectors.param('$3')}, $4::uuid[], cardinality($4::uuid[]), $5, 'done', now(), now())`,
          [
            bankId,
            observation.text,
            vectors.serialize(embedded.data[0].embedding),
            observation.source_ids,
            observationKey(bankId, observation.source_ids, 'create', []),
          ],
        );
      }
      await runner.query(`UPDATE memory_units SET consolidation_status = 'done', consolidated_at = now() WHERE id = ANY($1::uuid[])`, [
        batch.map((row) => row.id),
      ]);
      await runner.commitTransaction();
      consolidated += batch.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }
}
