import type { Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';

export type NodeKind = 'folder' | 'page';

/** A row of `knowledge_nodes`, with its page's model fields (null for a folder). */
export interface NodeRow {
  bank_id: string;
  id: string;
  parent_id: string | null;
  kind: NodeKind;
  name: string;
  mental_model_id: string | null;
  sort_order: number;
  managed: boolean;
  created_at: Date;
  updated_at: Date;
  source_query: string | null;
  tags: string[] | null;
  content: string | null;
  last_refreshed_at: Date | null;
}

/** A node of the subtree a delete takes. */
export interface SubtreeRow {
  id: string;
  mental_model_id: string | null;
}

/** A page whose embedding was computed from other text than it has now. */
export interface PageToEmbedRow {
  id: string;
  text: string;
  md5: string;
}

/** A page found by a search arm: its rank is its place in the arm's order. */
export interface PageCandidateRow {
  id: string;
  score: number;
}

export interface SearchHitRow {
  id: string;
  name: string;
  mental_model_id: string | null;
  snippet: string | null;
  last_refreshed_at: Date | null;
}

const NODE_COLUMNS = `n.bank_id, n.id, n.parent_id, n.kind, n.name, n.mental_model_id, n.sort_order, n.managed, n.created_at,
  n.updated_at, mm.source_query, mm.tags, mm.content, mm.last_refreshed_at`;
const NODES_WITH_MODELS = `knowledge_nodes n LEFT JOIN mental_models mm ON mm.bank_id = n.bank_id AND mm.id = n.mental_model_id`;
/** What a page is searched and embedded by: its name, then its content. */
const PAGE_TEXT = `(n.name || E'\\n\\n' || coalesce(mm.content, ''))`;

/**
 * Every change of the tree's shape in a bank (create under a parent, move, delete) holds this
 * lock until its transaction ends, so that the checks it made (the parent is a folder and still
 * there, the new parent is outside the moved subtree, the page name is free) still hold when it
 * writes: two concurrent moves cannot build a cycle between them.
 */
export async function lockKnowledgeBase(sql: Sql, bankId: string): Promise<void> {
  await sql.query(`SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtext('nestjs-memory:knowledge-base'), hashtext($1))) AS l`, [
    bankId,
  ]);
}

/** The bank's nodes in display order; the caller builds the tree. */
export async function selectNodes(sql: Sql, bankId: string): Promise<NodeRow[]> {
  return sql.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM ${NODES_WITH_MODELS} WHERE n.bank_id = $1 ORDER BY n.sort_order, n.name, n.id`, [
    bankId,
  ]);
}

export async function selectNode(sql: Sql, bankId: string, id: string): Promise<NodeRow | undefined> {
  const [row] = await sql.query<NodeRow>(`SELECT ${NODE_COLUMNS} FROM ${NODES_WITH_MODELS} WHERE n.bank_id = $1 AND n.id = $2`, [
    bankId,
    id,
  ]);
  return row;
}

/** The node, locked for the caller's update. */
export async function lockNode(sql: Sql, bankId: string, id: string): Promise<NodeRow | undefined> {
  const [row] = await sql.query<NodeRow>(
    `SELECT ${NODE_COLUMNS} FROM ${NODES_WITH_MODELS} WHERE n.bank_id = $1 AND n.id = $2 FOR UPDATE OF n`,
    [bankId, id],
  );
  return row;
}

export async function insertNode(
  sql: Sql,
  node: { bankId: string; id: string; parentId: string | null; kind: NodeKind; name: string; mentalModelId: string | null },
): Promise<void> {
  await sql.query(`INSERT INTO knowledge_nodes (bank_id, id, parent_id, kind, name, mental_model_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
    node.bankId,
    node.id,
    node.parentId,
    node.kind,
    node.name,
    node.mentalModelId,
  ]);
}

