import { Logger } from '@nestjs/common';
import { bankExists } from '../banks/banks.queries.js';
import { bankNotFound } from '../banks/banks.service.js';
import type { Embedder } from '../external/embedder.js';
import type { Reranker } from '../external/reranker.js';
import { errorMessage } from '../lifecycle/shutdown-coordinator.js';
import type { MemoryDatabase, Sql } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import { entityArm, nameWords, namedEntities } from './arms/entity-arm.js';
import { type KeywordSearch, keywordArm } from './arms/keyword-arm.js';
import { type SemanticSearch, semanticArm } from './arms/semantic-arm.js';
import { temporalArm } from './arms/temporal-arm.js';
import type { RecallScope } from './arms/visible-memories.js';
import { asksAboutThePresent, preferCurrentFacts, setBackHowThingsWere } from './current-facts.js';
import { type AnswerFacts, preferNewerAnswers } from './recency.js';
import { type FusedCandidate, type RankedArm, fuseByReciprocalRank, fusedOrder } from './reciprocal-rank-fusion.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import {
  DEFAULT_RECALL_SETTINGS,
  FACT_TYPES,
  RECALL_BUDGETS,
  TAGS_MATCHES,
  type RecallArmTrace,
  type RecallBudget,
  type RecallOutcome,
  type RecallRequest,
  type RecallSettings,
  type RecallTrace,
  type RecalledEntity,
  type RecalledMemory,
} from './recall.types.js';
import { type EntityObservation, type LinkedEntity, type MemoryRow, loadCandidates, loadCandidatesAlongside } from './recalled-rows.js';
import { InvalidTagGroupError, parseTagGroups } from './tag-groups.js';
import { STORABLE_INSTANT_RULE, isStorableInstant } from '../storage/storable-instant.js';
import { type TemporalRange, parseTemporalQuery } from './temporal-query.js';
import { type TokenCounter, cl100kTokenCounter, memoryTokens, trimToTokenBudget } from './token-counter.js';
import type { BankVectorIndexService } from '../storage/bank-vector-indexes.service.js';
import type { BankStatisticsService } from '../storage/bank-statistics.service.js';
import { memoriesHeldUpTo } from '../storage/bank-size.queries.js';

/** How long an instance trusts what it learnt of a bank's size, and for how many banks. */
const BANK_SIZE_TTL_MS = 60_000;
const BANK_SIZES_REMEMBERED = 10_000;

/** How far a line of superseded facts is followed to its newest memory in one recall. */
const MAX_SUPERSESSION_HOPS = 3;

/** A request with its defaults applied and its values checked. */
interface RecallPlan {
  query: string;
  scope: RecallScope;
  budget: RecallBudget;
  candidatesPerArm: number;
  maxTokens: number;
  entityMaxTokens: number | null;
  temporalRange: TemporalRange | null;
  /** Superseded facts give way to what replaced them (docs/ARCHITECTURE.md, "Supersession"). */
  aboutThePresent: boolean;
  /** Raw facts give way to the returned observations built from them. */
  preferObservations: boolean;
  trace: boolean;
  bankMustExist: boolean;
}

/** A fused candidate after the optional rerank, with the score the caller sees as `final`. */
interface RankedCandidate {
  fused: FusedCandidate;
  final: number;
  reranker?: number;
}

/**
 * What the arms found: their ranked candidates, the candidates' rows, what replaced which, and
 * the observations of the candidates' entities.
 */
interface FoundCandidates {
  arms: RankedArm[];
  armTraces: RecallArmTrace[];
  armsMs: number;
  rows: Map<string, MemoryRow>;
  successors: Map<string, string>;
  observations: Map<string, EntityObservation[]>;
}

interface RerankOutcome {
  ranked: RankedCandidate[];
  trace: RecallTrace['rerank'];
  durationMs: number;
}

/**
 * Hybrid recall: four arms (semantic, keyword, entity, temporal) fused by reciprocal rank, an
 * optional rerank, then a token budget.
 *
 * The order of the stages is dictated by docs/ARCHITECTURE.md, "Invariant 1": the query is embedded before any
 * connection is taken, every arm then runs on one connection (sequentially: PGlite has exactly
 * one) together with the candidates' rows, their entities and those entities' observations. The
 * connection is released before the reranker is called and the answer (the token budget) is
 * built: a recall takes one connection, once.
 */
