import type { Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import { CONSOLIDATION_OPERATION } from './consolidation.types.js';
import type { ObservationScopesSpec } from './observation-scopes.js';

/**
 * A batch's claim on its memories: `consolidation_status = 'claimed'`, a lease and one fencing
 * token (`lease_token`) for the whole batch (docs/ARCHITECTURE.md, "Leases and fencing tokens").
 * Every later write about the batch's memories is conditioned on that token and on the status
 * still being `claimed`, so a worker whose lease was taken over writes nothing.
 */

/** `pg_try_advisory_xact_lock` key of the consolidation tick: one tick at a time across the fleet. */
export const CONSOLIDATION_TICK_LOCK = 0x6d656d01;

export interface ClaimedRow {
  id: string;
  text: string;
  tags: string[];
  observation_scopes: ObservationScopesSpec | null;
  consolidated_scopes: string[] | null;
  embedding: unknown;
  created_at: Date;
  mentioned_at: Date;
  occurred_start: Date | null;
  occurred_end: Date | null;
  lease_token: string;
}

export interface CandidateRow {
  id: string;
  text: string;
  tags: string[] | null;
  embedding: unknown;
  source_memory_ids: string[] | null;
}

export interface SourceTextRow {
  id: string;
  text: string;
  mentioned_at: Date;
}

/**
 * Locks the bank row `FOR NO KEY UPDATE`, which memory inserts do not conflict with, so that two
 * concurrent requests cannot both find no pending consolidation. False when there is no such bank.
 */
export async function lockBankForConsolidation(sql: Sql, bankId: string): Promise<boolean> {
  const [bank] = await sql.query(`SELECT id FROM banks WHERE id = $1 FOR NO KEY UPDATE`, [bankId]);
  return bank !== undefined;
}

/** The oldest consolidation of the bank queued in one of `statuses`, if any. */
export async function findQueuedConsolidation(sql: Sql, bankId: string, statuses: string[]): Promise<string | undefined> {
  const [existing] = await sql.query<{ id: string }>(
    `SELECT id FROM operations WHERE bank_id = $1 AND kind = $2 AND status = ANY($3::text[]) ORDER BY created_at LIMIT 1`,
    [bankId, CONSOLIDATION_OPERATION, statuses],
  );
  return existing?.id;
}

/** A memory any run may claim: raw, live, waiting, or claimed under a lease that has run out. */
const CLAIMABLE = `fact_type <> 'observation' AND state = 'valid'
  AND (consolidation_status = 'pending' OR (consolidation_status = 'claimed' AND lease_expires_at < now()))`;

/**
 * Claims up to `batchSize` unconsolidated memories of the bank, oldest first, skipping `exclude`;
 * an expired lease is anyone's. `SKIP LOCKED` lets concurrent batches pass each other.
 */
export async function claimBatch(
  sql: Sql,
  claim: { bankId: string; owner: string; leaseMs: number; batchSize: number; exclude: string[] },
): Promise<ClaimedRow[]> {
  // The rows are picked in a CTE of its own, materialized, so the pick runs once whatever the
  // plan. Written as `m.id IN (SELECT … LIMIT)`, the claim relied on the planner running the pick
  // once: given the bank in the outer condition too, it put the pick on the inner side of a nested
  // loop and ran it again for each row of the bank, each run skipping the rows the last one had
  // locked, and one claim took the whole bank.
  return sql.query<ClaimedRow>(
    `WITH lease AS (SELECT nextval('memory_lease_tokens') AS token),
     picked AS MATERIALIZED (
       SELECT id FROM memory_units
        WHERE bank_id = $1 AND ${CLAIMABLE}
          AND NOT (id = ANY($5::uuid[]))
        ORDER BY created_at, id
        FOR UPDATE SKIP LOCKED
        LIMIT $4)
     UPDATE memory_units m
        SET consolidation_status = 'claimed', lease_owner = $2,
            lease_expires_at = now() + make_interval(secs => $3::double precision / 1000),
            lease_token = (SELECT token FROM lease)
       FROM picked
      WHERE m.id = picked.id
     RETURNING m.id, m.text, m.tags, m.observation_scopes, m.consolidated_scopes, m.embedding, m.created_at, m.mentioned_at,
               m.occurred_start, m.occurred_end, m.lease_token`,
    [claim.bankId, claim.owner, claim.leaseMs, claim.batchSize, claim.exclude],
  );
}

/**
 * Whether the bank has a memory any run may claim now that is not among `seen`. Read without
 * `SKIP LOCKED`: a memory a claim skipped because another statement held it at that moment (a
 * batch handing it back, the watchdog reclaiming its lapsed lease) counts here.
 */
export async function hasClaimableBeyond(sql: Sql, bankId: string, seen: string[]): Promise<boolean> {
  const [{ found }] = await sql.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM memory_units WHERE bank_id = $1 AND ${CLAIMABLE} AND NOT (id = ANY($2::uuid[]))) AS found`,
    [bankId, seen],
  );
  return found;
}

/**
 * Milliseconds until the last lease held on the bank's memories runs out, on the database's
 * clock; null when no memory of the bank is claimed under a live lease.
 */
export async function heldLeaseRemainingMs(sql: Sql, bankId: string): Promise<number | null> {
  const [row] = await sql.query<{ remaining_ms: number | null }>(
    `SELECT ceil(extract(epoch FROM max(lease_expires_at) - now()) * 1000)::int AS remaining_ms
       FROM memory_units
      WHERE bank_id = $1 AND fact_type <> 'observation' AND state = 'valid'
        AND consolidation_status = 'claimed' AND lease_expires_at >= now()`,
    [bankId],
  );
  return row?.remaining_ms ?? null;
}

/** Extends the batch's lease on its memories while our token still holds. */
export async function renewBatchLease(sql: Sql, ids: string[], leaseToken: string, leaseMs: number): Promise<void> {
  await sql.query(
    `UPDATE memory_units SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
      WHERE id = ANY($1::uuid[]) AND lease_token = $2 AND consolidation_status = 'claimed'`,
    [ids, leaseToken, leaseMs],
  );
}

/**
 * The live observations of exactly the scope `scope` nearest to `embedding`, at most `limit`.
 * The distance expression depends on the vector back end.
 */
export async function nearestObservations(
  sql: Sql,
  vectors: VectorBackend,
  bankId: string,
  embedding: number[],
  limit: number,
  scope: string[],
): Promise<CandidateRow[]> {
  return sql.query<CandidateRow>(
    `SELECT o.id, o.text, o.tags, o.embedding, o.source_memory_ids FROM memory_units o
      WHERE o.bank_id = $1 AND o.fact_type = 'observation' AND o.state = 'valid' AND o.embedding IS NOT NULL
        AND o.tags @> $4::text[] AND o.tags <@ $4::text[]
      ORDER BY ${vectors.distance('o', '$2')}, o.id
      LIMIT $3`,
    [bankId, vectors.serialize(embedding), limit, scope],
  );
}

/** The text of the memories among `ids` that are still live. */
export async function liveSourceTexts(sql: Sql, ids: string[]): Promise<SourceTextRow[]> {
  return sql.query<SourceTextRow>(`SELECT id, text, mentioned_at FROM memory_units WHERE id = ANY($1::uuid[]) AND state = 'valid'`, [ids]);
}

export async function entityLinks(sql: Sql, bankId: string, unitIds: string[]): Promise<Array<{ unit_id: string; entity_id: string }>> {
  return sql.query<{ unit_id: string; entity_id: string }>(
    `SELECT unit_id, entity_id FROM unit_entities WHERE bank_id = $1 AND unit_id = ANY($2::uuid[])`,
    [bankId, unitIds],
  );
}

/**
 * Locks `FOR SHARE`, in id order (the lock order of every writer), those of the batch's memories
 * our token still holds; none means the batch is no longer ours.
 */
export async function lockHeldClaims(sql: Sql, ids: string[], leaseToken: string): Promise<string[]> {
  const held = await sql.query<{ id: string }>(
    `SELECT id FROM memory_units WHERE id = ANY($1::uuid[]) AND lease_token = $2 AND consolidation_status = 'claimed'
      ORDER BY id FOR SHARE`,
    [ids, leaseToken],
  );
  return held.map((row) => row.id);
}

/** Returns how many rows changed: 0 when the observation was no longer live. */
export async function invalidateObservation(sql: Sql, observationId: string, bankId: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE memory_units SET state = 'invalidated', invalidated_at = now(), invalidation_reason = 'consolidation',
            updated_at = now()
      WHERE id = $1 AND bank_id = $2 AND fact_type = 'observation' AND state = 'valid'`,
    [observationId, bankId],
  );
  return affected;
}

