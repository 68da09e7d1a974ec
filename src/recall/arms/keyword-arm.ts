import type { Sql } from '../../storage/memory-database.js';
import type { ArmCandidate } from './arm-candidate.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/** More words than any question has; bounds the work a pasted document could cause. */
const MAX_KEYWORD_TERMS = 64;
/**
 * How many two-word matches are ranked per place returned, the most recent first. Two common
 * words that come together (a place called "the boat club") can match a tenth of a bank; ranking
 * them all cost more than the rest of recall. Smaller banks never reach the bound.
 */
const RANKED_PER_CANDIDATE = 8;

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
 * How the arm finds the matches: through the full-text index, or by reading the bank's own rows.
 * `memory_units_search` is one GIN index for every bank, so a word's posting list holds every
 * bank's memories that use it, and looking a common word up costs in proportion to the whole
 * table: in a 1,000-memory bank of a 218,000-memory database the index lookup alone took 2.8 ms
 * for 14 matches. Reading a small bank's rows costs in proportion to the bank instead, so recall
 * reads the rows of a bank below `RecallSettings.keywordScanBelow` (measured in BENCHMARKS.md,
 * "Recall with 1,000 banks"). Both find the same memories in the same order.
 */
export type KeywordSearch = 'index' | 'bank-rows';

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
 *
 * Ranking every memory that shares one word with the question read thousands of rows of a large
 * bank for fifty. The arm ranks in two tiers instead: the memories sharing at least two of the
 * question's words (few, and with the most covers the best by cover density), ranked (the most
 * recent `RANKED_PER_CANDIDATE` × limit of them when there are more); then,
 * only for the places left, memories sharing one word, most recent first, which is how one-word
 * matches mostly tie anyway (each is one cover of one word). The second tier walks the bank's
 * mention-time index until it has enough, or, for rare words, reads their few matches; the
 * planner picks by the words' frequency.
 */
export async function keywordArm(
  sql: Sql,
  scope: RecallScope,
  query: string,
  limit: number,
  nameWords: ReadonlySet<string> = new Set(),
  search: KeywordSearch = 'index',
): Promise<ArmCandidate[]> {
  const statement = keywordArmQuery(scope, query, limit, nameWords, search);
  if (!statement) return [];
  const rows = await sql.query<{ id: string; rank: number }>(statement.text, statement.values);
  return rows.map((row) => ({ id: row.id, score: Number(row.rank) }));
}

/**
 * The arm's statement, exported so that a test can explain what recall runs; `null` when the
 * question leaves no words to match or no place to fill.
 */
export function keywordArmQuery(
  scope: RecallScope,
  query: string,
  limit: number,
  nameWords: ReadonlySet<string> = new Set(),
  search: KeywordSearch = 'index',
): { text: string; values: unknown[] } | null {
  const withoutNames = keywordQueryText(query, nameWords);
  const text = withoutNames === '' ? keywordQueryText(query) : withoutNames;
  if (text === '' || limit <= 0) return null;
  const params = new SqlParams();
  const words = params.add(text);
  const anyWord = `websearch_to_tsquery('english', ${words})`;
  // Every pair of the question's lexemes, as `'a' & 'b' | 'a' & 'c' | …`; empty (matching
  // nothing) for a one-word question. Lexemes are runs of letters and digits: nothing to escape.
  const twoWords = `(SELECT coalesce(string_agg(quote_literal(a) || ' & ' || quote_literal(b), ' | '), '')::tsquery
                       FROM unnest(tsvector_to_array(to_tsvector('english', ${words}))) AS a,
                            unnest(tsvector_to_array(to_tsvector('english', ${words}))) AS b
                      WHERE a < b)`;
  const visible = visibleMemories('m', scope, params);
  const take = params.add(limit);
  const ranked = params.add(limit * RANKED_PER_CANDIDATE);
  const rank = `ts_rank_cd(m.search_vector, ${anyWord})::float8`;
  const tiers =
    search === 'bank-rows'
      ? // One pass over the bank's rows, each matched once and the tiers cut from the result. The
        // match is on an expression the GIN index does not cover, so that the planner cannot
        // choose the index lookup this form exists to avoid (it estimates it cheap: it cannot see
        // that the posting lists are every bank's).
        `WITH matches AS MATERIALIZED (
       SELECT m.id, m.mentioned_at, m.search_vector @@ ${twoWords} AS several, ${rank} AS rank
         FROM memory_units m
        WHERE ${visible} AND coalesce(m.search_vector, ''::tsvector) @@ ${anyWord}
     ), several AS (
       SELECT r.id, r.mentioned_at, r.rank
         FROM (SELECT * FROM matches WHERE several ORDER BY mentioned_at DESC, id LIMIT ${ranked}) AS r
        ORDER BY r.rank DESC, r.mentioned_at DESC, r.id
        LIMIT ${take}
     ), one AS (
       SELECT id, mentioned_at, rank
         FROM matches
        WHERE NOT several
        ORDER BY mentioned_at DESC, id
        LIMIT greatest(0, ${take} - (SELECT count(*) FROM several))
     )`
      : // The second tier is planned for a whole limit's rows and cut to the places left outside:
        // given only "the places left", which it cannot know, the planner assumes a tenth of the
        // matches and, in a bank among many, reads every match of a common word through the
        // shared index where walking the bank's recent memories finds the few it needs (20 against
        // 1 ms in a 20,000-memory bank of a 218,000-memory database). It does not run at all when
        // the first tier fills the limit.
        `WITH several AS MATERIALIZED (
       SELECT r.id, r.mentioned_at, ts_rank_cd(r.search_vector, ${anyWord})::float8 AS rank
         FROM (SELECT m.id, m.mentioned_at, m.search_vector
                 FROM memory_units m
                WHERE ${visible} AND m.search_vector @@ ${twoWords}
                ORDER BY m.mentioned_at DESC, m.id
                LIMIT ${ranked}) AS r
        ORDER BY rank DESC, r.mentioned_at DESC, r.id
        LIMIT ${take}
     ), one AS (
       SELECT * FROM (
         SELECT m.id, m.mentioned_at, ${rank} AS rank
           FROM memory_units m
          WHERE (SELECT count(*) FROM several) < ${take}
            AND ${visible} AND m.search_vector @@ ${anyWord} AND NOT m.search_vector @@ ${twoWords}
          ORDER BY m.mentioned_at DESC, m.id
          LIMIT ${take}) AS walked
        LIMIT greatest(0, ${take} - (SELECT count(*) FROM several))
     )`;
  // Both tiers, then one order over what they found.
  return {
    text: `${tiers}
     SELECT id, rank FROM (SELECT * FROM several UNION ALL SELECT * FROM one) AS tiers
      ORDER BY rank DESC, mentioned_at DESC, id
      LIMIT ${take}`,
    values: params.values,
  };
}
