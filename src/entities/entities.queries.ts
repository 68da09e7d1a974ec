import type { Sql } from '../storage/memory-database.js';
import { inChunks } from '../storage/row-chunks.js';
import { type ExtractedEntity, canonicalEntityName } from './entity-names.js';
import type { KnownEntityIds } from './known-entity-ids.js';

/** An entity named again is touched, and keeps the type it was first given. */
const ENTITY_CONFLICT = `ON CONFLICT (bank_id, canonical_name) DO UPDATE
         SET last_seen = now(), entity_type = COALESCE(entities.entity_type, EXCLUDED.entity_type)`;

/**
 * Rows per multi-row statement: those statements bind one array per column, so their parameter
 * count is fixed and this bounds the arrays instead.
 */
const ROWS_PER_STATEMENT = 1000;

/**
 * Creates or touches each entity, keyed by canonical name, in canonical-name order: the lock
 * order every writer of entities follows, so two writers naming the same entities never wait on
 * each other in a cycle. `onUpserted` runs after each one (memory edits link as they go).
 * Returns each canonical name's entity id.
 */
export async function upsertEntities(
  sql: Sql,
  bankId: string,
  byCanonical: ReadonlyMap<string, ExtractedEntity>,
  onUpserted?: (entityId: string) => Promise<void>,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const canonical of [...byCanonical.keys()].sort()) {
    const entity = byCanonical.get(canonical)!;
    const [row] = await sql.query<{ id: string }>(
      `INSERT INTO entities (bank_id, name, canonical_name, entity_type)
       VALUES ($1, $2, $3, $4)
       ${ENTITY_CONFLICT}
       RETURNING id`,
      [bankId, entity.name, canonical, entity.type],
    );
    ids.set(canonical, row.id);
    await onUpserted?.(row.id);
  }
  return ids;
}