/**
 * Memories whose every scope is through: done, and their per-round record of done scopes
 * cleared; only where our token still holds. Returns how many.
 */
export async function markBatchDone(sql: Sql, ids: string[], leaseToken: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE memory_units
        SET consolidation_status = 'done', consolidated_at = now(), consolidation_error = NULL,
            consolidated_scopes = '{}', lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ANY($1::uuid[]) AND lease_token = $2 AND consolidation_status = 'claimed' AND state = 'valid'`,
    [ids, leaseToken],
  );
  return affected;
}

/**
 * An attempt counted: back to pending, or failed for good once `maxAttempts` are spent; only
 * where our token still holds. Returns how many.
 */
export async function recordBatchFailure(
  sql: Sql,
  ids: string[],
  leaseToken: string,
  maxAttempts: number,
  reason: string,
): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE memory_units
        SET consolidation_attempts = consolidation_attempts + 1,
            consolidation_status = CASE WHEN consolidation_attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END,
            consolidation_error = $4, lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ANY($1::uuid[]) AND lease_token = $2 AND consolidation_status = 'claimed'`,
    [ids, leaseToken, maxAttempts, reason],
  );
  return affected;
}

/** Back to pending at once, attempt not counted, where our token still holds. */
export async function releaseBatch(sql: Sql, ids: string[], leaseToken: string): Promise<void> {
  await sql.query(
    `UPDATE memory_units SET consolidation_status = 'pending', lease_owner = NULL, lease_expires_at = NULL
      WHERE id = ANY($1::uuid[]) AND lease_token = $2 AND consolidation_status = 'claimed'`,
    [ids, leaseToken],
  );
}

