import type { IncludeRequest, RecallIncludes, SourceFact } from '../recall/recall-includes.js';
import type { IncludeOptionsDto } from './dto/recall.dto.js';

type Json = Record<string, unknown>;

/** Hindsight's defaults: `include.chunks: {}` is 8192 tokens, `include.source_facts: {}` 4096 in all and no limit per observation. */
export function toIncludeRequest(include: IncludeOptionsDto | null | undefined): IncludeRequest {
  const chunks = include?.chunks;
  const sourceFacts = include?.source_facts;
  return {
    chunks: chunks ? { maxTokens: chunks.max_tokens ?? 8192 } : null,
    sourceFacts: sourceFacts
      ? { maxTokens: sourceFacts.max_tokens ?? 4096, maxTokensPerObservation: sourceFacts.max_tokens_per_observation ?? -1 }
      : null,
  };
}

/**
 * Adds to a recall's wire form each result's `chunk_id` and, when asked for, the top-level
 * `chunks`, `source_facts` and `source_facts_truncated` of Hindsight's `RecallResponse`.
 */
export function withRecallIncludes(wire: Json & { results: Json[] }, includes: RecallIncludes): Json {
  const results = wire.results.map((result) => {
    const chunkId = includes.chunkIdByMemory.get(result.id as string);
    return chunkId ? { ...result, chunk_id: chunkId } : result;
  });
  const extra: Json = {};
  if (includes.chunks) {
    extra.chunks = Object.fromEntries(
      Object.entries(includes.chunks).map(([id, chunk]) => [
        id,
        { id: chunk.id, text: chunk.text, chunk_index: chunk.chunkIndex, truncated: chunk.truncated },
      ]),
    );
  }
  if (includes.sourceFacts) {
    extra.source_facts = Object.fromEntries(Object.entries(includes.sourceFacts).map(([id, fact]) => [id, toSourceFactWire(fact)]));
    extra.source_facts_truncated = includes.sourceFactsTruncated;
  }
  return { ...wire, results, ...extra };
}

/** A `RecallResult` with no scores: the fact was not ranked, only cited. */
function toSourceFactWire(fact: SourceFact): Json {
  const wire: Json = {
    id: fact.id,
    text: fact.text,
    type: fact.type,
    entities: fact.entities,
    context: fact.context,
    occurred_start: fact.occurredStart?.toISOString() ?? null,
    occurred_end: fact.occurredEnd?.toISOString() ?? null,
    mentioned_at: fact.mentionedAt?.toISOString() ?? null,
    document_id: fact.documentId,
    metadata: fact.metadata,
    chunk_id: fact.chunkId,
    tags: fact.tags,
  };
  return Object.fromEntries(Object.entries(wire).filter(([, value]) => value !== null));
}
