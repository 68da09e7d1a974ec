import type { Sql } from '../../storage/memory-database.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/** More words than any question has; bounds the work a pasted document could cause. */
const MAX_KEYWORD_TERMS = 64;

/**
 * The words of a query as `websearch_to_tsquery` input joined by `or`.
 *
 * `plainto_tsquery` ANDs every word, and a question rarely shares all its words ("which",
 * "does") with the answer; OR lets `ts_rank_cd` reward the memories that share most. Only runs of
 * letters and digits survive, so no user text reaches tsquery syntax, and `websearch_to_tsquery`
 * never raises on what is left. The word "or" is dropped because it is that parser's operator
 * (and an English stop word, so it would not match anything anyway).
 */
export function keywordQueryText(query: string, leaveOut: ReadonlySet<string> = new Set()): string {
  const words =
    query
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words)].filter((word) => word !== 'or' && !leaveOut.has(word)).slice(0, MAX_KEYWORD_TERMS);
  return unique.join(' or ');
}

/**
 * Full-text matches on the `search_vector` column (english configuration), by cover density.
 *
 * The words of the names the query gives (`nameWords`) are left out when other words remain:
 * names are the most frequent words of a personal bank, and `ts_rank_cd` has no inverse document
 * frequency to discount them, so "Ingrid" would rank each of Ingrid's forty memories like the one
 * about her allergy, and "She is allergic to hazelnuts." (which never spells the name) below them
 * all. Which memories are about Ingrid is the entity arm's answer; fused, the two do better than
 * this arm with the names in (measured in BENCHMARKS.md, "Memory quality"), though this arm alone
 * then scores lower on questions whose other words many people share.
 */
export async function keywordArm(
  sql: Sql,
  scope: RecallScope,
  query: string,
  limit: number,
  nameWords: ReadonlySet<string> = new Set(),
): Promise<ArmCandidate[]> {
  const withoutNames = keywordQueryText(query, nameWords);
  const text = withoutNames === '' ? keywordQueryText(query) : withoutNames;
  if (text === '') return [];
  const params = new SqlParams();
  const tsquery = `websearch_to_tsquery('english', ${params.add(text)})`;
  const rows = await sql.query<{ id: string; rank: number }>(
    `SELECT m.id, ts_rank_cd(m.search_vector, q.query)::float8 AS rank
       FROM memory_units m, ${tsquery} AS q(query)
      WHERE ${visibleMemories('m', scope, params)} AND m.search_vector @@ q.query
      ORDER BY rank DESC, m.mentioned_at DESC, m.id
      LIMIT ${params.add(limit)}`,
    params.values,
  );
  return rows.map((row) => ({ id: row.id, score: Number(row.rank) }));
}
