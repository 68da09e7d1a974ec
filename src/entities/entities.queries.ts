import type { Sql } from '../storage/memory-database.js';
import type { ExtractedEntity } from './entity-names.js';

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

/**
 * `upsertEntities` for a whole retain, in one statement per chunk of names. Rows are inserted, and
 * so locked, in the order of the input, which is canonical-name order: the same lock order with
 * one round trip instead of one per name.
 */
export async function upsertEntitiesInBulk(
  sql: Sql,
  bankId: string,
  byCanonical: ReadonlyMap<string, ExtractedEntity>,
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const canonicals = [...byCanonical.keys()].sort();
  for (let start = 0; start < canonicals.length; start += ROWS_PER_STATEMENT) {
    const chunk = canonicals.slice(start, start + ROWS_PER_STATEMENT);
    const rows = await sql.query<{ id: string; canonical_name: string }>(
      `INSERT INTO entities (bank_id, name, canonical_name, entity_type)
       SELECT $1, e.name, e.canonical_name, e.entity_type
         FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e(name, canonical_name, entity_type, ord)
        ORDER BY e.ord
       ${ENTITY_CONFLICT}
       RETURNING id, canonical_name`,
      [
        bankId,
        chunk.map((canonical) => byCanonical.get(canonical)!.name),
        chunk,
        chunk.map((canonical) => byCanonical.get(canonical)!.type),
      ],
    );
    for (const row of rows) ids.set(row.canonical_name, row.id);
  }
  return ids;
}

/** `linkUnitToEntity` for many links, in one statement per chunk; a link given twice is kept once. */
export async function linkUnitsToEntities(
  sql: Sql,
  bankId: string,
  links: ReadonlyArray<{ unitId: string; entityId: string }>,
): Promise<void> {
  for (let start = 0; start < links.length; start += ROWS_PER_STATEMENT) {
    const chunk = links.slice(start, start + ROWS_PER_STATEMENT);
    await sql.query(
      `INSERT INTO unit_entities (bank_id, unit_id, entity_id)
       SELECT $1, l.unit_id, l.entity_id FROM unnest($2::uuid[], $3::uuid[]) WITH ORDINALITY AS l(unit_id, entity_id, ord)
        ORDER BY l.ord
       ON CONFLICT DO NOTHING`,
      [bankId, chunk.map((link) => link.unitId), chunk.map((link) => link.entityId)],
    );
  }
}

/** Removes the memory's links; returns the entities it was linked to, which may now be orphans. */
export async function unlinkUnitFromEntities(sql: Sql, unitId: string): Promise<string[]> {
  const previous = await sql.query<{ entity_id: string }>(`DELETE FROM unit_entities WHERE unit_id = $1 RETURNING entity_id`, [unitId]);
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
  await sql.query(`SELECT id FROM entities WHERE id = ANY($1::uuid[]) ORDER BY canonical_name FOR UPDATE`, [entityIds]);
  await sql.query(
    `DELETE FROM entities e WHERE e.id = ANY($1::uuid[])
        AND NOT EXISTS (SELECT 1 FROM unit_entities ue WHERE ue.entity_id = e.id)`,
    [entityIds],
  );
  await sql.query(
    `UPDATE entities e SET mention_count = (SELECT count(*) FROM unit_entities ue WHERE ue.entity_id = e.id)
      WHERE e.id = ANY($1::uuid[])`,
    [entityIds],
  );
}

/** After memories of a whole bank are cleared: every entity of the bank nothing links any more. */
export async function deleteUnlinkedEntities(sql: Sql, bankId: string): Promise<void> {
  await sql.query(`DELETE FROM entities e WHERE e.bank_id = $1 AND NOT EXISTS (SELECT 1 FROM unit_entities ue WHERE ue.entity_id = e.id)`, [
    bankId,
  ]);
}
