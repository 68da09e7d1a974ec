import type { MemoryDatabase, Sql } from '../storage/memory-database.js';
import { SqlParams } from './arms/sql-params.js';
import { RecallScope, groupsPredicate, sourcesVisible, tagPredicate, visibleMemories } from './arms/visible-memories.js';
import type { FactType } from './recall.types.js';

/** A candidate's row, without its embedding (recall never needs the vector back). */
export interface MemoryRow {
  id: string;
  text: string;
  context: string | null;
  fact_type: FactType;
  occurred_start: Date | null;
  occurred_end: Date | null;
  mentioned_at: Date | null;
  document_id: string | null;
  metadata: Record<string, string> | null;
  tags: string[] | null;
  source_memory_ids: string[] | null;
  /** The newer memory that replaced this one (docs/ARCHITECTURE.md, "Supersession"). */
  superseded_by: string | null;
  /** Its cl100k tokens (text and context) as its writer counted them; `null` where none is stored. */
  tokens_cl100k: number | null;
  /** The memory's entities, by canonical name. */
  entities: LinkedEntity[];
}

export interface LinkedEntity {
  unitId: string;
  entityId: string;
  /** As first written ("Alice"): what the API shows, as Hindsight does. */
  name: string;
  /** Lower-cased: what matching compares. */
  canonicalName: string;
}

/** A candidate and the observations of its entities, as one recall reads them. */
export interface CandidateRows {
  rows: Map<string, MemoryRow>;
  /** Up to `perEntity` live observations of each of the rows' entities, newest first. */
  observations: Map<string, EntityObservation[]>;
}

export interface EntityObservation {
  entityId: string;
  text: string;
  mentionedAt: Date | null;
}

/**
 * A candidate as the statement returns it: one JSON array per row, its values in the order of
 * `CANDIDATE_COLUMNS`, then the ids of its entities (their names come once each, beside the rows).
 * Timestamps come as ISO text. Positional rather than `row_to_json` objects, whose keys the server writes and the
 * driver parses again for every row: 4.2 against 4.3 ms for some 200 candidates at 100k memories
 * (the statement and its parse, the two forms alternating on one connection), a small saving on the
 * statement that is most of the rest of recall.
 */
type StoredRow = [
  id: string,
  text: string,
  context: string | null,
  fact_type: FactType,
  occurred_start: string | null,
  occurred_end: string | null,
  mentioned_at: string | null,
  document_id: string | null,
  metadata: Record<string, string> | null,
  tags: string[] | null,
  source_memory_ids: string[] | null,
  superseded_by: string | null,
  tokens_cl100k: number | null,
  entity_ids: string[],
];

/** The memory's own columns of a `StoredRow`, in its order; its linked entities come last. */
const CANDIDATE_COLUMNS = [
  'id',
  'text',
  'context',
  'fact_type',
  'occurred_start',
  'occurred_end',
  'mentioned_at',
  'document_id',
  'metadata',
  'tags',
  'source_memory_ids',
  'superseded_by',
  'tokens_cl100k',
] as const;

