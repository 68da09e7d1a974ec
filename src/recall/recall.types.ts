import type { KeywordSearch } from './arms/keyword-arm.js';
import type { SemanticSearch } from './arms/semantic-arm.js';

export type FactType = 'world' | 'experience' | 'observation';
export const FACT_TYPES: readonly FactType[] = ['world', 'experience', 'observation'];

/**
 * How a request's tags select memories (only when the request names tags, except `exact`):
 * - `any`: shares at least one tag, or is untagged;
 * - `all`: carries every requested tag, or is untagged;
 * - `any_strict` / `all_strict`: as above, but untagged memories never match;
 * - `exact`: its tag set equals the requested set (no tags requested = untagged memories only).
 */
export type TagsMatch = 'any' | 'all' | 'any_strict' | 'all_strict' | 'exact';
export const TAGS_MATCHES: readonly TagsMatch[] = ['any', 'all', 'any_strict', 'all_strict', 'exact'];

export type RecallBudget = 'low' | 'mid' | 'high';
export const RECALL_BUDGETS: readonly RecallBudget[] = ['low', 'mid', 'high'];

export interface RecallRequest {
  bankId: string;
  query: string;
  /** Empty or undefined: all three. */
  types?: FactType[];
  /** How wide each arm searches and how many candidates the reranker sees; `mid` by default. */
  budget?: RecallBudget;
  /** Token budget of the returned memories (text plus context, cl100k_base); 4096 by default. */
  maxTokens?: number;
  trace?: boolean;
  /** "Now" for relative dates in the query ("last week"); the current time by default. */
  queryTimestamp?: Date;
  tags?: string[];
  /** `any` by default. */
  tagsMatch?: TagsMatch;
  /**
   * Compound tag filters (Hindsight's `tag_groups`), AND-ed with each other and with `tags`; as
   * they arrived, checked by recall (`src/recall/tag-groups.ts`).
   */
  tagGroups?: unknown[];
  /**
   * With observations and raw facts both asked for: a raw fact that a returned observation was
   * built from gives its place to the next result. Off by default.
   */
  preferObservations?: boolean;
  /** `{ maxTokens: 500 }` by default; `null` leaves the entities map out. */
  includeEntities?: { maxTokens: number } | null;
  /**
   * A bank that does not exist is then a `BankNotFound` error, checked on recall's own connection
   * before the arms run (one checkout per recall, not two); otherwise it simply recalls nothing.
   * The API routes set it.
   */
  bankMustExist?: boolean;
}

export interface RecalledMemory {
  id: string;
  text: string;
  type: FactType;
  context: string | null;
  occurredStart: Date | null;
  occurredEnd: Date | null;
  mentionedAt: Date | null;
  documentId: string | null;
  metadata: Record<string, string>;
  tags: string[];
  /** Entity names as first written ("Alice"), the keys of `RecallOutcome.entities`. */
  entities: string[];
  sourceMemoryIds: string[] | null;
  /** The newer memory that replaced this one (docs/ARCHITECTURE.md, "Supersession"); `null` while it is current. */
  supersededBy: string | null;
  scores: { final: number; semantic?: number; keyword?: number; reranker?: number };
}

export interface RecalledEntity {
  entityId: string;
  /** The name as first written, as Hindsight's `canonical_name` is; the entity routes show the same. */
  canonicalName: string;
  /** Newest first, within the request's entity token budget. */
  observations: Array<{ text: string; mentionedAt: Date | null }>;
}

export interface RecallOutcome {
  results: RecalledMemory[];
  /** Keyed by the entities' names as first written; `null` when the request asked for no entities. */
  entities: Record<string, RecalledEntity> | null;
  trace: RecallTrace | null;
}

export type RecallArmName = 'semantic' | 'keyword' | 'entity' | 'temporal';

export interface RecallTraceCandidate {
  id: string;
  /** From 1. */
  rank: number;
  /** The arm's own score: cosine similarity, ts_rank_cd, matched entities, temporal closeness. */
  score: number;
}

export interface RecallArmTrace {
  name: RecallArmName;
  /**
   * How the arm found its candidates, where that depends on the bank's size: the semantic arm by
   * an `exact` scan or an HNSW `index`, the keyword arm by reading the bank's own rows
   * (`bank-rows`) or the full-text `index`.
   */
  search?: SemanticSearch | KeywordSearch;
  /**
   * The arm's time on the connection. The entity arm's includes the lookup of the names the
   * question gives, its first step, which runs before the arms because the keyword arm also
   * reads its result.
   */
  durationMs: number;
  candidates: RecallTraceCandidate[];
}

export interface RecallTrace {
  query: string;
  budget: RecallBudget;
  candidatesPerArm: number;
  /** The range the temporal arm searched, or null when the query names no time. */
  temporalRange: { start: Date; end: Date; expressions: string[] } | null;
  embeddingMs: number;
  arms: RecallArmTrace[];
  /**
   * From the names lookup to the end of the last arm: less than the arms' `durationMs` added up
   * when they ran on two connections at once.
   */
  armsMs: number;
  fusion: {
    method: 'rrf';
    k: number;
    /** Every fused candidate, best first; `arms` holds its rank in each arm that found it. */
    candidates: Array<RecallTraceCandidate & { arms: Partial<Record<RecallArmName, number>> }>;
  };
  rerank: {
    status: 'disabled' | 'applied' | 'failed';
    /** How many fused candidates were sent to the reranker. */
    window: number;
    error?: string;
  };
  rerankMs: number;
  /** Candidates dropped by the token budget. */
  trimmed: number;
  /** Tokens of the returned memories. */
  tokens: number;
  totalMs: number;
}

/** Tunables; the defaults are {@link DEFAULT_RECALL_SETTINGS}. */
export interface RecallSettings {
  /** How many candidates each arm returns, by budget. */
  candidatesPerArm: Record<RecallBudget, number>;
  /** How many of the best fused candidates go to the reranker (and can be returned when one is set). */
  rerankWindow: Record<RecallBudget, number>;
  /** The reciprocal rank fusion constant: score = Σ 1 / (k + rank). */
  rrfK: number;
  defaultMaxTokens: number;
  defaultEntityMaxTokens: number;
  observationsPerEntity: number;
  /**
   * With pgvector, a bank holding fewer memories than this is searched by an exact scan rather
   * than an HNSW index (see `semanticArm`); measured in BENCHMARKS.md, "Recall with 1,000 banks".
   */
  exactScanBelow: number;
  /**
   * A bank holding fewer memories than this is searched for the question's words by reading its
   * own rows rather than the full-text index, whose posting lists hold every bank's memories (see
   * `KeywordSearch`); measured in BENCHMARKS.md, "Recall with 1,000 banks".
   */
  keywordScanBelow: number;
}

export const DEFAULT_RECALL_SETTINGS: Readonly<RecallSettings> = Object.freeze({
  candidatesPerArm: Object.freeze({ low: 20, mid: 50, high: 100 }),
  rerankWindow: Object.freeze({ low: 20, mid: 50, high: 100 }),
  // 60 is the constant of the original RRF paper (Cormack et al., 2009): it flattens the
  // difference between rank 1 and rank 5 so that agreement between arms outweighs one arm's
  // confidence.
  rrfK: 60,
  defaultMaxTokens: 4096,
  defaultEntityMaxTokens: 500,
  observationsPerEntity: 3,
  exactScanBelow: 10_000,
  keywordScanBelow: 2_000,
});