/** Seconds since the oldest memory still waiting for consolidation was created; null when none waits. */
export async function consolidationLag(sql: Sql): Promise<number | null> {
  const [row] = await sql.query<{ lag: number | null }>(
    `SELECT extract(epoch FROM now() - min(created_at))::double precision AS lag FROM memory_units
      WHERE fact_type <> 'observation' AND state = 'valid' AND consolidation_status IN ('pending', 'claimed')`,
  );
  return row?.lag ?? null;
}

/** The tick's lock, held until the transaction ends; false when another instance holds it. */
export async function tryTickLock(sql: Sql): Promise<boolean> {
  const [{ locked }] = await sql.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [CONSOLIDATION_TICK_LOCK]);
  return locked;
}

/**
 * Banks with memories waiting (pending, or claimed under an expired lease) and no consolidation
 * queued or running, locked like `lockBankForConsolidation`; a bank another transaction holds is
 * skipped rather than waited for.
 */
export async function banksAwaitingConsolidation(sql: Sql): Promise<string[]> {
  const banks = await sql.query<{ id: string }>(
    `SELECT b.id FROM banks b
      WHERE EXISTS (
              SELECT 1 FROM memory_units m
               WHERE m.bank_id = b.id AND m.fact_type <> 'observation' AND m.state = 'valid'
                 AND (m.consolidation_status = 'pending' OR (m.consolidation_status = 'claimed' AND m.lease_expires_at < now())))
        AND NOT EXISTS (
              SELECT 1 FROM operations o
               WHERE o.bank_id = b.id AND o.kind = 'consolidation' AND o.status IN ('pending', 'processing'))
      ORDER BY b.id
      FOR NO KEY UPDATE OF b SKIP LOCKED`,
  );
  return banks.map((bank) => bank.id);
}