/**
 * The rows of the fused candidates with their entities, and up to `perEntity` observations of
 * each of those entities (none when `perEntity` is 0), re-filtered by the scope: the arms and this
 * read are separate statements, and a memory invalidated between them must not be returned.
 *
 * One statement for all of it, every round trip and plan being time on the connection: recall
 * reads some 200 candidates at the default budget. The observations are those of every
 * candidate's entities, not only of the memories the token budget will keep (almost all of them
 * at the default budget), so that the answer, and a rerank, need no connection afterwards. The
 * result is one row of three JSON documents: the driver hands JSON to the engine's parser, where it
 * parses a row's text fields and timestamps one by one in JavaScript (9.7 against 8.7 ms for 195
 * candidates and their entities at 100k memories, the two statements against this one).
 *
 * A row's entities are the ids it carries (`entity_ids`, migration 1766200000000), and each entity's
 * name is read once for all the rows: a lateral read of `unit_entities` and `entities` per row
 * cost about 1.2 ms of this statement at 100k memories, the ids on the row and one name lookup
 * for all of them about 0.4 (the two forms alternating on one connection, prepared). A row
 * written before that column reads its links as before, within 0.05 ms of the new form.
 *
 * The observations of the rows' entities are joined by entity id alone and by memory id alone,
 * not with the bank as well: the bank's statistics are what the planner orders a join by, and for
 * a bank that is new since the last `ANALYZE` they say one row. Given the bank on both sides, it
 * then read every link of a 20,000-memory bank and, for each link of the wanted entities, every
 * memory of the bank: 51 s, where this form took 14 ms in the same state and about a millisecond
 * once analysed (docs/SCALING.md, "Past one PostgreSQL"). Both directions of the join have an
 * index by id: from the wanted entities to their links (`unit_entities_entity`) and memories
 * (`memory_units_id`), for a bank with many observations; from the bank's observations to their
 * links (`unit_entities_unit`, migration 1766500000000), for one with few among many links, where
 * the only other way is a scan of every bank's links.
 *
 * Observations are filtered by the request's tags like any memory, sources included (tags scope
 * visibility, and an entity must not leak another scope's observations), but not by its fact
 * types: they are asked for separately. A row's entities are sorted here, by canonical name.
 */
export async function loadCandidates(sql: Sql, scope: RecallScope, ids: string[], perEntity: number): Promise<CandidateRows> {
  if (ids.length === 0) return { rows: new Map(), observations: new Map() };
  const statement = candidatesQuery(scope, ids, perEntity);
  const [result] = await sql.queryPrepared<{
    rows: StoredRow[] | null;
    names: Array<[string, string, string]> | null;
    observations: Array<[string, string, string | null]> | null;
  }>(statement.text, statement.values);
  const names = new Map<string, { name: string; canonicalName: string }>();
  for (const [entityId, name, canonicalName] of parsedJson(result.names) ?? []) names.set(entityId, { name, canonicalName });
  const rows = new Map<string, MemoryRow>();
  for (const stored of parsedJson(result.rows) ?? []) {
    const [
      id,
      text,
      context,
      fact_type,
      occurredStart,
      occurredEnd,
      mentionedAt,
      document_id,
      metadata,
      tags,
      source_memory_ids,
      superseded_by,
      tokens_cl100k,
      entityIds,
    ] = stored;
    const entities: LinkedEntity[] = [];
    for (const entityId of entityIds) {
      const named = names.get(entityId);
      if (named) entities.push({ unitId: id, entityId, ...named });
    }
    entities.sort((a, b) => (a.canonicalName < b.canonicalName ? -1 : a.canonicalName > b.canonicalName ? 1 : 0));
    rows.set(id, {
      id,
      text,
      context,
      fact_type,
      occurred_start: asDate(occurredStart),
      occurred_end: asDate(occurredEnd),
      mentioned_at: asDate(mentionedAt),
      document_id,
      metadata,
      tags,
      source_memory_ids,
      superseded_by,
      tokens_cl100k,
      entities,
    });
  }
  const byEntity = new Map<string, EntityObservation[]>();
  for (const [entityId, text, mentionedAt] of parsedJson(result.observations) ?? []) {
    let list = byEntity.get(entityId);
    if (!list) byEntity.set(entityId, (list = []));
    list.push({ entityId, text, mentionedAt: asDate(mentionedAt) });
  }
  return { rows, observations: byEntity };
}

