import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Embedder } from '../external/embedder.js';
import { type MemoryDatabase, type Sql, isRetryableConflict } from '../storage/memory-database.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import type { ObservationPlan, WriteOutcome } from './consolidation.types.js';
import {
  foldIntoObservation,
  insertObservation,
  linkSourceEntities,
  liveClaimedSources,
  lockSources,
  markScopeDone,
} from './consolidation.queries.js';
import { scopeKey } from './observation-scopes.js';
import { cl100kStorageCounter, memoryTokens } from '../recall/token-counter.js';
import { readObservationBefore, recordObservationChange } from '../memories/observation-history.queries.js';

const MAX_ATTEMPTS = 3;

/**
 * The key that makes a create exactly-once: a retry or a double run hits the unique constraint.
 * The scope is part of it, since the same sources may make one observation in each of their scopes.
 */
export function observationKey(bankId: string, sourceIds: string[], action: string, scope: readonly string[]): string {
  return createHash('sha256')
    .update([bankId, [...sourceIds].sort().join(','), action, scopeKey(scope)].join('\n'))
    .digest('hex');
}

/**
 * Writes one observation with the guards that replace a transaction held across the slow part
 * (docs/ARCHITECTURE.md, "Guards that replace the held transaction").
 *
 * Phase 1, no connection held across the call: a short read of which sources are still ours and
 * alive (no embedding at all when none is), then the embedding. Phase 2, one short transaction:
 * sources locked `FOR SHARE` in id order before the observation row is touched (the one lock order
 * of every writer), live sources re-filtered, a `RETURNING`-gated create or update, and the
 * sources' scope recorded as done under our fencing token (the batch marks a memory done once all
 * of its scopes are through, so a memory of several scopes is folded into each once). When the sources changed between the phases and
 * the text is derived from them, the text would describe a dead source: phase 2 writes nothing
 * and the two phases run again for the survivors. An update applies only to the version of the
 * observation its text was written from: batches of one bank run side by side, and one that folded
 * into the observation first would otherwise lose its part of the text to the second.
 */
export class ObservationWriter {
  private readonly logger = new Logger(ObservationWriter.name);

  constructor(
    private readonly database: MemoryDatabase,
    private readonly vectors: VectorBackend,
    private readonly embedder: Embedder,
  ) {}

  async write(bankId: string, leaseToken: string, plan: ObservationPlan, signal?: AbortSignal): Promise<WriteOutcome> {
    let planned = [...new Set(plan.sourceIds)].sort();
    const scope = scopeKey(plan.scope);
    for (let round = 1; round <= MAX_ATTEMPTS; round += 1) {
      const liveIds = await this.database.withConnection((sql) => liveClaimedSources(sql, planned, bankId, leaseToken, scope));
      if (liveIds.length === 0) return { effect: 'skipped', consumed: [], returned: [] };
      const text = typeof plan.text === 'string' ? plan.text : plan.text(liveIds);
      if (!text.trim()) return { effect: 'skipped', consumed: [], returned: liveIds };
      const [embedding] = await this.embedder.embed([text], signal);
      signal?.throwIfAborted();
      const tokens = memoryTokens(await cl100kStorageCounter(), { text, context: null });

      const outcome = await this.inTransaction((sql) => this.fold(sql, bankId, leaseToken, plan, liveIds, { text, embedding, tokens }));
      if (outcome === 'stale') {
        planned = liveIds;
        continue;
      }
      return outcome;
    }
    this.logger.warn(`Observation sources in bank '${bankId}' kept changing; leaving them for the next run`);
    return { effect: 'skipped', consumed: [], returned: planned };
  }

  private async fold(
    sql: Sql,
    bankId: string,
    leaseToken: string,
    plan: ObservationPlan,
    expected: string[],
    { text, embedding, tokens }: { text: string; embedding: number[]; tokens: number },
  ): Promise<WriteOutcome | 'stale'> {
    const scope = scopeKey(plan.scope);
    const locked = await lockSources(sql, expected, bankId, leaseToken, scope);
    const live = locked.filter((row) => row.live).map((row) => row.id);
    if (live.length === 0) return { effect: 'skipped', consumed: [], returned: [] };
    // A derived text names exactly the sources it was built from; a fixed (LLM) text is kept and
    // only the live sources are attached to it.
    if (typeof plan.text !== 'string' && live.length !== expected.length) return 'stale';

    let observationId: string | undefined;
    let written: WriteOutcome['written'];
    if (plan.kind === 'create') {
      const key = observationKey(bankId, live, 'create', plan.scope);
      observationId = await insertObservation(sql, this.vectors, {
        bankId,
        text,
        embedding,
        tokens,
        sourceIds: live,
        key,
        tags: [...plan.scope],
      });
      if (!observationId) {
        // The same sources were already folded by an earlier run of this write: a no-op.
        await markScopeDone(sql, live, leaseToken, scope);
        return { effect: 'skipped', consumed: live, returned: [] };
      }
    } else {
      // Read inside the fold's transaction, so the history row describes the version the fold replaced.
      const before = await readObservationBefore(sql, bankId, plan.observationId);
      const folded = await foldIntoObservation(sql, this.vectors, {
        id: plan.observationId,
        bankId,
        sourceIds: live,
        text,
        embedding,
        tokens,
        tags: [...plan.scope],
        seen: plan.seen,
      });
      // Invalidated or deleted meanwhile, or changed by another batch since the plan read it (our
      // text would drop what that batch wrote): the sources go back, to be planned again.
      if (!folded) return { effect: 'skipped', consumed: [], returned: live };
      observationId = folded.id;
      written = { observationId, text: folded.text, sourceIds: folded.source_memory_ids };
      if (before) await recordObservationChange(sql, bankId, observationId, before, folded.source_memory_ids ?? []);
    }
    await linkSourceEntities(sql, bankId, observationId, live);
    await markScopeDone(sql, live, leaseToken, scope);
    return { effect: plan.kind === 'create' ? 'created' : 'updated', consumed: live, returned: [], ...(written && { written }) };
  }

  private async inTransaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.database.transaction(work);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(error)) throw error;
        this.logger.warn('Observation write hit a serialisation failure or deadlock; retrying');
      }
    }
  }
}