// The observation writer's statements, see docs/ARCHITECTURE.md, "Guards that replace the held transaction".
// `scope` is a scope's key (`scopeKey`): a memory records in `consolidated_scopes` the scopes it is
// through with in this round, so that it is folded into each of them once.

/**
 * Phase 1's read, in id order: which of `ids` are still live, claimed by us and not yet through
 * with `scope`.
 */
export async function liveClaimedSources(sql: Sql, ids: string[], bankId: string, leaseToken: string, scope: string): Promise<string[]> {
  const live = await sql.query<{ id: string }>(
    `SELECT id FROM memory_units
      WHERE id = ANY($1::uuid[]) AND bank_id = $2 AND state = 'valid'
        AND consolidation_status = 'claimed' AND lease_token = $3 AND NOT ($4 = ANY(consolidated_scopes))
      ORDER BY id`,
    [ids, bankId, leaseToken, scope],
  );
  return live.map((row) => row.id);
}

/**
 * Phase 2's first statement: the sources locked `FOR SHARE` in id order, before the observation
 * row is touched (the one lock order of every writer), each with whether it is still live as
 * `liveClaimedSources` means it.
 */
export async function lockSources(
  sql: Sql,
  ids: string[],
  bankId: string,
  leaseToken: string,
  scope: string,
): Promise<Array<{ id: string; live: boolean }>> {
  return sql.query<{ id: string; live: boolean }>(
    `SELECT id, (state = 'valid' AND consolidation_status = 'claimed' AND lease_token = $3
                 AND NOT ($4 = ANY(consolidated_scopes))) AS live
       FROM memory_units WHERE id = ANY($1::uuid[]) AND bank_id = $2
      ORDER BY id FOR SHARE`,
    [ids, bankId, leaseToken, scope],
  );
}

/**
 * The entities of the sources in `param`, which `linkSourceEntities` links the observation to
 * after the write: what the observation's row records as its `entity_ids` (migration
 * 1766200000000), in the statement that writes the row rather than in an update after the links.
 */
const SOURCE_ENTITIES = (bank: string, sources: string) =>
  `SELECT DISTINCT entity_id FROM unit_entities WHERE bank_id = ${bank} AND unit_id = ANY(${sources}::uuid[])`;

/**
 * Creates the observation unless one with the same `key` exists (then returns undefined: an
 * earlier run of this write already folded these sources). Its tags are its scope, never the
 * union of its sources' tags.
 */
export async function insertObservation(
  sql: Sql,
  vectors: VectorBackend,
  observation: { bankId: string; text: string; embedding: number[]; tokens: number; sourceIds: string[]; key: string; tags: string[] },
): Promise<string | undefined> {
  const [row] = await sql.query<{ id: string }>(
    `INSERT INTO memory_units
       (bank_id, text, fact_type, tags, embedding, source_memory_ids, proof_count, observation_key,
        consolidation_status, consolidated_at, mentioned_at, occurred_start, occurred_end, tokens_cl100k, entity_ids)
     SELECT $1, $2, 'observation', $6::text[],
            ${vectors.param('$3')}, $4::uuid[], cardinality($4::uuid[]), $5, 'done', now(),
            (SELECT max(mentioned_at) FROM memory_units WHERE id = ANY($4::uuid[])),
            (SELECT min(occurred_start) FROM memory_units WHERE id = ANY($4::uuid[])),
            (SELECT max(occurred_end) FROM memory_units WHERE id = ANY($4::uuid[])), $7,
            ARRAY(${SOURCE_ENTITIES('$1', '$4')})
     ON CONFLICT (bank_id, observation_key) DO NOTHING
     RETURNING id`,
    [
      observation.bankId,
      observation.text,
      vectors.serialize(observation.embedding),
      observation.sourceIds,
      observation.key,
      observation.tags,
      observation.tokens,
    ],
  );
  return row?.id;
}

