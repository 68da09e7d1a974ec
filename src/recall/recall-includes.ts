import { type ChunkRow, type SourceFactRow, chunkIdsOfMemories, chunksByIds, visibleSourceFacts } from '../documents/chunks.queries.js';
import type { MemoryDatabase } from '../storage/memory-database.js';
import { type TokenCounter, cl100kTokenCounter } from './token-counter.js';
import type { FactType, RecallOutcome, RecallRequest } from './recall.types.js';

/** Hindsight's `include.chunks` and `include.source_facts`; `null` leaves them out. Budgets in cl100k tokens, -1 for none. */
export interface IncludeRequest {
  chunks: { maxTokens: number } | null;
  sourceFacts: { maxTokens: number; maxTokensPerObservation: number } | null;
}

export interface IncludedChunk {
  id: string;
  text: string;
  chunkIndex: number;
  /** Cut to what was left of the budget. */
  truncated: boolean;
}

export interface SourceFact {
  id: string;
  text: string;
  type: FactType;
  context: string | null;
  occurredStart: Date | null;
  occurredEnd: Date | null;
  mentionedAt: Date | null;
  documentId: string | null;
  chunkId: string | null;
  metadata: Record<string, string>;
  tags: string[];
  entities: string[];
}

export interface RecallIncludes {
  /** The chunk each result was extracted from, by memory id; a result without one is absent. */
  chunkIdByMemory: Map<string, string>;
  /** By chunk id, the chunks of the results in result order, within the budget; `null` when not asked for. */
  chunks: Record<string, IncludedChunk> | null;
  /** By memory id, the sources of the observations among the results; `null` when not asked for. */
  sourceFacts: Record<string, SourceFact> | null;
  /** Whether the budget left some source out; `null` when source facts were not asked for. */
  sourceFactsTruncated: boolean | null;
}

/**
 * What recall attaches about where its results came from. Kept apart from the ranking: it runs
 * once the results are final, in one short scope of its own (no external call inside it), and
 * only when a result can have a chunk or the request asked for something.
 *
 * A source fact is shown only when the request's tag filter would show it, whatever observation
 * names it; a chunk only for a result already shown, whose tags its text was retained with.
 */
export async function loadRecallIncludes(
  database: MemoryDatabase,
  request: RecallRequest,
  outcome: RecallOutcome,
  include: IncludeRequest,
): Promise<RecallIncludes> {
  const withDocument = outcome.results.filter((memory) => memory.documentId !== null).map((memory) => memory.id);
  const sourceIds = include.sourceFacts
    ? [...new Set(outcome.results.flatMap((memory) => (memory.type === 'observation' ? (memory.sourceMemoryIds ?? []) : [])))]
    : [];
  if (withDocument.length === 0 && sourceIds.length === 0) {
    return {
      chunkIdByMemory: new Map(),
      chunks: include.chunks ? {} : null,
      sourceFacts: include.sourceFacts ? {} : null,
      sourceFactsTruncated: include.sourceFacts ? false : null,
    };
  }

  const filter = { tags: [...new Set(request.tags ?? [])], tagsMatch: request.tagsMatch ?? 'any' };
  const loaded = await database.withConnection(async (sql) => {
    const chunkIdByMemory = await chunkIdsOfMemories(sql, request.bankId, withDocument);
    const wanted = include.chunks ? [...new Set(outcome.results.flatMap((memory) => chunkIdByMemory.get(memory.id) ?? []))] : [];
    const chunkRows = await chunksByIds(sql, request.bankId, wanted);
    const sourceRows = await visibleSourceFacts(sql, request.bankId, sourceIds, filter);
    return { chunkIdByMemory, wanted, chunkRows, sourceRows };
  });

  const counter = include.chunks || include.sourceFacts ? await cl100kTokenCounter() : null;
  return {
    chunkIdByMemory: loaded.chunkIdByMemory,
    chunks: include.chunks ? budgetChunks(loaded.wanted, loaded.chunkRows, include.chunks.maxTokens, counter!) : null,
    ...(include.sourceFacts
      ? budgetSourceFacts(outcome, loaded.sourceRows, include.sourceFacts, counter!)
      : { sourceFacts: null, sourceFactsTruncated: null }),
  };
}

/** In result order; the chunk that does not fit whole is cut to what is left, and is the last. */
function budgetChunks(order: string[], rows: ChunkRow[], maxTokens: number, counter: TokenCounter): Record<string, IncludedChunk> {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const included: Record<string, IncludedChunk> = {};
  let left = maxTokens < 0 ? Infinity : maxTokens;
  for (const id of order) {
    const row = byId.get(id);
    if (!row) continue;
    if (left <= 0) break;
    const tokens = counter.count(row.chunk_text);
    if (tokens <= left) {
      included[id] = { id, text: row.chunk_text, chunkIndex: row.chunk_index, truncated: false };
      left -= tokens;
      continue;
    }
    const text = prefixWithin(row.chunk_text, left, counter);
    if (text) included[id] = { id, text, chunkIndex: row.chunk_index, truncated: true };
    break;
  }
  return included;
}

/** The longest prefix of `text` that counts at most `maxTokens` (a binary search: counts grow with the prefix). */
function prefixWithin(text: string, maxTokens: number, counter: TokenCounter): string {
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (counter.count(text.slice(0, middle)) <= maxTokens) low = middle;
    else high = middle - 1;
  }
  return text.slice(0, low);
}

/**
 * Observations in result order, each one's sources in its order, while both budgets last: a
 * source over the observation's budget ends that observation's list, one over the total ends
 * them all. A source shared by two observations is counted once.
 */
function budgetSourceFacts(
  outcome: RecallOutcome,
  rows: SourceFactRow[],
  budget: { maxTokens: number; maxTokensPerObservation: number },
  counter: TokenCounter,
): { sourceFacts: Record<string, SourceFact>; sourceFactsTruncated: boolean } {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const total = budget.maxTokens < 0 ? Infinity : budget.maxTokens;
  const perObservation = budget.maxTokensPerObservation < 0 ? Infinity : budget.maxTokensPerObservation;
  const sourceFacts: Record<string, SourceFact> = {};
  let spent = 0;
  let truncated = false;
  observations: for (const memory of outcome.results) {
    if (memory.type !== 'observation') continue;
    let used = 0;
    for (const id of memory.sourceMemoryIds ?? []) {
      const row = byId.get(id);
      if (!row || sourceFacts[id]) continue;
      const tokens = counter.count(row.text);
      if (used + tokens > perObservation) {
        truncated = true;
        break;
      }
      if (spent + tokens > total) {
        truncated = true;
        break observations;
      }
      used += tokens;
      spent += tokens;
      sourceFacts[id] = toSourceFact(row);
    }
  }
  return { sourceFacts, sourceFactsTruncated: truncated };
}

function toSourceFact(row: SourceFactRow): SourceFact {
  return {
    id: row.id,
    text: row.text,
    type: row.fact_type as FactType,
    context: row.context,
    occurredStart: row.occurred_start,
    occurredEnd: row.occurred_end,
    mentionedAt: row.mentioned_at,
    documentId: row.document_id,
    chunkId: row.chunk_id,
    metadata: row.metadata ?? {},
    tags: row.tags,
    entities: row.entities,
  };
}
