import type { Sql } from '../../storage/memory-database.js';
import type { ArmCandidate } from './arm-candidate.js';
import { askedAttributeKeys } from '../../supersession/attribute-key.js';
import { keywordQueryText } from './keyword-arm.js';
import { SqlParams } from './sql-params.js';
import { RecallScope, visibleMemories } from './visible-memories.js';

/**
 * Both sides reduced to space-separated runs of letters and digits, so that names match whole
 * words only ("ann" is not found in "annual") and multi-word names as a phrase, whatever
 * punctuation either side uses ("o'brien", "Ann's"). The same SQL expression normalises both
 * sides, so they cannot disagree about what a letter is; migration 1764900000000 indexes
 * `firstWord` of it as spelled here (its index of the whole words, which only an earlier lookup
 * read, was dropped by migration 1766400000000).
 */
const words = (expression: string) => `btrim(regexp_replace(lower(${expression}), '[^[:alnum:]]+', ' ', 'g'))`;

/** Words before a name that are not the name: "Dr Khan" is not found by every question with "dr". */
const TITLES = ['mr', 'mrs', 'ms', 'miss', 'dr', 'prof', 'sir', 'st', 'the'];

/**
 * The first word of a multi-word name, on its own: people are asked about by first name
 * ("Where does Oskar live?") far more often than they were first written down by it.
 */
const firstWord = (expression: string) => `split_part(${words(expression)}, ' ', 1)`;

/** Names of more words than this are not looked for in a question. */
const LONGEST_NAME = 8;

/** How many of the first hop's best memories lend their other entities to the second hop. */
const BRIDGE_MEMORIES = 2;

/**
 * How many of each named person's newest memories are ranked per place returned. Ranking all of
 * a person's memories read thousands of rows for fifty when one person is in a few percent of a
 * large bank; a person with fewer memories than the window (every person of a personal bank,
 * where a question's answer is most often found) is ranked whole, as before.
 */
const RANKED_PER_CANDIDATE = 8;

/**
 * Memories linked to the entities the query names (in full, or a multi-word name by its first
 * word), most matched entities first; among them, first the ones keyed to the attribute the
 * question asks about ("What's Carol's job title?": her `role`), then the ones whose text shares
 * most of the question's other words, then the newest by the fact's own time. Ranking a
 * person's memories by the question rather than by recency alone is what makes this arm useful on
 * a bank with many memories per person: the arm answers "which of Oskar's memories?", the other
 * arms "which memories about keys?". The name itself is left out of that ranking, or a sentence
 * that refers to the person as "she" would lose to every sentence that spells the name. Of a
 * person with many memories, only the newest `RANKED_PER_CANDIDATE` × limit are ranked: the arm's
 * cost is then bounded by what it returns, not by how often the person was mentioned.
 *
 * A second hop follows the question through a relation: "What subject does Oskar's sister
 * teach?" finds "Oskar Lind's sister is Petra Holm." first, and then, among the memories of the
 * other people that memory names, the ones that share the question's words ("Petra Holm teaches
 * chemistry…"). Its candidates are interleaved with the first hop's, each hop's best first.
 *
 * The names are matched by one SQL expression applied to both the entities' names and the query
 * (`words`), so there is no assumption about how the retain pipeline spells a canonical name.
 */
export interface NamedEntity {
  id: string;
  canonical_name: string;
}

/** The statement of `namedEntities`, exported so that the index test explains what recall runs. */
export function namedEntitiesQuery(bankId: string, query: string): { text: string; values: unknown[] } {
  // A name is in the query when its words are a run of the query's words: one of its n-grams.
  // Either way a name is found, in full or by its first word, that first word is one of the
  // query's words, so one lookup of the names' first words (migration 1764900000000, an
  // expression index: compared by equality, not `position()` in the query) finds every candidate
  // without reading every entity of the bank, and the n-grams only sort them. Looking the n-grams
  // up as well cost some 80 more index probes a question for the same entities (0.82 against
  // 0.66 ms p50 in the largest bank of a 1M-memory database, 200 questions, all 200 alike).
  const queryWords = `string_to_array(${words('$2::text')}, ' ')`;
  const ngrams = `ARRAY(SELECT array_to_string(q.w[i:j], ' ')
                          FROM (SELECT ${queryWords} AS w) AS q,
                               generate_series(1, cardinality(q.w)) AS i,
                               generate_series(i, least(cardinality(q.w), i + ${LONGEST_NAME - 1})) AS j)`;
  const text = `SELECT e.id, e.canonical_name, ${firstWord('e.canonical_name')} AS first_word,
            position(' ' IN btrim(e.canonical_name)) > 0 AS several_words,
            ${words('e.canonical_name')} = ANY(${ngrams}) AS in_full
       FROM entities e
      WHERE e.bank_id = $1
        AND ${firstWord('e.canonical_name')} = ANY(${queryWords})
        AND (${words('e.canonical_name')} = ANY(${ngrams})
             OR (position(' ' IN btrim(e.canonical_name)) > 0
                 AND length(${firstWord('e.canonical_name')}) >= 3
                 AND ${firstWord('e.canonical_name')} <> ALL($3::text[])))`;
  return { text, values: [bankId, query, TITLES] };
}

