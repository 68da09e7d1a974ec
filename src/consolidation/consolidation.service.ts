import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { bankNotFound } from '../banks/banks.service.js';
import { AiClients } from '../external/ai-clients.js';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS, MEMORY_VECTOR_BACKEND } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryMetrics } from '../metrics/memory-metrics.js';
import type { ClaimedOperation } from '../operations/operation.types.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import { MemoryDatabase, type Sql, isRetryableConflict } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import {
  type BatchPlan,
  type NearestRows,
  type OlderMemory,
  type ScopeGroup,
  type Supersession,
  askLlm,
  groupByScope,
  planBySimilarity,
  planFromReply,
  shareByRank,
} from './consolidation-plan.js';
import {
  CONSOLIDATION_OPERATION,
  type ClaimedBatch,
  type ClaimedMemory,
  type ConsolidationRequestOutcome,
  type ConsolidationResult,
  type ObservationVersion,
  addResults,
  emptyResult,
  factTimeOf,
} from './consolidation.types.js';
import {
  type CandidateRow,
  type ClaimedRow,
  claimBatch,
  consolidationLag,
  entityLinks,
  hasClaimableBeyond,
  heldLeaseRemainingMs,
  findQueuedConsolidation,
  invalidateObservation,
  liveSourceTexts,
  lockBankForConsolidation,
  lockHeldClaims,
  markBatchDone,
  nearestObservations,
  recordBatchFailure,
  releaseBatch,
  renewBatchLease,
} from './consolidation.queries.js';
import { ObservationWriter } from './observation-writer.js';
import { Slots } from './slots.js';
import { canonicalScope, sameScope, scopeKey, scopesOf } from './observation-scopes.js';
import { parseVector } from './vectors.js';
import { MentalModelsService } from '../mental-models/mental-models.service.js';
import { type OlderMemoryRow, applyLlmSupersession, nearestOlderMemories } from '../supersession/llm-supersession.queries.js';

export { CONSOLIDATION_OPERATION };

/** Observations shown to the LLM (or compared against) per memory of the batch. */
const CANDIDATES_PER_MEMORY = 3;
const MAX_CANDIDATES = 20;
/**
 * Older memories shown to the LLM per memory of the batch, and in all: enough for the facts a new
 * one is likely to replace, few enough to keep the prompt small. A batch of the default size (20)
 * gets its three each; a larger one shares the 60 by rank (`shareByRank`). At 20 in all, each
 * memory of a full batch was shown only its nearest, where the older fact it replaces is often
 * the second or third (it shares the person's name with all of them, and only a word or two with
 * the new one).
 */
const OLDER_PER_MEMORY = 3;
const MAX_OLDER = 60;
/** Past a lease's expiry on the database's clock, so that the claim after the wait finds it lapsed. */
const LEASE_LAPSE_MARGIN_MS = 50;
/**
 * Rounds of one run: memories handed back because a batch beside theirs changed the observation
 * they were planned into are planned again in the next round, this many times at most.
 */
const MAX_ROUNDS = 3;
/** Attempts of a batch's short write transactions that hit a deadlock or a serialisation failure. */
const MAX_TRANSACTION_ATTEMPTS = 3;

interface InFlightBatch {
  batch: ClaimedBatch;
  abort: AbortController;
  done: Promise<unknown>;
}

/** What a batch did, and which of its memories it handed back unwritten, to be planned again. */
interface BatchOutcome {
  result: ConsolidationResult;
  handedBack: string[];
}

/**
 * Consolidates raw memories (world, experience) into observations, in batches of one bank or of
 * several side by side: with an LLM, up to `consolidation.concurrency` of them asking it at once on
 * this instance and as many again claimed and read ahead; without one, up to that many at once.
 *
 * A batch is claimed in a short transaction (`FOR UPDATE SKIP LOCKED`, a lease and one fencing
 * token for the whole batch), kept alive by heartbeats, and written observation by observation
 * through the `ObservationWriter`'s guards: no connection is held across the LLM or the embedder,
 * and a worker whose lease was taken over writes nothing. Work reaches it as queued operations of
 * kind `consolidation`, so every instance of a fleet shares it.
 */