/** The link carries the bank, which its keys lead with (docs/SCALING.md, "Keys led by the bank"). */
export async function linkUnitToEntity(sql: Sql, bankId: string, unitId: string, entityId: string): Promise<void> {
  await sql.query(`INSERT INTO unit_entities (bank_id, unit_id, entity_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
    bankId,
    unitId,
    entityId,
  ]);
}

/** The entities that memories about to be inserted name, resolved to ids before their rows are written. */
export interface MentionedEntities {
  /** Per memory, in the order given: the ids of the entities it names, each once. */
  perMemory: string[][];
  /** Each canonical name's entity id. */
  byCanonical: Map<string, string>;
  /**
   * The entities that existed before, in canonical-name order, with the links the new memories
   * will give each: `linkNewMemories` counts and touches them.
   */
  existing: ExistingMention[];
  /** Where the ids were partly taken from, and where `linkNewMemories` records them as they are. */
  known?: KnownEntityIds;
}

interface ExistingMention {
  id: string;
  canonical: string;
  /** The spelling and type this write names it with, should it have to be created again. */
  entity: ExtractedEntity;
  links: number;
}

/** Rounds of look-up-then-create before a retain gives up on entities that keep vanishing. */
const RESOLVE_ROUNDS = 5;

/**
 * Resolves the entities that memories about to be inserted name, creating the new ones, so that
 * each memory's row is written with its entities' ids (`NewMemoryUnit.entityIds`) rather than
 * updated to carry them; the links, and the counts of the entities that existed, follow the rows
 * (`linkNewMemories`). The first spelling of a name wins; a name a memory gives twice counts once.
 *
 * The entities that exist are only read: the lock every writer of an entity takes (the upsert
 * that counts it, `linkNewMemories`) comes after the memories' insert, the costly step. Taken
 * before it, it made two retains naming the same people run one after the other, a fifth less
 * throughput with two callers. New entities are created with their final count; one another
 * writer created meanwhile is read on the next round. An entity read here can still be deleted
 * (`reclaimOrphanEntities`) before it is counted, if nothing linked it: that upsert creates it
 * again.
 *
 * One prepared statement per round finds the names and creates the missing ones: at one memory
 * per request a separate look-up was a round trip too many (retain of single memories 15% slower
 * than with the upsert alone), and the names are joined from the array rather than matched with
 * `= ANY`, which the generic plan ran as a scan of the bank's entities. Names `known` holds skip
 * it, taken as existing: the counting upsert checks them (`KnownEntityIds`), so a write whose
 * names are all known runs no statement here.
 */
export async function resolveMentionedEntities(
  sql: Sql,
  bankId: string,
  mentions: ReadonlyArray<readonly ExtractedEntity[]>,
  known?: KnownEntityIds,
): Promise<MentionedEntities> {
  const spellings = new Map<string, ExtractedEntity>();
  const linksPerName = new Map<string, number>();
  const namedPerMemory = mentions.map((entities) => {
    const named = new Set<string>();
    for (const entity of entities) {
      const canonical = canonicalEntityName(entity.name);
      if (!canonical || named.has(canonical)) continue;
      named.add(canonical);
      if (!spellings.has(canonical)) spellings.set(canonical, entity);
      linksPerName.set(canonical, (linksPerName.get(canonical) ?? 0) + 1);
    }
    return [...named];
  });
  const byCanonical = new Map<string, string>();
  const created = new Set<string>();
  const canonicals = [...spellings.keys()].sort();
  for (const canonical of canonicals) {
    const id = known?.get(bankId, canonical);
    if (id) byCanonical.set(canonical, id);
  }
  const resolvedHere: Array<[string, string]> = [];
  for (let round = 1; byCanonical.size < canonicals.length; round++) {
    if (round > RESOLVE_ROUNDS) {
      throw new Error(`entities of bank ${bankId} were created and deleted under this write ${RESOLVE_ROUNDS} times running`);
    }
    for (const chunk of inChunks(
      canonicals.filter((canonical) => !byCanonical.has(canonical)),
      ROWS_PER_STATEMENT,
    )) {
      // Both parts read the statement's snapshot: the insert skips the names found, and a row
      // another writer commits while the insert waits on it is neither found nor inserted here
      // (it is found on the next round).
      const rows = await sql.queryPrepared<{ id: string; canonical_name: string; created: boolean }>(
        `WITH found AS (
           SELECT e.id, e.canonical_name FROM unnest($3::text[]) AS n(canonical_name)
             JOIN entities e ON e.bank_id = $1 AND e.canonical_name = n.canonical_name
         ), inserted AS (
           INSERT INTO entities (bank_id, name, canonical_name, entity_type, mention_count)
           SELECT $1, e.name, e.canonical_name, e.entity_type, e.links
             FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) WITH ORDINALITY AS e(name, canonical_name, entity_type, links, ord)
            WHERE e.canonical_name NOT IN (SELECT canonical_name FROM found)
            ORDER BY e.ord
           ON CONFLICT (bank_id, canonical_name) DO NOTHING
           RETURNING id, canonical_name
         )
         SELECT id, canonical_name, false AS created FROM found
         UNION ALL
         SELECT id, canonical_name, true FROM inserted`,
        [
          bankId,
          chunk.map((canonical) => spellings.get(canonical)!.name),
          chunk,
          chunk.map((canonical) => spellings.get(canonical)!.type),
          chunk.map((canonical) => linksPerName.get(canonical)!),
        ],
      );
      for (const row of rows) {
        byCanonical.set(row.canonical_name, row.id);
        if (row.created) created.add(row.canonical_name);
        resolvedHere.push([row.canonical_name, row.id]);
      }
    }
  }
  if (known) rememberOnCommit(sql, known, bankId, resolvedHere);
  return {
    perMemory: namedPerMemory.map((named) => named.map((canonical) => byCanonical.get(canonical)!)),
    byCanonical,
    existing: canonicals
      .filter((canonical) => !created.has(canonical))
      .map((canonical) => ({
        id: byCanonical.get(canonical)!,
        canonical,
        entity: spellings.get(canonical)!,
        links: linksPerName.get(canonical)!,
      })),
    known,
  };
}

/**
 * Links memories this transaction inserted to the entities `resolveMentionedEntities` resolved
 * for them (`perMemory[i]` for `unitIds[i]`).
 *
 * First each entity that existed before is touched and its `mention_count` raised by its new
 * links, in canonical-name order (the lock order of every writer of entities), one statement per
 * chunk of entities. The memories are new, so every link is new and the count is exact without
 * reading the links back; a recount (`reclaimOrphanEntities`) would read every link of each
 * entity, thousands of rows per retain for a person in a few percent of a large bank. The write
 * is an upsert, and what it returns is each entity's id as it now is: an entity deleted since it
 * was read (it had no links left), or since its id was remembered (`KnownEntityIds`), is created
 * again there, with a new id, which the memories' rows, the links, `mentioned.byCanonical` (what
 * the caller reclaims after) and `known` are then given (`renameInNewRows`).
 *
 * Then the links, one statement per chunk, each given its memory's time in the same statement
 * (what the insert trigger of migration 1765900000000 would look up one row at a time; it now
 * runs only for links without it).
 */
export async function linkNewMemories(sql: Sql, bankId: string, unitIds: readonly string[], mentioned: MentionedEntities): Promise<void> {
  const renamed = new Map<string, string>();
  const recreated: Array<[string, string]> = [];
  for (const chunk of inChunks(mentioned.existing, ROWS_PER_STATEMENT)) {
    const rows = await sql.queryPrepared<{ id: string; canonical_name: string }>(
      `INSERT INTO entities (bank_id, name, canonical_name, entity_type, mention_count)
       SELECT $1, e.name, e.canonical_name, e.entity_type, e.links
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) WITH ORDINALITY AS e(name, canonical_name, entity_type, links, ord)
        ORDER BY e.ord
       ${ENTITY_CONFLICT}, mention_count = entities.mention_count + EXCLUDED.mention_count
       RETURNING id, canonical_name`,
      [
        bankId,
        chunk.map((mention) => mention.entity.name),
        chunk.map((mention) => mention.canonical),
        chunk.map((mention) => mention.entity.type),
        chunk.map((mention) => mention.links),
      ],
    );
    const resolved = new Map(chunk.map((mention) => [mention.canonical, mention.id]));
    for (const row of rows) {
      const id = resolved.get(row.canonical_name)!;
      if (row.id === id) continue;
      renamed.set(id, row.id);
      mentioned.byCanonical.set(row.canonical_name, row.id);
      recreated.push([row.canonical_name, row.id]);
    }
  }
  if (renamed.size > 0) await renameInNewRows(sql, bankId, unitIds, renamed);
  if (mentioned.known) rememberOnCommit(sql, mentioned.known, bankId, recreated);
  const links = unitIds.flatMap((unitId, index) =>
    mentioned.perMemory[index].map((entityId) => ({ unitId, entityId: renamed.get(entityId) ?? entityId })),
  );
  for (const chunk of inChunks(links, ROWS_PER_STATEMENT)) {
    await sql.queryPrepared(
      `INSERT INTO unit_entities (bank_id, unit_id, entity_id, memory_at)
       SELECT $1, l.unit_id, l.entity_id, coalesce(m.occurred_start, m.mentioned_at)
         FROM unnest($2::uuid[], $3::uuid[]) WITH ORDINALITY AS l(unit_id, entity_id, ord)
         JOIN memory_units m ON m.bank_id = $1 AND m.id = l.unit_id
        ORDER BY l.ord`,
      [bankId, chunk.map((link) => link.unitId), chunk.map((link) => link.entityId)],
    );
  }
}

/**
 * Hands ids to `known` once the write that read or created them commits, never before: an id of
 * an entity this write created is nobody else's to use until then. Another retain given it would
 * count that entity after its own insert, while this one holds it from before its insert, and two
 * such writes naming each other's entities in the two orders deadlocked (one a second, until
 * PostgreSQL broke the cycle, several times a run of the retain benchmark).
 */
function rememberOnCommit(sql: Sql, known: KnownEntityIds, bankId: string, ids: ReadonlyArray<[string, string]>): void {
  if (ids.length === 0) return;
  sql.afterCommit(() => {
    for (const [canonical, id] of ids) known.remember(bankId, canonical, id);
  });
}

/**
 * Gives the rows just inserted the current id of each entity whose id they were written with is
 * not (old id → new id): one deleted and created again under the write, or a `KnownEntityIds`
 * entry from before a deletion; all of them in one statement, since a bank deleted and created
 * again under its id can make every name of a write stale at once.
 */
async function renameInNewRows(sql: Sql, bankId: string, unitIds: readonly string[], renamed: ReadonlyMap<string, string>): Promise<void> {
  await sql.query(
    `UPDATE memory_units m
        SET entity_ids = ARRAY(SELECT coalesce(r.id, e.id)
                                 FROM unnest(m.entity_ids) WITH ORDINALITY AS e(id, ord)
                                 LEFT JOIN unnest($3::uuid[], $4::uuid[]) AS r(was, id) ON r.was = e.id
                                ORDER BY e.ord)
      WHERE m.bank_id = $1 AND m.id = ANY($2::uuid[]) AND m.entity_ids && $3::uuid[]`,
    [bankId, unitIds, [...renamed.keys()], [...renamed.values()]],
  );
}

/**
 * Writes the memory's links, as they now stand in this transaction, onto its row
 * (`memory_units.entity_ids`, migration 1766200000000): for a writer that changes the links of a
 * memory that already exists, after it has.
 */
export async function recordLinkedEntities(sql: Sql, bankId: string, unitId: string): Promise<void> {
  await sql.query(
    `UPDATE memory_units SET entity_ids = ARRAY(SELECT entity_id FROM unit_entities WHERE bank_id = $1 AND unit_id = $2)
      WHERE bank_id = $1 AND id = $2`,
    [bankId, unitId],
  );
}

/** Removes the memory's links; returns the entities it was linked to, which may now be orphans. */
export async function unlinkUnitFromEntities(sql: Sql, bankId: string, unitId: string): Promise<string[]> {
  const previous = await sql.query<{ entity_id: string }>(
    `DELETE FROM unit_entities WHERE bank_id = $1 AND unit_id = $2 RETURNING entity_id`,
    [bankId, unitId],
  );
  return previous.map((row) => row.entity_id);
}

/** Read before a document's memories are deleted: those entities may become orphans. */
export async function entitiesLinkedToDocument(sql: Sql, bankId: string, documentId: string): Promise<string[]> {
  return entitiesLinkedToDocuments(sql, bankId, [documentId]);
}

/** `entitiesLinkedToDocument` for several documents, in one statement. */
export async function entitiesLinkedToDocuments(sql: Sql, bankId: string, documentIds: string[]): Promise<string[]> {
  if (documentIds.length === 0) return [];
  const linked = await sql.query<{ entity_id: string }>(
    `SELECT DISTINCT ue.entity_id FROM unit_entities ue JOIN memory_units m ON m.bank_id = ue.bank_id AND m.id = ue.unit_id
      WHERE m.bank_id = $1 AND m.document_id = ANY($2::text[])`,
    [bankId, documentIds],
  );
  return linked.map((row) => row.entity_id);
}

/**
 * Deletes the given entities that no memory links to any more and recounts the others, after
 * retain, document deletion and memory edits. The rows are locked in canonical-name order (the lock order of every writer of
 * entities) before their links are counted, so a concurrent writer linking one of them either
 * commits first and is counted, or waits.
 */
export async function reclaimOrphanEntities(sql: Sql, entityIds: string[]): Promise<void> {
  if (entityIds.length === 0) return;
  // The entities by id alone: with the bank as well, a bank new since the last ANALYZE is
  // estimated at one row and the planner may read all its entities to find these (docs/SCALING.md,
  // "Past one PostgreSQL"). Their links are counted by the bank each entity row gives.
  await sql.query(`SELECT id FROM entities WHERE id = ANY($1::uuid[]) ORDER BY canonical_name FOR UPDATE`, [entityIds]);
  await sql.query(
    `DELETE FROM entities e WHERE e.id = ANY($1::uuid[])
        AND NOT EXISTS (SELECT 1 FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id)`,
    [entityIds],
  );
  await sql.query(
    `UPDATE entities e SET mention_count = (SELECT count(*) FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id)
      WHERE e.id = ANY($1::uuid[])`,
    [entityIds],
  );
}

/** After memories of a whole bank are cleared: every entity of the bank nothing links any more. */
export async function deleteUnlinkedEntities(sql: Sql, bankId: string): Promise<void> {
  await sql.query(
    `DELETE FROM entities e WHERE e.bank_id = $1 AND NOT EXISTS (SELECT 1 FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id)`,
    [bankId],
  );
}

export interface EntityDetailRow {
  id: string;
  /** The name as first written ("Alice"); `canonical_name` is its lower-cased key. */
  name: string;
  entity_type: string | null;
  mention_count: number;
  first_seen: Date;
  last_seen: Date;
}

export async function findEntity(sql: Sql, bankId: string, entityId: string): Promise<EntityDetailRow | undefined> {
  const [row] = await sql.query<EntityDetailRow>(
    `SELECT id, name, entity_type, mention_count, first_seen, last_seen FROM entities WHERE bank_id = $1 AND id = $2`,
    [bankId, entityId],
  );
  return row;
}

/** The live observations linked to the entity, newest first: what the bank has concluded about it. */
export async function entityObservations(
  sql: Sql,
  bankId: string,
  entityId: string,
  limit: number,
): Promise<Array<{ text: string; mentioned_at: Date | null }>> {
  return sql.query<{ text: string; mentioned_at: Date | null }>(
    `SELECT m.text, m.mentioned_at
       FROM unit_entities ue
       JOIN memory_units m ON m.bank_id = ue.bank_id AND m.id = ue.unit_id
      WHERE ue.bank_id = $1 AND ue.entity_id = $2 AND m.fact_type = 'observation' AND m.state = 'valid'
      ORDER BY m.mentioned_at DESC, m.id
      LIMIT $3`,
    [bankId, entityId, limit],
  );
}

export interface CooccurrenceRow {
  entity_id_1: string;
  entity_id_2: string;
  name_1: string;
  name_2: string;
  mention_count_1: number;
  mention_count_2: number;
  cooccurrence_count: string;
  last_cooccurred: Date | null;
}

/**
 * Pairs of entities named by the same memory, most often together first, at most `limit` pairs.
 * Counted from the links rather than kept in a table of their own, so no writer has to maintain
 * it. Only live raw memories count: an observation repeats its sources' entities, and counting it
 * would count one statement twice.
 */
export async function entityCooccurrences(sql: Sql, bankId: string, minCount: number, limit: number): Promise<CooccurrenceRow[]> {
  return sql.query<CooccurrenceRow>(
    `WITH pairs AS (
       SELECT a.entity_id AS entity_id_1, b.entity_id AS entity_id_2,
              count(*) AS cooccurrence_count, max(m.mentioned_at) AS last_cooccurred
         FROM unit_entities a
         JOIN unit_entities b ON b.bank_id = a.bank_id AND b.unit_id = a.unit_id AND b.entity_id > a.entity_id
         JOIN memory_units m ON m.bank_id = a.bank_id AND m.id = a.unit_id
        WHERE a.bank_id = $1 AND m.fact_type <> 'observation' AND m.state = 'valid'
        GROUP BY a.entity_id, b.entity_id
       HAVING count(*) >= $2
        ORDER BY cooccurrence_count DESC, last_cooccurred DESC, entity_id_1, entity_id_2
        LIMIT $3)
     SELECT p.entity_id_1, p.entity_id_2, p.cooccurrence_count, p.last_cooccurred,
            e1.name AS name_1, e1.mention_count AS mention_count_1, e2.name AS name_2, e2.mention_count AS mention_count_2
       FROM pairs p
       JOIN entities e1 ON e1.bank_id = $1 AND e1.id = p.entity_id_1
       JOIN entities e2 ON e2.bank_id = $1 AND e2.id = p.entity_id_2
      ORDER BY p.cooccurrence_count DESC, p.last_cooccurred DESC, p.entity_id_1, p.entity_id_2`,
    [bankId, minCount, limit],
  );
}