/**
 * The bank's entities the query names: in full, or a multi-word name by its first word. A first
 * word that begins a multi-word name the query gives in full stands for that person only:
 * "Haltor Gorroro" is not also every other Haltor of the bank, who would bring all their memories
 * with them.
 */
export async function namedEntities(sql: Sql, bankId: string, query: string): Promise<NamedEntity[]> {
  const { text, values } = namedEntitiesQuery(bankId, query);
  const rows = await sql.queryPrepared<NamedEntity & { in_full: boolean; several_words: boolean; first_word: string }>(text, values);
  const givenInFull = new Set(rows.filter((row) => row.in_full && row.several_words).map((row) => row.first_word));
  return rows.filter((row) => row.in_full || !givenInFull.has(row.first_word)).map(({ id, canonical_name }) => ({ id, canonical_name }));
}

/** The words of the names, as the keyword query spells them: what the other arms need not match again. */
export function nameWords(named: NamedEntity[]): Set<string> {
  return new Set(named.flatMap((entity) => keywordQueryText(entity.canonical_name).split(' or ')).filter(Boolean));
}

export async function entityArm(sql: Sql, scope: RecallScope, query: string, named: NamedEntity[], limit: number): Promise<ArmCandidate[]> {
  // The entities are found in a statement of their own (`namedEntities`): the planner cannot
  // estimate how many entities a name match leaves (it guessed hundreds where there was one) and
  // then scanned every link and memory of the bank; with the ids bound, it walks the entity index.
  if (named.length === 0) return [];
  const words = keywordQueryText(query, nameWords(named));
  const attributeKeys = askedAttributeKeys(
    query,
    named.map((entity) => entity.canonical_name),
  );
  const firstHop = await memoriesOfEntities(sql, scope, {
    entities: { ids: named.map((entity) => entity.id) },
    words,
    attributeKeys,
    limit,
  });

  // The bridges are the memories that share most of the question's words, whatever attribute it
  // asks about: in "What does Ingrid's landlord drive?" that is the landlord's, not Ingrid's, and
  // her own car, put first by the asked attribute, would take the bridge from "Ingrid Vale's
  // landlord is Felix Moreau."
  const byWords = [...firstHop].sort((a, b) => b.matched - a.matched || b.rank - a.rank);
  const bridges = byWords.slice(0, BRIDGE_MEMORIES).filter((row) => row.rank > 0);
  if (bridges.length === 0 || words === '') return firstHop.map(toCandidate);
  const secondHop = await memoriesOfEntities(sql, scope, {
    entities: { linkedTo: bridges.map((row) => row.id), except: named.map((entity) => entity.id) },
    words,
    attributeKeys: [],
    limit,
    matchingOnly: true,
  });
  return interleave(firstHop, secondHop, limit).map(toCandidate);
}

interface EntityMemoryRow {
  id: string;
  matched: number;
  rank: number;
  hop?: 2;
}

/**
 * Whose memories: the named entities, or the second hop's, the other entities of the bridge
 * memories. The second hop's are looked up inside its own statement (a handful of links by the
 * primary key) rather than in one before it, a round trip fewer.
 */
type EntitiesToSearch = { ids: string[] } | { linkedTo: string[]; except: string[] };