@Injectable()
export class ConsolidationService {
  private readonly logger = new Logger(ConsolidationService.name);
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<InFlightBatch>();
  /**
   * The `consolidateBank` runs going on in this instance, each settled once every batch it
   * claimed, or was claiming, has ended and written or handed back its memories.
   */
  private readonly bankRuns = new Set<{ bankId: string; settled: Promise<unknown> }>();
  private readonly writer: ObservationWriter;
  /** Batches claimed at once on this instance, whichever runs they belong to. */
  private readonly batchSlots: Slots;
  /** LLM calls at once on this instance: `consolidation.concurrency`. */
  private readonly llmSlots: Slots;

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_VECTOR_BACKEND) private readonly vectors: VectorBackend,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(MemoryMetrics) private readonly metrics: MemoryMetrics,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(MentalModelsService) private readonly mentalModels: MentalModelsService,
    @Inject(WebhooksService) private readonly webhooks: WebhooksService,
  ) {
    this.writer = new ObservationWriter(database, vectors, ai.embedder);
    const { concurrency } = options.consolidation;
    // With an LLM, as many batches again as there are LLM slots are claimed and read ahead, so that
    // a slot freed by a reply is taken at once by a batch whose prompt is ready; without one, the
    // batches' own reads and writes are the work, and `concurrency` bounds them.
    this.batchSlots = new Slots(ai.llm ? 2 * concurrency : concurrency);
    this.llmSlots = new Slots(concurrency);
    worker.register(CONSOLIDATION_OPERATION, (operation, signal) => this.runQueued(operation, signal));
  }

  /** Called by MemoryLifecycle at stage 'consolidation'. */
  start(): void {
    this.coordinator.register('consolidation', 'consolidation-batches', (_signal, deadlineAt) => this.drain(deadlineAt));
  }

  /**
   * Queues a consolidation of the bank, or returns the one already waiting. The bank row is
   * locked so that two concurrent requests cannot both find no pending operation.
   */
  async requestConsolidation(bankId: string): Promise<ConsolidationRequestOutcome> {
    const outcome = await this.database.transaction(async (sql) => {
      if (!(await lockBankForConsolidation(sql, bankId))) throw bankNotFound(bankId);
      return enqueueConsolidation(sql, this.operations, bankId, ['pending']);
    });
    if (!outcome.deduplicated) this.worker.notify();
    return outcome;
  }

  /**
   * Runs batches of the bank until none is left, side by side in the slots of this instance
   * (shared with every other run), so that a bank with many waiting memories keeps
   * `concurrency` LLM calls in flight. Each memory is tried at most once per round (a memory
   * whose batch failed waits for the next run); one handed back unwritten because a batch beside
   * its own changed the observation it was planned into is planned again in the next round.
   * Exposed for hosts and tests that want to consolidate without the queue; the operation handler
   * calls it too.
   */
  async consolidateBank(bankId: string, signal?: AbortSignal): Promise<ConsolidationResult> {
    return this.consolidateBankSeeing(bankId, new Set(), signal);
  }

  /** `consolidateBank`, adding to `seen` every memory the run claimed. */
  private async consolidateBankSeeing(bankId: string, seen: Set<string>, signal?: AbortSignal): Promise<ConsolidationResult> {
    const running = this.runBank(bankId, seen, signal);
    const run = { bankId, settled: running.catch(() => undefined) };
    this.bankRuns.add(run);
    try {
      return await running;
    } finally {
      this.bankRuns.delete(run);
    }
  }

  private async runBank(bankId: string, seen: Set<string>, signal?: AbortSignal): Promise<ConsolidationResult> {
    const result = emptyResult();
    const attempted = new Set<string>();
    for (let round = 1; ; round += 1) {
      const handedBack = await this.runRound(bankId, attempted, result, signal);
      for (const id of attempted) seen.add(id);
      if (handedBack.size === 0 || round >= MAX_ROUNDS) break;
      for (const id of handedBack) attempted.delete(id);
    }
    await this.updateLag();
    this.logger.log(`Bank '${bankId}' consolidated: ${JSON.stringify(result)}`);
    if (result.created + result.updated + result.deleted + result.superseded > 0) {
      // Models that follow the bank are refreshed through the queue, never inline.
      await this.mentalModels.refreshAfterConsolidation(bankId);
    }
    return result;
  }

  /**
   * Loops claiming and running one batch after another until the bank has nothing left to claim,
   * as many as the instance has batch slots. They start one at a time: each claim that finds a
   * batch starts the next loop, and the first that finds nothing ends them all, so a bank with one
   * batch costs one empty claim, not one per slot (with many banks at once those empty claims were
   * a stream of transactions on the pool while the batches waited on the LLM). Claims are `SKIP
   * LOCKED` and leased, so the loops (and the loops of other runs and instances) never take the
   * same memory. When one loop fails, the others finish the batch they hold, claim no more, and
   * the failure is rethrown. Returns the memories handed back in this round.
   */
  private async runRound(bankId: string, attempted: Set<string>, result: ConsolidationResult, signal?: AbortSignal): Promise<Set<string>> {
    const handedBack = new Set<string>();
    let failure: { error: unknown } | undefined;
    let exhausted = false;
    const loops: Array<Promise<void>> = [];
    const start = () => {
      loops.push(
        loop().catch((error: unknown) => {
          failure ??= { error };
        }),
      );
    };
    const loop = async () => {
      while (!failure && !exhausted) {
        this.assertRunning(signal);
        const outcome = await this.batchSlots.run(async () => {
          if (failure || exhausted) return null;
          const batch = await this.claim(bankId, [...attempted]);
          if (!batch) {
            exhausted = true;
            return null;
          }
          for (const memory of batch.memories) attempted.add(memory.id);
          if (loops.length < this.batchSlots.size) start();
          return this.runBatch(batch, signal);
        });
        if (!outcome) return;
        addResults(result, outcome.result);
        for (const id of outcome.handedBack) handedBack.add(id);
      }
    };
    start();
    // A loop starts the next before it ends, so this reaches every loop there will be.
    for (let index = 0; index < loops.length; index += 1) await loops[index];
    if (failure) throw failure.error;
    return handedBack;
  }

  private async runQueued(operation: ClaimedOperation, signal: AbortSignal): Promise<void> {
    let result: ConsolidationResult;
    // Taken before this attempt starts its own run: any run of the bank going on now is an earlier
    // attempt's, or a host's direct call.
    const earlierRuns = [...this.bankRuns].filter((run) => run.bankId === operation.bankId).map((run) => run.settled);
    const seen = new Set<string>();
    try {
      result = await this.consolidateBankSeeing(operation.bankId, seen, signal);
      addResults(result, await this.consolidateOnceLeasesLapse(operation.bankId, earlierRuns, seen, signal));
    } catch (error) {
      if (this.stopping.signal.aborted) {
        // Abandoned by shutdown, not failed: the queue gives it to another instance at once.
        await this.operations.release(operation).catch(() => undefined);
      }
      throw error;
    }
    // An attempt after a broken one can find its memories held by that attempt's batches, which
    // hand them back, or whose leases the watchdog reclaims, at any moment; a claim passes over a
    // memory another statement holds at that instant, and it is then pending with nothing queued
    // to take it. What this attempt never claimed gets a run of its own, queued with the
    // completion and due a consolidation lease later, when whatever held it has let go or lapsed
    // (a first attempt, which that run is, never queues another). Memories this attempt tried and
    // could not consolidate wait for the next run, as they always did.
    const followUp = await this.database.transaction(async (sql) => {
      await this.operations.assertLeaseHeld(sql, operation);
      await this.operations.complete(sql, operation, { ...result });
      await this.webhooks.announceConsolidation(sql, operation.bankId, operation.id, result);
      if (operation.attempts < 2 || !(await hasClaimableBeyond(sql, operation.bankId, [...seen]))) return undefined;
      return enqueueConsolidation(sql, this.operations, operation.bankId, ['pending'], this.options.consolidation.leaseMs);
    });
    if (followUp) {
      this.logger.log(
        `Bank '${operation.bankId}': memories this run never claimed are waiting; consolidation ${followUp.operationId} ${followUp.deduplicated ? 'already queued' : 'queued'}`,
      );
      if (!followUp.deduplicated) this.worker.notify();
    }
  }

  /**
   * Memories of the bank still claimed when this attempt's own run has ended are held by one of
   * three: a run of an earlier attempt of this operation, still going on in this instance after the
   * operation's lease lapsed under it (a database outage, say); a host's direct `consolidateBank`
   * call; or an instance that died (the operation's lease ran out first, the memories' has not
   * yet). `earlierRuns`, the runs of the bank in this instance when this attempt started, are
   * waited for to their end, and whatever they handed back is claimed here, also when they
   * handed it back before this step began: otherwise it would be left pending with the operation
   * completed and nothing queued to take it. For the others, one wait for their lease lets a
   * reclaimed operation finish a dead instance's batches; a live holder renews its lease, and
   * what it still holds after that one wait is its own to finish.
   */
  private async consolidateOnceLeasesLapse(
    bankId: string,
    earlierRuns: Array<Promise<unknown>>,
    seen: Set<string>,
    signal: AbortSignal,
  ): Promise<ConsolidationResult> {
    const stop = AbortSignal.any([signal, this.stopping.signal]);
    if (earlierRuns.length > 0) {
      this.logger.log(`Bank '${bankId}': waiting for ${earlierRuns.length} earlier run(s) in this instance before completing`);
      await Promise.race([
        Promise.all(earlierRuns),
        new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true }))),
      ]);
      this.assertRunning(signal);
    }
    const remainingMs = await this.database.withConnection((sql) => heldLeaseRemainingMs(sql, bankId));
    if (remainingMs === null) return earlierRuns.length > 0 ? this.consolidateBankSeeing(bankId, seen, signal) : emptyResult();
    const waitMs = remainingMs + LEASE_LAPSE_MARGIN_MS;
    this.logger.log(`Bank '${bankId}': waiting ${waitMs} ms for the lease on memories claimed elsewhere before completing`);
    await sleep(waitMs, undefined, { signal: stop }).catch(() => this.assertRunning(signal));
    return this.consolidateBankSeeing(bankId, seen, signal);
  }

  private async claim(bankId: string, exclude: string[]): Promise<ClaimedBatch | null> {
    const { batchSize, leaseMs } = this.options.consolidation;
    const rows = await this.database.transaction((sql) =>
      claimBatch(sql, { bankId, owner: this.options.instanceId, leaseMs, batchSize, exclude }),
    );
    if (rows.length === 0) return null;
    const memories: ClaimedMemory[] = rows
      .map((row) => ({
        id: row.id,
        text: row.text,
        tags: row.tags ?? [],
        embedding: parseVector(row.embedding),
        createdAt: new Date(row.created_at),
        mentionedAt: new Date(row.mentioned_at),
        occurredStart: row.occurred_start,
        occurredEnd: row.occurred_end,
        pendingScopes: pendingScopes(row),
      }))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    return { bankId, leaseToken: String(rows[0].lease_token), memories };
  }

  private async runBatch(batch: ClaimedBatch, outer?: AbortSignal): Promise<BatchOutcome> {
    const abort = new AbortController();
    const signal = outer ? AbortSignal.any([outer, abort.signal]) : abort.signal;
    const entry: InFlightBatch = { batch, abort, done: Promise.resolve() };
    const heartbeat = this.heartbeat(batch);
    const work = this.processBatch(batch, signal);
    entry.done = work.catch(() => undefined);
    this.inFlight.add(entry);
    try {
      return await work;
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(entry);
    }
  }

  private async processBatch(batch: ClaimedBatch, signal: AbortSignal): Promise<BatchOutcome> {
    const result = emptyResult();
    const returned = new Set<string>();
    try {
      const plan = await this.plan(batch, signal);
      result.skipped += plan.skipped;
      for (const observationId of plan.deletes) {
        if (await this.invalidate(batch, observationId)) result.deleted += 1;
        else result.skipped += 1;
      }
      // What this batch's own updates left an observation as: a later plan of the batch for the
      // same observation folds into that version, not into the one the plan read.
      const written = new Map<string, ObservationVersion>();
      for (const planned of plan.plans) {
        signal.throwIfAborted();
        const observation =
          planned.kind === 'update' && written.has(planned.observationId)
            ? { ...planned, seen: written.get(planned.observationId)! }
            : planned;
        const outcome = await this.writer.write(batch.bankId, batch.leaseToken, observation, signal);
        if (outcome.effect === 'created') result.created += 1;
        else if (outcome.effect === 'updated') result.updated += 1;
        else result.skipped += 1;
        outcome.returned.forEach((id) => returned.add(id));
        if (outcome.written) written.set(outcome.written.observationId, outcome.written);
      }
      if (plan.rejected.length) result.failed += await this.recordFailure(batch, plan.rejected, 'LLM action unusable');
      if (returned.size) await this.release(batch, [...returned]);
      // Every scope of the rest is through: written, or nothing to fold it with.
      const rejected = new Set(plan.rejected);
      const done = batch.memories.map((memory) => memory.id).filter((id) => !rejected.has(id) && !returned.has(id));
      const finished = await this.finish(batch, done, plan.supersessions);
      result.memories_consolidated += finished.done;
      result.superseded += finished.superseded;
      result.skipped += plan.supersessions.length - finished.superseded;
    } catch (error) {
      if (signal.aborted) {
        // Shutdown (or the operation's lease) took the work away: hand the claims back unchanged.
        await this.release(
          batch,
          batch.memories.map((memory) => memory.id),
        ).catch(() => undefined);
        throw error;
      }
      this.logger.warn(`Consolidation batch of bank '${batch.bankId}' failed: ${errorMessage(error)}`);
      result.failed += await this.recordFailure(
        batch,
        batch.memories.map((memory) => memory.id),
        errorMessage(error),
      );
    }
    this.metrics.consolidationObservations.inc({ effect: 'created' }, result.created);
    this.metrics.consolidationObservations.inc({ effect: 'updated' }, result.updated);
    this.metrics.consolidationObservations.inc({ effect: 'deleted' }, result.deleted);
    this.metrics.consolidationObservations.inc({ effect: 'skipped' }, result.skipped);
    this.metrics.consolidatedMemories.inc({ outcome: 'done' }, result.memories_consolidated);
    this.metrics.consolidatedMemories.inc({ outcome: 'failed' }, result.failed);
    return { result, handedBack: [...returned] };
  }

  /**
   * Reads (short scopes) what the plan needs, then asks the LLM, if any, with no connection held.
   * Each scope the batch's memories are pending in is planned apart from the others.
   */
  private async plan(batch: ClaimedBatch, signal: AbortSignal): Promise<BatchPlan> {
    const groups = await this.candidates(batch, this.ai.llm !== undefined);
    if (!this.ai.llm) {
      const entities = await this.entitiesOf(batch);
      return planBySimilarity(groups, entities, this.options.consolidation.similarityThreshold);
    }
    const llm = this.ai.llm;
    const context = { bankId: batch.bankId, traceId: randomUUID() };
    const reply = await this.llmSlots.run(() => askLlm(llm, groups, signal, context), signal);
    return planFromReply(batch.bankId, groups, reply);
  }

  /**
   * For each scope of the batch, its memories and the live observations of exactly that scope
   * nearest to them; for the LLM, also the older memories they might replace.
   */
  private async candidates(batch: ClaimedBatch, withOlder: boolean): Promise<ScopeGroup[]> {
    const groups = groupByScope(batch.memories);
    const older = withOlder ? await this.olderMemories(batch, groups) : groups.map(() => []);
    return this.database.withConnection(async (sql) => {
      const nearest: Array<NearestRows<CandidateRow>> = [];
      for (const [index, group] of groups.entries()) {
        for (const memory of group.memories) {
          // No more memories asked than the budget can give a row each.
          if (nearest.length >= MAX_CANDIDATES) break;
          if (memory.embedding.length === 0) continue;
          const rows = await nearestObservations(sql, this.vectors, batch.bankId, memory.embedding, CANDIDATES_PER_MEMORY, group.scope);
          nearest.push({ group: index, rows });
        }
      }
      const found = shareByRank(nearest, groups.length, MAX_CANDIDATES);
      const sourceIds = found.flatMap((rows) => [...rows.values()].flatMap((row) => row.source_memory_ids ?? []));
      const sources = sourceIds.length ? await liveSourceTexts(sql, sourceIds) : [];
      const sourceById = new Map(sources.map((row) => [row.id, row]));
      return groups.map((group, index) => ({
        ...group,
        older: older[index],
        candidates: [...found[index].values()].map((row) => ({
          id: row.id,
          text: row.text,
          storedSourceIds: row.source_memory_ids,
          scope: canonicalScope(row.tags ?? []),
          embedding: parseVector(row.embedding),
          sources: (row.source_memory_ids ?? [])
            .map((id) => sourceById.get(id))
            .filter((source) => source !== undefined)
            .map((source) => ({ id: source.id, text: source.text, at: new Date(source.mentioned_at).getTime() })),
        })),
      }));
    });
  }

  /**
   * Per scope, the current memories nearest to the scope's batch memories that come before them,
   * of exactly their tag set. Only a batch memory whose tag set is the scope itself looks: under
   * `per_tag` or `shared` a scope is narrower than the memory's tags, and a memory may only
   * replace one with its own readers.
   */
  private async olderMemories(
    batch: ClaimedBatch,
    groups: Array<{ scope: string[]; memories: ClaimedMemory[] }>,
  ): Promise<OlderMemory[][]> {
    const batchIds = batch.memories.map((memory) => memory.id);
    return this.database.withConnection(async (sql) => {
      const nearest: Array<NearestRows<OlderMemoryRow>> = [];
      for (const [index, group] of groups.entries()) {
        for (const memory of group.memories) {
          // No more memories asked than the budget can give a row each.
          if (nearest.length >= MAX_OLDER) break;
          if (memory.embedding.length === 0 || !sameScope(memory.tags, group.scope)) continue;
          const rows = await nearestOlderMemories(sql, this.vectors, {
            bankId: batch.bankId,
            embedding: memory.embedding,
            tags: group.scope,
            before: {
              factAt: factTimeOf(memory),
              createdAt: memory.createdAt,
              id: memory.id,
            },
            exclude: batchIds,
            limit: OLDER_PER_MEMORY,
          });
          nearest.push({ group: index, rows });
        }
      }
      return shareByRank(nearest, groups.length, MAX_OLDER).map((rows) =>
        [...rows.values()].map((row) => ({
          id: row.id,
          text: row.text,
          tags: canonicalScope(row.tags ?? []),
          factAt: new Date(row.fact_at).getTime(),
          createdAt: new Date(row.created_at).getTime(),
        })),
      );
    });
  }

  private async entitiesOf(batch: ClaimedBatch): Promise<Map<string, Set<string>>> {
    const ids = batch.memories.map((memory) => memory.id);
    const rows = await this.database.withConnection((sql) => entityLinks(sql, batch.bankId, ids));
    const entities = new Map<string, Set<string>>();
    for (const row of rows) entities.set(row.unit_id, (entities.get(row.unit_id) ?? new Set()).add(row.entity_id));
    return entities;
  }

  /** Only while the batch is still ours: a worker that lost its lease invalidates nothing. */
  private async invalidate(batch: ClaimedBatch, observationId: string): Promise<boolean> {
    const ids = batch.memories.map((memory) => memory.id);
    return this.retryingTransaction(async (sql) => {
      const held = await lockHeldClaims(sql, ids, batch.leaseToken);
      if (held.length === 0) return false;
      return (await invalidateObservation(sql, observationId, batch.bankId)) > 0;
    });
  }

  /**
   * The batch's closing transaction: the supersessions the LLM stated, then the memories whose
   * every scope is through marked done, both only where our token still holds. One transaction, so
   * that no memory is marked done without the pointers its batch stated: a crash before the commit
   * leaves the memories claimed, and the batch that takes them over states them again.
   */
  private async finish(batch: ClaimedBatch, ids: string[], supersessions: Supersession[]): Promise<{ done: number; superseded: number }> {
    if (ids.length === 0 && supersessions.length === 0) return { done: 0, superseded: 0 };
    return this.retryingTransaction(async (sql) => {
      const marked = await applyLlmSupersession(sql, batch.bankId, batch.leaseToken, supersessions);
      if (marked.length < supersessions.length) {
        this.logger.warn(
          `Bank '${batch.bankId}': ${supersessions.length - marked.length} supersession(s) the LLM stated no longer applied (memory gone, retagged, already superseded, or lease lost)`,
        );
      }
      const done = ids.length ? await markBatchDone(sql, ids, batch.leaseToken) : 0;
      return { done, superseded: marked.length };
    });
  }

  /**
   * A batch's short write transaction, run again when it hits a deadlock or a serialisation
   * failure: batches of one bank run side by side, and the closing transaction of one may lock
   * (for supersession) a memory that another holds. Rolled back whole, so running it again is safe;
   * every write in it is fenced on the batch's token.
   */
  private async retryingTransaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.database.transaction(work);
      } catch (error) {
        if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryableConflict(error)) throw error;
        this.logger.warn(`Consolidation write hit a deadlock or serialisation failure; retrying (${errorMessage(error)})`);
      }
    }
  }

  /** An attempt counted: back to pending, or failed for good once the attempts are spent. */
  private async recordFailure(batch: ClaimedBatch, ids: string[], reason: string): Promise<number> {
    return this.database.withConnection((sql) =>
      recordBatchFailure(sql, ids, batch.leaseToken, this.options.consolidation.maxAttempts, reason.slice(0, 1000)),
    );
  }

  /** Back to pending at once, attempt not counted, where our token still holds. */
  private async release(batch: ClaimedBatch, ids: string[]): Promise<void> {
    await this.database.withConnection((sql) => releaseBatch(sql, ids, batch.leaseToken));
  }

  private heartbeat(batch: ClaimedBatch): NodeJS.Timeout {
    const { leaseMs } = this.options.consolidation;
    const ids = batch.memories.map((memory) => memory.id);
    return setInterval(
      () => {
        this.database
          .withConnection((sql) => renewBatchLease(sql, ids, batch.leaseToken, leaseMs))
          .catch((error: unknown) => this.logger.warn(`Consolidation heartbeat failed: ${errorMessage(error)}`));
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
  }

  private async updateLag(): Promise<void> {
    const lag = await this.database.withConnection((sql) => consolidationLag(sql));
    this.metrics.consolidationLag.set(Number(lag ?? 0));
  }

  private assertRunning(signal?: AbortSignal): void {
    signal?.throwIfAborted();
    if (this.stopping.signal.aborted) {
      throw new MemoryException(MemoryErrorCode.ShuttingDown, 'Consolidation is stopping', undefined, true);
    }
  }

  /**
   * Stops starting batches, lets running ones finish until shortly before the deadline, then
   * aborts them; an aborted batch hands its claims back (only where its token still holds).
   */
  private async drain(deadlineAt: number): Promise<void> {
    this.stopping.abort();
    const running = () => Promise.all([...this.inFlight].map((entry) => entry.done));
    const waitMs = Math.max(0, deadlineAt - Date.now() - Math.min(1000, (deadlineAt - Date.now()) / 4));
    const timer = new AbortController();
    const drained = await Promise.race([running().then(() => true), sleep(waitMs, false, { signal: timer.signal }).catch(() => false)]);
    timer.abort();
    if (!drained) {
      this.logger.warn(`Aborting ${this.inFlight.size} consolidation batch(es) at the shutdown deadline`);
      for (const entry of this.inFlight) entry.abort.abort(new Error('shutdown deadline'));
      await running();
    }
  }
}

/** The scopes of a claimed memory not yet recorded as done in this round. */
function pendingScopes(row: ClaimedRow): string[][] {
  const done = new Set(row.consolidated_scopes ?? []);
  return scopesOf(row.tags ?? [], row.observation_scopes).filter((scope) => !done.has(scopeKey(scope)));
}

/**
 * In the caller's transaction, after it locked the bank row: returns the consolidation already
 * queued in one of `statuses`, or queues one.
 */
export async function enqueueConsolidation(
  sql: Sql,
  operations: OperationsService,
  bankId: string,
  statuses: string[],
  dueInMs: number | null = null,
): Promise<ConsolidationRequestOutcome> {
  const existing = await findQueuedConsolidation(sql, bankId, statuses);
  if (existing) return { operationId: existing, deduplicated: true };
  return { operationId: await operations.enqueue(sql, bankId, CONSOLIDATION_OPERATION, {}, dueInMs), deduplicated: false };
}