export class RecallService {
  private readonly logger = new Logger(RecallService.name);
  private readonly settings: RecallSettings;
  /** What each bank held when last asked, counted up to the largest line any choice draws. */
  private readonly bankSizes = new Map<string, { held: number; until: number }>();

  constructor(
    private readonly database: MemoryDatabase,
    private readonly vectors: VectorBackend,
    private readonly embedder: Embedder,
    private readonly reranker: Reranker | null,
    options: Partial<RecallSettings> = {},
    /** Told when a bank turns out large, so that one without its own HNSW index gets it soon. */
    private readonly bankIndexes?: Pick<BankVectorIndexService, 'indexWanted'>,
    /** Told what a bank holds, so that one the planner's statistics have not seen is analysed soon. */
    private readonly bankStatistics?: Pick<BankStatisticsService, 'bankRecalled'>,
  ) {
    this.settings = { ...DEFAULT_RECALL_SETTINGS, ...options };
  }

  async recall(request: RecallRequest, signal?: AbortSignal): Promise<RecallOutcome> {
    const startedAt = performance.now();
    const plan = this.plan(request);
    signal?.throwIfAborted();

    const embeddingStartedAt = performance.now();
    const queryVector = await this.embedQuery(plan.query, signal);
    const embeddingMs = elapsedSince(embeddingStartedAt);

    const counter = await cl100kTokenCounter();
    const found = await this.database.withConnection((sql) => this.runArms(sql, plan, queryVector));
    signal?.throwIfAborted();
    const fused = this.fuse(plan, found);

    const reranked = await this.rerank(plan, fused, found.rows, signal);
    const { results, entities, tokens, trimmed } = this.answer(plan, found, reranked.ranked, counter);
    const trace: RecallTrace | null = plan.trace
      ? {
          query: plan.query,
          budget: plan.budget,
          candidatesPerArm: plan.candidatesPerArm,
          temporalRange: plan.temporalRange,
          embeddingMs,
          arms: found.armTraces,
          armsMs: found.armsMs,
          fusion: {
            method: 'rrf',
            k: this.settings.rrfK,
            candidates: fused.map((candidate, index) => ({
              id: candidate.id,
              rank: index + 1,
              score: candidate.score,
              arms: candidate.armRanks,
            })),
          },
          rerank: reranked.trace,
          rerankMs: reranked.durationMs,
          trimmed,
          tokens,
          totalMs: elapsedSince(startedAt),
        }
      : null;
    return { results, entities, trace };
  }

  /** The arms' candidates in one order: reciprocal rank, then what replaced a fact, then recency. */
  private fuse(plan: RecallPlan, { arms, rows, successors }: FoundCandidates): FusedCandidate[] {
    const mentionedAt = new Map([...rows].map(([id, row]) => [id, row.mentioned_at]));
    const order = fusedOrder(mentionedAt);
    const fused = preferCurrentFacts(fuseByReciprocalRank(arms, this.settings.rrfK, mentionedAt), successors, order);
    if (!plan.aboutThePresent) return fused;
    const present = setBackHowThingsWere(fused, (id) => rows.get(id)?.text, order);
    return preferNewerAnswers(present, plan.query, answerFacts(rows));
  }

