import type { Sql } from '../storage/memory-database.js';
import { releaseStaleLlmSupersession } from './llm-supersession.queries.js';

/** Enough for these statements, so that callers holding only `query` (retagging) can recompute. */
export type QuerySql = Pick<Sql, 'query'>;

/**
 * Orders the live raw memories of each attribute key by the fact's own time (when it happened,
 * else when it was said; ties by when it was stored) and marks each as superseded by the next
 * newer one; the newest is current. Recomputing the whole group, rather than comparing one new
 * memory with the current one, gives the same answer whatever order facts arrive in (an old fact
 * retained late stays superseded) and after an edit or an invalidation. Kept as history: nothing
 * is deleted, and questions about the past still find superseded facts. Only memories of the
 * same tag set supersede each other: what one user's notes say never reorders another's.
 *
 * A pointer the LLM stated (`superseded_by_llm`) is left alone: the rule would otherwise clear
 * it whenever the older memory is the newest of its key. It is first given back to the rule when
 * what it was judged on is gone (see `releaseStaleLlmSupersession`), which is why that runs even
 * when no key changed: a deleted LLM successor usually has no key.
 */
export async function recomputeSupersession(sql: QuerySql, bankId: string, attributeKeys: string[]): Promise<number> {
  const released = await releaseStaleLlmSupersession(sql, bankId);
  const keys = [...new Set([...attributeKeys, ...released.keys])].sort();
  if (keys.length === 0) return released.count;
  const [{ count }] = await sql.query<{ count: string }>(
    `WITH ordered AS (
       SELECT id,
              lead(id) OVER (PARTITION BY attribute_key, ARRAY(SELECT DISTINCT t FROM unnest(tags) t ORDER BY t)
                             ORDER BY coalesce(occurred_start, mentioned_at), created_at, id) AS next_id
         FROM memory_units
        WHERE bank_id = $1 AND attribute_key = ANY($2::text[]) AND state = 'valid' AND fact_type <> 'observation'),
     changed AS (
       UPDATE memory_units m
          SET superseded_by = o.next_id,
              superseded_at = CASE WHEN o.next_id IS NULL THEN NULL ELSE now() END
         FROM ordered o
        WHERE m.id = o.id AND NOT m.superseded_by_llm
          -- A deleted successor's foreign key already cleared the pointer, but not its time.
          AND (m.superseded_by IS DISTINCT FROM o.next_id OR (o.next_id IS NULL AND m.superseded_at IS NOT NULL))
        RETURNING m.id)
     SELECT count(*) AS count FROM changed`,
    [bankId, keys],
  );
  return released.count + Number(count);
}

/** Sets a memory's attribute key (an edit changed its text); returns the key it had before. */
export async function setAttributeKey(sql: Sql, memoryId: string, attributeKey: string | null): Promise<string | null> {
  const [row] = await sql.query<{ previous: string | null }>(
    `WITH previous AS (SELECT attribute_key FROM memory_units WHERE id = $1),
     updated AS (UPDATE memory_units SET attribute_key = $2 WHERE id = $1 RETURNING id)
     SELECT (SELECT attribute_key FROM previous) AS previous FROM updated`,
    [memoryId, attributeKey],
  );
  return row?.previous ?? null;
}

/** The attribute keys of the given memories, for recomputing their groups after a change. */
export async function attributeKeysOf(sql: QuerySql, memoryIds: string[]): Promise<string[]> {
  if (memoryIds.length === 0) return [];
  const rows = await sql.query<{ attribute_key: string }>(
    `SELECT DISTINCT attribute_key FROM memory_units WHERE id = ANY($1::uuid[]) AND attribute_key IS NOT NULL`,
    [memoryIds],
  );
  return rows.map((row) => row.attribute_key);
}