/**
 * Adds the sources it does not have yet to a live observation of exactly the scope `tags`, with
 * its new text and embedding, while it still reads as `seen` (the version the new text was written
 * from); undefined when it was invalidated, deleted or changed meanwhile. Under READ COMMITTED a
 * concurrent fold of the same row is waited for and the condition re-checked on its result, so of
 * two batches that read one version, the second changes nothing.
 */
export async function foldIntoObservation(
  sql: Sql,
  vectors: VectorBackend,
  observation: {
    id: string;
    bankId: string;
    sourceIds: string[];
    text: string;
    embedding: number[];
    /** The new text's count for recall's token budget (`memoryTokens`). */
    tokens: number;
    tags: string[];
    seen: { text: string; sourceIds: string[] | null };
  },
): Promise<{ id: string; text: string; source_memory_ids: string[] | null } | undefined> {
  const [row] = await sql.query<{ id: string; text: string; source_memory_ids: string[] | null }>(
    `UPDATE memory_units o
        SET source_memory_ids = COALESCE(o.source_memory_ids, '{}') ||
              ARRAY(SELECT x FROM unnest($3::uuid[]) x WHERE NOT (x = ANY(COALESCE(o.source_memory_ids, '{}')))),
            proof_count = cardinality(COALESCE(o.source_memory_ids, '{}')) +
              cardinality(ARRAY(SELECT x FROM unnest($3::uuid[]) x WHERE NOT (x = ANY(COALESCE(o.source_memory_ids, '{}'))))),
            text = $4, embedding = ${vectors.param('$5')}, tokens_cl100k = $9,
            mentioned_at = greatest(o.mentioned_at, (SELECT max(mentioned_at) FROM memory_units WHERE id = ANY($3::uuid[]))),
            entity_ids = ARRAY(SELECT entity_id FROM unit_entities WHERE bank_id = o.bank_id AND unit_id = o.id
                               UNION ${SOURCE_ENTITIES('$2', '$3')}),
            consolidated_at = now(), updated_at = now()
      WHERE o.id = $1 AND o.bank_id = $2 AND o.fact_type = 'observation' AND o.state = 'valid'
        AND o.tags @> $6::text[] AND o.tags <@ $6::text[]
        AND o.text = $7 AND o.source_memory_ids IS NOT DISTINCT FROM $8::uuid[]
      RETURNING o.id, o.text, o.source_memory_ids`,
    [
      observation.id,
      observation.bankId,
      observation.sourceIds,
      observation.text,
      vectors.serialize(observation.embedding),
      observation.tags,
      observation.seen.text,
      observation.seen.sourceIds,
      observation.tokens,
    ],
  );
  return row;
}

/**
 * The observation is linked to every entity its sources are linked to, in their bank, which is its
 * own. The row itself got the same ids when it was written (`SOURCE_ENTITIES`).
 */
export async function linkSourceEntities(sql: Sql, bankId: string, observationId: string, sourceIds: string[]): Promise<void> {
  await sql.query(
    `INSERT INTO unit_entities (bank_id, unit_id, entity_id)
     SELECT DISTINCT bank_id, $2::uuid, entity_id FROM unit_entities WHERE bank_id = $1 AND unit_id = ANY($3::uuid[])
     ON CONFLICT DO NOTHING`,
    [bankId, observationId, sourceIds],
  );
}

/** Records `scope` as through for the memories our token still holds. */
export async function markScopeDone(sql: Sql, ids: string[], leaseToken: string, scope: string): Promise<void> {
  await sql.query(
    `UPDATE memory_units SET consolidated_scopes = array_append(consolidated_scopes, $3)
      WHERE id = ANY($1::uuid[]) AND lease_token = $2 AND consolidation_status = 'claimed'
        AND NOT ($3 = ANY(consolidated_scopes))`,
    [ids, leaseToken, scope],
  );
}