/** The statement of `loadCandidates`, exported so that a test can explain what recall runs. */
export function candidatesQuery(scope: RecallScope, ids: string[], perEntity: number): { text: string; values: unknown[] } {
  const params = new SqlParams();
  const bank = params.add(scope.bankId);
  const observations =
    perEntity <= 0
      ? 'NULL::json'
      : `(SELECT json_agg(json_build_array(entity_id, text, mentioned_at) ORDER BY entity_id, position)
            FROM (
              SELECT ue.entity_id, m.text, m.mentioned_at,
                     row_number() OVER (PARTITION BY ue.entity_id ORDER BY m.mentioned_at DESC, m.id) AS position
                FROM (SELECT DISTINCT unnest(entity_ids) AS id FROM found) AS wanted
                JOIN unit_entities ue ON ue.entity_id = wanted.id
                JOIN memory_units m ON m.id = ue.unit_id
               WHERE m.bank_id = ${bank}
                 AND m.state = 'valid'
                 AND m.fact_type = 'observation'
                 AND ${tagPredicate('m.tags', scope.tags, scope.tagsMatch, params)}
                 AND ${groupsPredicate('m.tags', scope.tagGroups, params)}
                 AND ${sourcesVisible('m', scope.tags, scope.tagsMatch, params, scope.tagGroups)}
            ) AS ranked
           WHERE position <= ${params.add(perEntity)})`;
  return {
    text: `WITH found AS MATERIALIZED (
       SELECT ${CANDIDATE_COLUMNS.map((column) => `m.${column}`).join(', ')},
              COALESCE(m.entity_ids, ARRAY(SELECT ue.entity_id FROM unit_entities ue WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id))
                AS entity_ids
         FROM memory_units m
        WHERE m.id = ANY(${params.add(ids)}::uuid[]) AND ${visibleMemories('m', scope, params)}
     )
     SELECT (SELECT json_agg(json_build_array(${CANDIDATE_COLUMNS.join(', ')}, entity_ids)) FROM found) AS rows,
            (SELECT json_agg(json_build_array(e.id, e.name, e.canonical_name))
               FROM entities e
              WHERE e.bank_id = ${bank} AND e.id IN (SELECT unnest(entity_ids) FROM found)) AS names,
            ${observations} AS observations`,
    values: params.values,
  };
}

/**
 * `loadCandidates`, half of the rows on a second connection when the pool can spare one
 * (`MemoryDatabase.alongside`): the statement's work is per row, so each half takes about half
 * the time (a recall in the largest bank of a 1M database 0.92 to 0.93 of its time with one
 * statement, 0.97 in a bank of 1,000). Without a second connection one statement reads them all,
 * as two one after the other would only add a round trip.
 */
export async function loadCandidatesAlongside(
  database: MemoryDatabase,
  sql: Sql,
  scope: RecallScope,
  ids: string[],
  perEntity: number,
): Promise<CandidateRows> {
  if (ids.length < 2 || !database.canRunAlongside()) return loadCandidates(sql, scope, ids, perEntity);
  const half = Math.ceil(ids.length / 2);
  const halves = await database.alongside(
    sql,
    (on) => loadCandidates(on, scope, ids.slice(0, half), perEntity),
    (on) => loadCandidates(on, scope, ids.slice(half), perEntity),
  );
  return mergedCandidateRows(...halves);
}

/**
 * Two reads of different candidates as one. An entity that rows of both have has the same
 * observations in both (the same newest few, in the same scope), so either list is its list.
 */
function mergedCandidateRows(first: CandidateRows, second: CandidateRows): CandidateRows {
  return {
    rows: new Map([...first.rows, ...second.rows]),
    observations: new Map([...second.observations, ...first.observations]),
  };
}

/** node-postgres and PGlite both parse `json` values; this guards a driver that hands back the text. */
function parsedJson<T>(value: T | string | null): T | null {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

/**
 * Timestamps come as ISO text inside JSON, a year before the common era as PostgreSQL writes it
 * ("0044-03-15T10:00:00+00:00 BC", which JavaScript does not read: its year is -000043); a Date
 * where a driver parsed one already.
 */
export function asDate(value: Date | string | null): Date | null {
  if (value === null || value instanceof Date) return value;
  const beforeTheEra = /^(\d+)(-.*) BC$/.exec(value);
  if (!beforeTheEra) return new Date(value);
  const year = 1 - Number(beforeTheEra[1]);
  return new Date(`${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}${beforeTheEra[2]}`);
}