  /** What fits the token budget, in rank order, with the entities of what was kept. */
  private answer(
    plan: RecallPlan,
    { rows, observations }: FoundCandidates,
    ranked: RankedCandidate[],
    counter: TokenCounter,
  ): { results: RecalledMemory[]; entities: Record<string, RecalledEntity> | null; tokens: number; trimmed: number } {
    const tokensOf = (candidate: RankedCandidate) => budgetTokens(counter, rows.get(candidate.fused.id)!);
    let { kept, tokens } = trimToTokenBudget(ranked, tokensOf, plan.maxTokens);
    if (plan.preferObservations) {
      // Dropping a raw fact frees budget, which may let in another observation that covers more
      // raw facts: repeat until what is kept covers none of what is kept.
      const covered = new Set<string>();
      for (;;) {
        const before = covered.size;
        for (const candidate of kept) for (const source of rows.get(candidate.fused.id)!.source_memory_ids ?? []) covered.add(source);
        if (covered.size === before && !kept.some((candidate) => covered.has(candidate.fused.id))) break;
        ({ kept, tokens } = trimToTokenBudget(
          ranked.filter((candidate) => !covered.has(candidate.fused.id)),
          tokensOf,
          plan.maxTokens,
        ));
      }
      ranked = ranked.filter((candidate) => !covered.has(candidate.fused.id));
    }
    const keptRows = kept.map((candidate) => rows.get(candidate.fused.id)!);
    const entities = this.entities(
      plan,
      keptRows.flatMap((row) => row.entities),
      observations,
      counter,
    );
    const results = kept.map((candidate, index) => toRecalledMemory(keptRows[index], candidate));
    return { results, entities, tokens, trimmed: ranked.length - kept.length };
  }

  private plan(request: RecallRequest): RecallPlan {
    const invalid = (message: string) => new MemoryException(MemoryErrorCode.InvalidInput, message);
    if (typeof request.bankId !== 'string' || request.bankId === '') throw invalid('bankId must be a non-empty string');
    if (typeof request.query !== 'string' || request.query.trim() === '') {
      throw invalid('query must be a non-empty string');
    }
    const oneOf = <T>(value: T, allowed: readonly T[], what: string): T => {
      if (!allowed.includes(value)) throw invalid(`unknown ${what} '${String(value)}' (expected ${allowed.join(', ')})`);
      return value;
    };
    const types = [...new Set(request.types ?? [])].map((type) => oneOf(type, FACT_TYPES, 'fact type'));
    const budget = oneOf(request.budget ?? 'mid', RECALL_BUDGETS, 'budget');
    const tagsMatch = oneOf(request.tagsMatch ?? 'any', TAGS_MATCHES, 'tagsMatch');
    const tags = [...new Set(request.tags ?? [])];
    if (tags.some((tag) => typeof tag !== 'string')) throw invalid('tags must be strings');
    let tagGroups;
    try {
      tagGroups = parseTagGroups(request.tagGroups);
    } catch (error) {
      if (error instanceof InvalidTagGroupError) throw invalid(error.message);
      throw error;
    }

    const maxTokens = request.maxTokens ?? this.settings.defaultMaxTokens;
    if (!isNonNegativeInteger(maxTokens)) throw invalid(`maxTokens must be a non-negative integer, got ${maxTokens}`);
    const includeEntities =
      request.includeEntities === undefined ? { maxTokens: this.settings.defaultEntityMaxTokens } : request.includeEntities;
    if (includeEntities !== null && !isNonNegativeInteger(includeEntities.maxTokens)) {
      throw invalid(`includeEntities.maxTokens must be a non-negative integer, got ${includeEntities.maxTokens}`);
    }
    const now = request.queryTimestamp ?? new Date();
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw invalid('queryTimestamp must be a valid date');
    if (!isStorableInstant(now)) throw invalid(`queryTimestamp ${STORABLE_INSTANT_RULE}`);

    const temporalRange = parseTemporalQuery(request.query, now);
    return {
      query: request.query,
      scope: { bankId: request.bankId, types: types.length > 0 ? types : FACT_TYPES, tags, tagsMatch, tagGroups },
      budget,
      candidatesPerArm: this.settings.candidatesPerArm[budget],
      maxTokens,
      entityMaxTokens: includeEntities?.maxTokens ?? null,
      temporalRange,
      aboutThePresent: asksAboutThePresent(request.query, temporalRange, now),
      preferObservations:
        request.preferObservations === true &&
        (types.length === 0 || (types.includes('observation') && types.some((type) => type !== 'observation'))),
      trace: request.trace === true,
      bankMustExist: request.bankMustExist === true,
    };
  }

  private async embedQuery(query: string, signal?: AbortSignal): Promise<number[]> {
    const [vector] = await this.embedder.embed([query], signal).catch((error: unknown) => {
      throw fromExternalFailure(error);
    });
    if (!vector || vector.length !== this.vectors.dimension) {
      throw new MemoryException(
        MemoryErrorCode.ExternalServiceFailed,
        `the embedder returned a ${vector?.length ?? 0}-dimensional query vector; ` +
          `the store holds ${this.vectors.dimension}-dimensional embeddings`,
      );
    }
    return vector;
  }

