import type { Sql } from '../storage/memory-database.js';
import { CONSOLIDATION_OPERATION } from './consolidation.types.js';
import { type ObservationScopesSpec, scopeKey, scopesOf } from './observation-scopes.js';

/** Only `query` is needed, so a migration's QueryRunner can run these too. */
export type QuerySql = Pick<Sql, 'query'>;

/** Why an observation whose sources span several scopes stopped counting. */
export const CROSS_SCOPE_REASON = 'sources span observation scopes';

/**
 * Invalidates the live observations built on any of `memoryIds` and returns the sources of those
 * observations (the given memories included), so the caller can queue them again.
 *
 * Lock order, shared with consolidation and edits: the sources (id order) before the
 * observations. The caller has already locked `memoryIds` themselves.
 */
export async function invalidateObservationsBuiltOn(sql: QuerySql, bankId: string, memoryIds: string[], reason: string): Promise<string[]> {
  if (memoryIds.length === 0) return [];
  const observations = await sql.query<{ id: string; source_memory_ids: string[] }>(
    `SELECT id, source_memory_ids::text[] AS source_memory_ids FROM memory_units
      WHERE bank_id = $1 AND fact_type = 'observation' AND state = 'valid' AND source_memory_ids && $2::uuid[]
      ORDER BY id`,
    [bankId, memoryIds],
  );
  if (observations.length === 0) return memoryIds;
  const given = new Set(memoryIds);
  const sources = [...new Set(observations.flatMap((row) => row.source_memory_ids))];
  const others = sources.filter((id) => !given.has(id)).sort();
  if (others.length) await sql.query(`SELECT id FROM memory_units WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [others]);
  await sql.query(
    `WITH invalidated AS (
       UPDATE memory_units SET state = 'invalidated', invalidated_at = now(), invalidation_reason = $2, updated_at = now()
        WHERE id = ANY($1::uuid[]) AND state = 'valid'
        RETURNING id)
     SELECT count(*) FROM invalidated`,
    [observations.map((row) => row.id), reason],
  );
  return [...memoryIds, ...others];
}

/**
 * Puts memories back in the consolidation queue. A scope in which a memory is still the source
 * of a live observation stays done, so consolidation does not fold it into that scope twice;
 * every other scope of the memory is consolidated again. Clearing the lease fences off a batch
 * that claimed one of them earlier: its token no longer matches, so it writes nothing.
 */
export async function requeueForConsolidation(sql: QuerySql, bankId: string, memoryIds: string[]): Promise<number> {
  if (memoryIds.length === 0) return 0;
  // Each covered scope comes back as the JSON of its observation's tags, parsed and keyed here.
  const covered = await sql.query<{ id: string; scopes: string[] }>(
    `SELECT m.id, COALESCE(array_agg(array_to_json(o.tags)::text) FILTER (WHERE o.id IS NOT NULL), '{}') AS scopes
       FROM memory_units m
       LEFT JOIN memory_units o ON o.bank_id = m.bank_id AND o.fact_type = 'observation' AND o.state = 'valid'
                               AND m.id = ANY(o.source_memory_ids)
      WHERE m.bank_id = $1 AND m.id = ANY($2::uuid[]) AND m.state = 'valid' AND m.fact_type <> 'observation'
      GROUP BY m.id`,
    [bankId, memoryIds],
  );
  let requeued = 0;
  for (const row of covered) {
    const done = [...new Set(row.scopes.map((json) => scopeKey(JSON.parse(json) as string[])))];
    const [{ count }] = await sql.query<{ count: string }>(
      `WITH requeued AS (
         UPDATE memory_units
            SET consolidation_status = 'pending', consolidation_attempts = 0, consolidated_at = NULL, consolidation_error = NULL,
                consolidated_scopes = $2::text[], lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL, updated_at = now()
          WHERE id = $1
          RETURNING id)
       SELECT count(*) AS count FROM requeued`,
      [row.id, done],
    );
    requeued += Number(count);
  }
  return requeued;
}

/** What the repair of observations built across scopes found and did. */
export interface CrossScopeRepairReport {
  observationsInvalidated: number;
  memoriesRequeued: number;
  banks: string[];
}

const REPAIR_PAGE = 500;

/**
 * Finds live observations whose sources do not all share the observation's own tag set as one
 * of their scopes (what consolidation wrote before scopes existed: one observation for memories
 * of different users, tagged with the union of their tags), invalidates them, queues their
 * sources again and queues a consolidation of each bank concerned. Running it again finds
 * nothing: it is idempotent.
 */
export async function repairCrossScopeObservations(sql: QuerySql): Promise<CrossScopeRepairReport> {
  const report: CrossScopeRepairReport = { observationsInvalidated: 0, memoriesRequeued: 0, banks: [] };
  const byBank = new Map<string, { observations: string[]; sources: Set<string> }>();
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    // Only observations with a source whose tags differ from the observation's can be wrong;
    // the scope rule itself is applied below, in the one place it is defined.
    const page = await sql.query<{
      id: string;
      bank_id: string;
      tags: string[];
      sources: Array<{ id: string; tags: string[]; observation_scopes: ObservationScopesSpec | null }>;
    }>(
      `SELECT o.id, o.bank_id, o.tags,
              (SELECT json_agg(json_build_object('id', s.id, 'tags', s.tags, 'observation_scopes', s.observation_scopes))
                 FROM memory_units s WHERE s.id = ANY(o.source_memory_ids)) AS sources
         FROM memory_units o
        WHERE o.fact_type = 'observation' AND o.state = 'valid' AND o.id > $1::uuid
          AND EXISTS (SELECT 1 FROM memory_units s WHERE s.id = ANY(o.source_memory_ids) AND NOT (s.tags @> o.tags AND s.tags <@ o.tags))
        ORDER BY o.id
        LIMIT $2`,
      [after, REPAIR_PAGE],
    );
    for (const row of page) {
      const key = scopeKey(row.tags);
      const sources = row.sources ?? [];
      const inScope = sources.every((source) => scopesOf(source.tags, source.observation_scopes).some((scope) => scopeKey(scope) === key));
      if (inScope) continue;
      const entry = byBank.get(row.bank_id) ?? { observations: [], sources: new Set<string>() };
      entry.observations.push(row.id);
      sources.forEach((source) => entry.sources.add(source.id));
      byBank.set(row.bank_id, entry);
    }
    if (page.length < REPAIR_PAGE) break;
    after = page[page.length - 1].id;
  }
  for (const [bankId, { observations, sources }] of byBank) {
    const ids = [...sources].sort();
    await sql.query(`SELECT id FROM memory_units WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
    const [{ count }] = await sql.query<{ count: string }>(
      `WITH invalidated AS (
         UPDATE memory_units SET state = 'invalidated', invalidated_at = now(), invalidation_reason = $2, updated_at = now()
          WHERE id = ANY($1::uuid[]) AND state = 'valid'
          RETURNING id)
       SELECT count(*) AS count FROM invalidated`,
      [observations, CROSS_SCOPE_REASON],
    );
    report.observationsInvalidated += Number(count);
    report.memoriesRequeued += await requeueForConsolidation(sql, bankId, ids);
    await sql.query(
      `INSERT INTO operations (bank_id, kind)
       SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM operations WHERE bank_id = $1 AND kind = $2 AND status = 'pending')`,
      [bankId, CONSOLIDATION_OPERATION],
    );
    report.banks.push(bankId);
  }
  return report;
}