/** Page names are unique in a folder (and at the root), ignoring case, as in Hindsight. */
export async function pageNameTaken(
  sql: Sql,
  bankId: string,
  parentId: string | null,
  name: string,
  exceptId: string | null,
): Promise<boolean> {
  const [row] = await sql.query<{ taken: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM knowledge_nodes
                     WHERE bank_id = $1 AND kind = 'page' AND COALESCE(parent_id, '') = COALESCE($2, '')
                       AND lower(name) = lower($3) AND id IS DISTINCT FROM $4) AS taken`,
    [bankId, parentId, name, exceptId],
  );
  return row.taken;
}

/** Whether `candidateId` is `rootId` or lies under it: the walk goes up from the candidate. */
export async function isWithinSubtree(sql: Sql, bankId: string, rootId: string, candidateId: string): Promise<boolean> {
  const [row] = await sql.query<{ within: boolean }>(
    `WITH RECURSIVE up (id, parent_id) AS (
       SELECT id, parent_id FROM knowledge_nodes WHERE bank_id = $1 AND id = $3
       UNION
       SELECT n.id, n.parent_id FROM knowledge_nodes n JOIN up ON n.bank_id = $1 AND n.id = up.parent_id
     )
     SELECT EXISTS (SELECT 1 FROM up WHERE id = $2) AS within`,
    [bankId, rootId, candidateId],
  );
  return row.within;
}

/** `name` null keeps the name; `move` false keeps the parent. */
export async function updateNode(
  sql: Sql,
  bankId: string,
  id: string,
  change: { name: string | null; move: boolean; parentId: string | null },
): Promise<void> {
  await sql.query(
    `UPDATE knowledge_nodes
        SET name = COALESCE($3, name),
            parent_id = CASE WHEN $4::boolean THEN $5 ELSE parent_id END,
            updated_at = clock_timestamp()
      WHERE bank_id = $1 AND id = $2`,
    [bankId, id, change.name, change.move, change.parentId],
  );
}

/** The node and everything under it; empty when the node does not exist. */
export async function selectSubtree(sql: Sql, bankId: string, id: string): Promise<SubtreeRow[]> {
  return sql.query<SubtreeRow>(
    `WITH RECURSIVE sub (id, mental_model_id) AS (
       SELECT id, mental_model_id FROM knowledge_nodes WHERE bank_id = $1 AND id = $2
       UNION
       SELECT n.id, n.mental_model_id FROM knowledge_nodes n JOIN sub ON n.bank_id = $1 AND n.parent_id = sub.id
     )
     SELECT id, mental_model_id FROM sub`,
    [bankId, id],
  );
}

/** Deleting the node cascades to the folders under it. Returns how many rows went (0 or 1). */
export async function deleteNode(sql: Sql, bankId: string, id: string): Promise<number> {
  const { affected } = await sql.execute(`DELETE FROM knowledge_nodes WHERE bank_id = $1 AND id = $2`, [bankId, id]);
  return affected;
}

/** Pages whose embedding is missing or was computed from other text than they have now. */
export async function pagesToEmbed(sql: Sql, bankId: string, limit: number): Promise<PageToEmbedRow[]> {
  return sql.query<PageToEmbedRow>(
    `SELECT n.id, ${PAGE_TEXT} AS text, md5(${PAGE_TEXT}) AS md5
       FROM ${NODES_WITH_MODELS}
      WHERE n.bank_id = $1 AND n.kind = 'page' AND n.embedded_md5 IS DISTINCT FROM md5(${PAGE_TEXT})
      ORDER BY n.id
      LIMIT $2`,
    [bankId, limit],
  );
}

/**
 * Stores the embedding only if the page's text is still the text it was computed from: a
 * refresh or rename in between leaves the page for the next search to embed.
 */
export async function writePageEmbedding(
  sql: Sql,
  vectors: VectorBackend,
  bankId: string,
  id: string,
  embedding: number[],
  md5: string,
): Promise<void> {
  await sql.query(
    `UPDATE knowledge_nodes n SET embedding = ${vectors.param('$3')}, embedded_md5 = $4
       FROM mental_models mm
      WHERE n.bank_id = $1 AND n.id = $2 AND mm.bank_id = n.bank_id AND mm.id = n.mental_model_id AND md5(${PAGE_TEXT}) = $4`,
    [bankId, id, vectors.serialize(embedding), md5],
  );
}

/**
 * Full-text arm: the pages sharing a word with the query (`words` as `keywordQueryText` makes
 * them), by cover density. The text is indexed on the fly: a bank has pages by the dozen, not
 * the millions of memories that need a stored `search_vector`.
 */
export async function pagesByKeyword(sql: Sql, bankId: string, words: string, limit: number): Promise<PageCandidateRow[]> {
  return sql.query<PageCandidateRow>(
    `SELECT n.id, ts_rank_cd(to_tsvector('english', ${PAGE_TEXT}), websearch_to_tsquery('english', $2))::float8 AS score
       FROM ${NODES_WITH_MODELS}
      WHERE n.bank_id = $1 AND n.kind = 'page' AND to_tsvector('english', ${PAGE_TEXT}) @@ websearch_to_tsquery('english', $2)
      ORDER BY score DESC, n.id
      LIMIT $3`,
    [bankId, words, limit],
  );
}

/** Vector arm: the embedded pages nearest the query, scanned exactly (a bank's pages are few). */
export async function pagesByVector(
  sql: Sql,
  vectors: VectorBackend,
  bankId: string,
  vector: number[],
  limit: number,
): Promise<PageCandidateRow[]> {
  return sql.query<PageCandidateRow>(
    `SELECT n.id, 1 - ${vectors.distance('n', '$2')} AS score
       FROM knowledge_nodes n
      WHERE n.bank_id = $1 AND n.kind = 'page' AND n.embedding IS NOT NULL
      ORDER BY ${vectors.distance('n', '$2')}, n.id
      LIMIT $3`,
    [bankId, vectors.serialize(vector), limit],
  );
}

export async function selectSearchHits(sql: Sql, bankId: string, ids: string[]): Promise<SearchHitRow[]> {
  return sql.query<SearchHitRow>(
    `SELECT n.id, n.name, n.mental_model_id, left(mm.content, 280) AS snippet, mm.last_refreshed_at
       FROM ${NODES_WITH_MODELS}
      WHERE n.bank_id = $1 AND n.id = ANY($2::text[])`,
    [bankId, ids],
  );
}