  /**
   * Every arm, one after the other on the one connection, then the rows of all their candidates.
   * No transaction: each statement reads on its own, and the semantic arm sets the HNSW settings
   * it needs inside its own statement.
   */
  private async runArms(sql: Sql, plan: RecallPlan, queryVector: number[]): Promise<FoundCandidates> {
    const { scope, candidatesPerArm: limit } = plan;
    if (plan.bankMustExist && !(await bankExists(sql, scope.bankId))) throw bankNotFound(scope.bankId);
    const held = await this.memoriesHeld(sql, scope.bankId);
    const semanticSearch = this.semanticSearch(held);
    const keywordSearch = this.keywordSearch(held);
    // Two arms need the people the question names: the entity arm searches their memories, the
    // keyword arm leaves their names out of its words. The lookup is the entity arm's first step
    // (it ran inside that arm until the keyword arm needed the names too), so the entity arm's
    // trace counts its time; the keyword arm waits for it only if the semantic arm, before it on
    // the other connection, finished first.
    const armsStartedAt = performance.now();
    const naming = namedEntities(sql, scope.bankId, plan.query);
    type ArmSearch = [RankedArm['name'], (sql: Sql) => Promise<RankedArm['candidates']>, RecallArmTrace['search']?];
    const searchInTurn = async (on: Sql, searches: ArmSearch[]) => {
      const done: Array<{ arm: RankedArm; trace: RecallArmTrace }> = [];
      for (const [name, search, how] of searches) {
        const startedAt = name === 'entity' ? armsStartedAt : performance.now();
        const candidates = await search(on);
        done.push({
          arm: { name, candidates },
          trace: {
            name,
            ...(how && { search: how }),
            durationMs: elapsedSince(startedAt),
            candidates: candidates.map(({ id, score }, index) => ({ id, rank: index + 1, score })),
          },
        });
      }
      return done;
    };
    // Two halves of about equal time in a large bank (the semantic and keyword arms against the
    // entity and temporal ones), on two connections when the pool has one to spare.
    const [people, words] = await this.database.alongside(
      sql,
      (on) =>
        searchInTurn(on, [
          ['entity', async (on) => entityArm(on, scope, plan.query, await naming, limit)],
          ['temporal', (on) => temporalArm(on, scope, plan.temporalRange, limit)],
        ]),
      (on) =>
        searchInTurn(on, [
          ['semantic', (on) => semanticArm(on, this.vectors, scope, queryVector, limit, semanticSearch), semanticSearch],
          ['keyword', async (on) => keywordArm(on, scope, plan.query, limit, nameWords(await naming), keywordSearch), keywordSearch],
        ]),
    );
    const searched = [...words, ...people];
    const arms = searched.map(({ arm }) => arm);
    const armTraces = searched.map(({ trace }) => trace);
    const armsMs = performance.now() - armsStartedAt;
    const ids = [...new Set(arms.flatMap((arm) => arm.candidates.map((candidate) => candidate.id)))];
    // Every candidate's row comes with its entities: recency compares them (src/recall/recency.ts)
    // and the results name them.
    const perEntity = plan.entityMaxTokens === null ? 0 : this.settings.observationsPerEntity;
    const { rows, observations } = await loadCandidatesAlongside(this.database, sql, scope, ids, perEntity);
    const successors = plan.aboutThePresent
      ? await this.currentSuccessors(sql, scope, { rows, observations }, perEntity)
      : new Map<string, string>();
    return { arms, armTraces, armsMs, rows, successors, observations };
  }