async function memoriesOfEntities(
  sql: Sql,
  scope: RecallScope,
  search: { entities: EntitiesToSearch; words: string; attributeKeys: string[]; limit: number; matchingOnly?: boolean },
): Promise<EntityMemoryRow[]> {
  const params = new SqlParams();
  // The statement is prepared, and past five runs PostgreSQL plans it once, without the values: a
  // plan that does not fold `websearch_to_tsquery` of the bound words into a constant, as one made
  // for them does, and so parsed the question again for each memory of the window (twice, for the
  // match and the rank), which made the generic plan slower than planning every time. A scalar
  // subquery is evaluated once per statement either way.
  const tsquery = search.words === '' ? null : `(SELECT websearch_to_tsquery('english', ${params.add(search.words)}))`;
  // Most of a person's window shares none of the question's words, and `ts_rank_cd` costs about
  // five times `@@` on such a memory only to return 0: it ranks the matches alone.
  const rank = tsquery
    ? `CASE WHEN v.search_vector @@ ${tsquery} THEN ts_rank_cd(v.search_vector, ${tsquery})::float8 ELSE 0 END`
    : '0::float8';
  const bank = params.add(scope.bankId);
  const entities =
    'ids' in search.entities
      ? `unnest(${params.add(search.entities.ids)}::uuid[]) AS named(id)`
      : `(SELECT DISTINCT link.entity_id AS id
            FROM unit_entities link
           WHERE link.bank_id = ${bank} AND link.unit_id = ANY(${params.add(search.entities.linkedTo)}::uuid[])
             AND NOT (link.entity_id = ANY(${params.add(search.entities.except)}::uuid[]))) AS named`;
  // Per entity, its newest visible links through unit_entities_entity_time (migration
  // 1765900000000): the walk stops after the window, however many memories the person has. What
  // the order needs is computed in the walk, from the row it already read, so each memory is read
  // once; a memory two named people share comes once per person and is grouped here. The second
  // hop keeps the window's memories that share the question's words: filtering inside the walk
  // instead read every memory of a person whose window held fewer matches than its size (all
  // 1,841 of one person's, for 97, in a bank of a million).
  const matches = search.matchingOnly && tsquery ? `v.search_vector @@ ${tsquery}` : 'true';
  const rows = await sql.queryPrepared<EntityMemoryRow>(
    `SELECT recent.id, count(*)::int AS matched, max(recent.rank) AS rank
       FROM ${entities}
      CROSS JOIN LATERAL (
             SELECT v.id, ${rank} AS rank,
                    coalesce(v.attribute_key = ANY(${params.add(search.attributeKeys)}::text[]), false) AS asked,
                    coalesce(v.occurred_start, v.mentioned_at) AS happened,
                    ${matches} AS matches
               FROM unit_entities ue
               JOIN memory_units v ON v.bank_id = ue.bank_id AND v.id = ue.unit_id
              WHERE ue.bank_id = ${bank} AND ue.entity_id = named.id
                AND ${visibleMemories('v', scope, params)}
              ORDER BY ue.memory_at DESC, ue.unit_id
              LIMIT ${params.add(search.limit * RANKED_PER_CANDIDATE)}
           ) AS recent
      WHERE recent.matches
      GROUP BY recent.id
      ORDER BY matched DESC, bool_or(recent.asked) DESC, rank DESC, max(recent.happened) DESC, recent.id
      LIMIT ${params.add(search.limit)}`,
    params.values,
  );
  return rows.map((row) => ({
    id: row.id,
    matched: Number(row.matched),
    rank: Number(row.rank),
    ...(search.matchingOnly && { hop: 2 as const }),
  }));
}

/** The first hop's memories and the second's, alternately, each once. */
function interleave(first: EntityMemoryRow[], second: EntityMemoryRow[], limit: number): EntityMemoryRow[] {
  const seen = new Set<string>();
  const merged: EntityMemoryRow[] = [];
  for (let index = 0; merged.length < limit && (index < first.length || index < second.length); index += 1) {
    for (const row of [first[index], second[index]]) {
      if (row && !seen.has(row.id) && merged.length < limit) {
        seen.add(row.id);
        merged.push(row);
      }
    }
  }
  return merged;
}

/** The arm's score is how many named entities the memory is linked to; a second-hop memory counts half. */
function toCandidate(row: EntityMemoryRow): ArmCandidate {
  return { id: row.id, score: row.hop === 2 ? 0.5 : row.matched };
}
