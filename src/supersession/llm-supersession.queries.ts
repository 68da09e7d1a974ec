import type { Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';

/**
 * Supersession stated by the LLM during consolidation (docs/ARCHITECTURE.md, "Supersession").
 * The rule keys only the attributes it recognises; the LLM can say that "Mara quit the orchestra
 * and now plays in a jazz trio." replaces "Mara plays cello in the city orchestra.", which no key
 * joins. Its pointers are marked (`superseded_by_llm`) so that the rule's recompute keeps them.
 */

type QuerySql = Pick<Sql, 'query'>;

export interface OlderMemoryRow {
  id: string;
  text: string;
  tags: string[] | null;
  /** When the fact happened, else when it was said: the time the rule orders lines by. */
  fact_at: Date;
  created_at: Date;
}

/**
 * The current raw memories of exactly the tag set `tags` nearest to `embedding` that come before
 * the memory `before` in the rule's order (fact time, then storage time, then id), at most
 * `limit`. Only current ones: a memory already superseded is history, and offering it again would
 * invite the LLM to move a line the rule or an earlier batch already settled. The exact tag set,
 * not a scope that only contains it, because tags are a privacy boundary: a memory may only
 * replace one its own readers could see.
 */
export async function nearestOlderMemories(
  sql: QuerySql,
  vectors: VectorBackend,
  query: {
    bankId: string;
    embedding: number[];
    tags: string[];
    before: { factAt: Date; createdAt: Date; id: string };
    exclude: string[];
    limit: number;
  },
): Promise<OlderMemoryRow[]> {
  return sql.query<OlderMemoryRow>(
    `SELECT m.id, m.text, m.tags, coalesce(m.occurred_start, m.mentioned_at) AS fact_at, m.created_at
       FROM memory_units m
      WHERE m.bank_id = $1 AND m.fact_type <> 'observation' AND m.state = 'valid' AND m.superseded_by IS NULL
        AND m.embedding IS NOT NULL
        AND m.tags @> $4::text[] AND m.tags <@ $4::text[]
        AND NOT (m.id = ANY($5::uuid[]))
        AND (coalesce(m.occurred_start, m.mentioned_at), m.created_at, m.id) < ($6::timestamptz, $7::timestamptz, $8::uuid)
      ORDER BY ${vectors.distance('m', '$2')}, m.id
      LIMIT $3`,
    [
      query.bankId,
      vectors.serialize(query.embedding),
      query.limit,
      query.tags,
      query.exclude,
      query.before.factAt,
      query.before.createdAt,
      query.before.id,
    ],
  );
}

/**
 * In the batch's closing transaction: points each older memory at the newer memory of the batch
 * that the LLM said replaces it. Fenced like every write of a batch: the newer memory must still
 * be claimed under `leaseToken`, so a worker whose lease was taken over marks nothing. Checked
 * again here, since the plan was made with no connection held: both live, the same tag set (a
 * retag in between may have moved one), and the older one still current or already pointing at
 * this successor (a rerun of the batch after a crash). Rows are locked in id order first, the
 * lock order of every writer. Returns the older memories marked.
 */
export async function applyLlmSupersession(
  sql: QuerySql,
  bankId: string,
  leaseToken: string,
  pairs: Array<{ olderId: string; newerId: string }>,
): Promise<string[]> {
  if (pairs.length === 0) return [];
  const older = pairs.map((pair) => pair.olderId);
  const newer = pairs.map((pair) => pair.newerId);
  await sql.query(`SELECT id FROM memory_units WHERE bank_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE`, [
    bankId,
    [...new Set([...older, ...newer])],
  ]);
  const marked = await sql.query<{ id: string }>(
    `UPDATE memory_units o
        SET superseded_by = p.newer_id, superseded_by_llm = true,
            superseded_at = CASE WHEN o.superseded_by = p.newer_id THEN coalesce(o.superseded_at, now()) ELSE now() END
       FROM unnest($3::uuid[], $4::uuid[]) AS p(older_id, newer_id)
       JOIN memory_units n ON n.id = p.newer_id
      WHERE o.id = p.older_id AND o.bank_id = $1 AND n.bank_id = $1 AND o.id <> n.id
        AND o.fact_type <> 'observation' AND o.state = 'valid'
        AND n.fact_type <> 'observation' AND n.state = 'valid'
        AND n.lease_token = $2 AND n.consolidation_status = 'claimed'
        AND o.tags @> n.tags AND o.tags <@ n.tags
        AND (o.superseded_by IS NULL OR o.superseded_by = p.newer_id)
      RETURNING o.id`,
    [bankId, leaseToken, older, newer],
  );
  return marked.map((row) => row.id);
}

/**
 * Gives back to the rule the LLM pointers whose judgement no longer stands: the successor was
 * deleted (its foreign key cleared the pointer but not the mark), invalidated, moved to another
 * tag set, or either text was edited after the LLM compared them. Without this a deleted
 * successor would leave the older memory marked as superseded by nothing, and the rule would
 * never touch it again. An edited memory is queued for consolidation again, so the LLM gets to
 * state the pointer anew. Returns how many were released and their attribute keys, whose lines
 * the caller recomputes.
 */
export async function releaseStaleLlmSupersession(sql: QuerySql, bankId: string): Promise<{ count: number; keys: string[] }> {
  const [row] = await sql.query<{ count: number; keys: string[] | null }>(
    `WITH released AS (
       UPDATE memory_units m
          SET superseded_by = NULL, superseded_at = NULL, superseded_by_llm = false
        WHERE m.bank_id = $1 AND m.superseded_by_llm
          AND (m.edited_at > m.superseded_at
               OR NOT EXISTS (
                    SELECT 1 FROM memory_units s
                     WHERE s.id = m.superseded_by AND s.state = 'valid'
                       AND s.tags @> m.tags AND s.tags <@ m.tags
                       AND (s.edited_at IS NULL OR s.edited_at <= m.superseded_at)))
        RETURNING m.attribute_key)
     SELECT count(*)::int AS count, array_agg(DISTINCT attribute_key) FILTER (WHERE attribute_key IS NOT NULL) AS keys
       FROM released`,
    [bankId],
  );
  return { count: Number(row?.count ?? 0), keys: row?.keys ?? [] };
}