  /**
   * How many memories the bank holds, up to the largest line a choice below draws. Asked at most
   * once a minute per bank and instance: a bank that crossed a line is searched the way of its
   * old size a little longer, which is slower, never wrong; a large bank without its own HNSW
   * index has it built soon after, and one the planner's statistics have not seen is analysed.
   */
  private async memoriesHeld(sql: Sql, bankId: string): Promise<number> {
    const known = this.bankSizes.get(bankId);
    if (known && known.until > Date.now()) return known.held;
    const cap = Math.max(this.settings.exactScanBelow, this.settings.keywordScanBelow);
    const held = await memoriesHeldUpTo(sql, bankId, cap);
    if (this.bankSizes.size >= BANK_SIZES_REMEMBERED) this.bankSizes.delete(this.bankSizes.keys().next().value!);
    this.bankSizes.set(bankId, { held, until: Date.now() + BANK_SIZE_TTL_MS });
    if (held >= this.settings.exactScanBelow && this.vectors.kind === 'pgvector') await this.bankIndexes?.indexWanted(sql, bankId);
    await this.bankStatistics?.bankRecalled(sql, bankId, held);
    return held;
  }

  /** Exact for a bank below `exactScanBelow`, the HNSW index above. */
  private semanticSearch(held: number): SemanticSearch {
    if (this.vectors.kind !== 'pgvector') return 'exact';
    return held < this.settings.exactScanBelow ? 'exact' : 'index';
  }

  /** The bank's own rows below `keywordScanBelow`, the full-text index above (see `KeywordSearch`). */
  private keywordSearch(held: number): KeywordSearch {
    return held < this.settings.keywordScanBelow ? 'bank-rows' : 'index';
  }

  /**
   * For each superseded candidate, the newest memory of its line that the caller may see (a few
   * hops at most: facts are rarely replaced many times between two recalls); their rows join
   * `rows`, and their entities' observations `observations`. A successor outside the caller's scope
   * is not followed.
   */
  private async currentSuccessors(
    sql: Sql,
    scope: RecallScope,
    { rows, observations }: Pick<FoundCandidates, 'rows' | 'observations'>,
    perEntity: number,
  ): Promise<Map<string, string>> {
    const successors = new Map<string, string>();
    let pending = [...rows.values()].filter((row) => row.superseded_by);
    for (let hop = 0; hop < MAX_SUPERSESSION_HOPS && pending.length > 0; hop += 1) {
      const missing = [...new Set(pending.map((row) => row.superseded_by!).filter((id) => !rows.has(id)))];
      const more = await loadCandidates(sql, scope, missing, perEntity);
      for (const [id, row] of more.rows) rows.set(id, row);
      for (const [entityId, list] of more.observations) if (!observations.has(entityId)) observations.set(entityId, list);
      const next: MemoryRow[] = [];
      for (const row of pending) {
        const successor = rows.get(row.superseded_by!);
        if (!successor) continue;
        // Every superseded memory of the line points at the newest one reached so far.
        for (const [from, to] of successors) if (to === row.id) successors.set(from, successor.id);
        successors.set(row.id, successor.id);
        if (successor.superseded_by) next.push(successor);
      }
      pending = next;
    }
    return successors;
  }

  /**
   * Reorders the best fused candidates by the reranker's scores. Only that window is returned
   * when a reranker is configured: below it there is no score on the reranker's scale to place a
   * memory by. A failing reranker costs quality, not the answer: the fused order is kept.
   */
  private async rerank(
    plan: RecallPlan,
    fused: FusedCandidate[],
    rows: ReadonlyMap<string, MemoryRow>,
    signal?: AbortSignal,
  ): Promise<RerankOutcome> {
    if (!this.reranker || fused.length === 0) {
      return { ranked: unranked(fused), trace: { status: 'disabled', window: 0 }, durationMs: 0 };
    }
    const window = fused.slice(0, this.settings.rerankWindow[plan.budget]);
    const startedAt = performance.now();
    try {
      const documents = window.map((candidate) => documentText(rows.get(candidate.id)!));
      const scores = await this.reranker.rerank(plan.query, documents, signal);
      if (scores.length !== window.length || scores.some((score) => typeof score !== 'number' || Number.isNaN(score))) {
        throw new Error(`the reranker returned ${scores.length} scores for ${window.length} documents`);
      }
      const ranked = window
        .map((candidate, index) => ({ fused: candidate, final: scores[index], reranker: scores[index], at: index }))
        // Equal reranker scores keep the fused order.
        .sort((a, b) => b.final - a.final || a.at - b.at)
        .map(({ fused: candidate, final, reranker }) => ({ fused: candidate, final, reranker }));
      return { ranked, trace: { status: 'applied', window: window.length }, durationMs: elapsedSince(startedAt) };
    } catch (error) {
      // The caller giving up is not a reranker failure: stop rather than carry on without it.
      if (signal?.aborted) throw error;
      this.logger.warn(`Reranking failed, keeping the fused order: ${errorMessage(error)}`);
      return {
        ranked: unranked(fused),
        trace: { status: 'failed', window: window.length, error: errorMessage(error) },
        durationMs: elapsedSince(startedAt),
      };
    }
  }

  /** The returned memories' entities with their observations. */
  private entities(
    plan: RecallPlan,
    links: LinkedEntity[],
    observations: ReadonlyMap<string, EntityObservation[]>,
    counter: TokenCounter,
  ): Record<string, RecalledEntity> | null {
    if (plan.entityMaxTokens === null) return null;
    // Entities in the order their first memory was returned: the budget goes to the best first.
    const firstSeen = new Map<string, LinkedEntity>();
    for (const link of links) if (!firstSeen.has(link.entityId)) firstSeen.set(link.entityId, link);
    return entitiesWithinBudget([...firstSeen.values()], observations, plan.entityMaxTokens, counter);
  }
}

function entitiesWithinBudget(
  entities: LinkedEntity[],
  observations: ReadonlyMap<string, EntityObservation[]>,
  maxTokens: number,
  counter: TokenCounter,
): Record<string, RecalledEntity> {
  const result: Record<string, RecalledEntity> = {};
  const byEntity = new Map<string, RecalledEntity>();
  for (const entity of entities) {
    const entry: RecalledEntity = { entityId: entity.entityId, canonicalName: entity.name, observations: [] };
    result[entity.name] = entry;
    byEntity.set(entity.entityId, entry);
  }
  let tokens = 0;
  for (const entity of entities) {
    for (const observation of observations.get(entity.entityId) ?? []) {
      const cost = counter.count(observation.text);
      if (tokens + cost > maxTokens) return result;
      tokens += cost;
      const { text, mentionedAt } = observation;
      byEntity.get(entity.entityId)!.observations.push({ text, mentionedAt });
    }
  }
  return result;
}

/** What recency compares: each candidate's text, its own time, its entities. */
function answerFacts(rows: ReadonlyMap<string, MemoryRow>): Map<string, AnswerFacts> {
  return new Map(
    [...rows].map(([id, row]) => [
      id,
      { text: row.text, time: row.occurred_start ?? row.mentioned_at, entities: row.entities, superseded: row.superseded_by !== null },
    ]),
  );
}

/** The fused order as the final one, when no reranker reorders it. */
function unranked(fused: FusedCandidate[]): RankedCandidate[] {
  return fused.map((candidate) => ({ fused: candidate, final: candidate.score }));
}

/** What the token budget counts and the reranker reads: the text, then its context if any. */
function documentText(row: MemoryRow): string {
  return row.context ? `${row.text}\n${row.context}` : row.text;
}

/** The count its writer stored, or one made here for a row written without it. */
function budgetTokens(counter: TokenCounter, row: MemoryRow): number {
  return row.tokens_cl100k ?? memoryTokens(counter, row);
}

function toRecalledMemory(row: MemoryRow, candidate: RankedCandidate): RecalledMemory {
  const { semantic, keyword } = candidate.fused.armScores;
  return {
    id: row.id,
    text: row.text,
    type: row.fact_type,
    context: row.context,
    occurredStart: row.occurred_start,
    occurredEnd: row.occurred_end,
    mentionedAt: row.mentioned_at,
    documentId: row.document_id,
    metadata: row.metadata ?? {},
    tags: row.tags ?? [],
    entities: row.entities.map((entity) => entity.name),
    sourceMemoryIds: row.source_memory_ids,
    supersededBy: row.superseded_by,
    scores: {
      final: candidate.final,
      ...(semantic !== undefined && { semantic }),
      ...(keyword !== undefined && { keyword }),
      ...(candidate.reranker !== undefined && { reranker: candidate.reranker }),
    },
  };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function elapsedSince(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 100) / 100;
}
