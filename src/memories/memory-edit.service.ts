import { Inject, Injectable, Logger } from '@nestjs/common';
import { AiClients } from '../external/ai-clients.js';
import { MEMORY_VECTOR_BACKEND } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import { MemoryDatabase, type Sql, isRetryableConflict } from '../storage/memory-database.js';
import { isUuid } from '../storage/uuid.js';
import type { VectorBackend } from '../storage/vector-backend.js';
import {
  linkUnitToEntity,
  reclaimOrphanEntities,
  recordLinkedEntities,
  unlinkUnitFromEntities,
  upsertEntities,
} from '../entities/entities.queries.js';
import {
  ENTITY_NAME_MAX_LENGTH,
  canonicalEntityName,
  mergeEntities,
  openingName,
  properNouns,
  type ExtractedEntity,
} from '../entities/entity-names.js';
import { attributeKey } from '../supersession/attribute-key.js';
import { attributeKeysOf, recomputeSupersession, setAttributeKey } from '../supersession/supersession.queries.js';
import { retagMemories } from '../consolidation/source-changes.queries.js';
import { invalidateObservationsBuiltOn, requeueForConsolidation } from '../consolidation/observation-scopes.queries.js';
import { type EditSnapshotRow, lockEditSnapshot, readEditSnapshot, updateEditedMemory, updateMemoryFacts } from './memories.queries.js';
import { cl100kStorageCounter, memoryTokens } from '../recall/token-counter.js';
import { assertStorableInstant } from '../storage/storable-instant.js';
import { MemoriesService } from './memories.service.js';
import type { MemoryRecord } from './memory.types.js';

export interface MemoryEdit {
  text?: string;
  /** `''` or `null` clears it. */
  context?: string | null;
  state?: 'valid' | 'invalidated';
  reason?: string | null;
  /** A new tag set: the memory moves to another observation scope. */
  tags?: string[];
  /** `null` clears it. */
  occurredStart?: Date | null;
  /** `null` clears it. */
  occurredEnd?: Date | null;
  factType?: 'world' | 'experience';
  /** Replaces the linked entities, resolved by name as retain does; `[]` detaches them all. */
  entities?: string[];
}

/** The memory as GET shows it, plus the stamps an edit leaves. */
export interface EditedMemory extends MemoryRecord {
  editedAt: Date | null;
  invalidatedAt: Date | null;
  invalidationReason: string | null;
}

/** Why observations built on an edited or invalidated source stop counting. */
export const SOURCE_EDITED_REASON = 'source edited';

/** Phase-2 aborts (the row changed under us, or a deadlock) before answering 409. */
export const MAX_EDIT_ATTEMPTS = 3;

/** Phase 1's work: what phase 2 applies if the row still reads as phase 1 saw it. */
interface Prepared {
  snapshot: EditSnapshotRow;
  text: string;
  context: string | null;
  contentChanged: boolean;
  embedding: number[] | null;
  tokens: number;
  entities: ExtractedEntity[];
}

class RowChangedBetweenPhases extends Error {}

/**
 * Edits and invalidates memories in two phases (docs/ARCHITECTURE.md, "Memory edit in two phases").
 *
 * Phase 1 reads the row in a short scope, then finds the new text's entities and embeds it with
 * no connection held (docs/ARCHITECTURE.md, "Invariant 1"). Phase 2 is one short transaction that re-locks the row and
 * checks that the embedding inputs still read as phase 1 saw them: if not, the embedding would
 * describe text that is no longer there, so the attempt is dropped and redone from phase 1, a
 * bounded number of times, then reported as a conflict.
 *
 * Lock order, shared with retain and consolidation: the memory row, then the other sources of
 * its observations (id order), then the observations, then entity rows in canonical-name order.
 */
@Injectable()
export class MemoryEditService {
  private readonly logger = new Logger(MemoryEditService.name);

  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_VECTOR_BACKEND) private readonly vectors: VectorBackend,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(MemoriesService) private readonly memories: MemoriesService,
  ) {}

  async edit(bankId: string, memoryId: string, edit: MemoryEdit, signal?: AbortSignal): Promise<EditedMemory> {
    validate(edit);
    if (!isUuid(memoryId)) throw notFound(memoryId);
    for (let attempt = 1; ; attempt += 1) {
      const prepared = await this.prepare(bankId, memoryId, edit, signal);
      signal?.throwIfAborted();
      try {
        const stamps = await this.database.transaction((sql) => this.apply(sql, bankId, memoryId, edit, prepared));
        const memory = await this.memories.get(bankId, memoryId);
        return { ...memory, ...stamps };
      } catch (error) {
        const retryable = error instanceof RowChangedBetweenPhases || isRetryableConflict(error);
        if (!retryable) throw error;
        if (attempt >= MAX_EDIT_ATTEMPTS) {
          throw new MemoryException(
            MemoryErrorCode.Conflict,
            `Memory unit '${memoryId}' kept changing while it was being edited; try again`,
            undefined,
            true,
          );
        }
        this.logger.warn(`Edit of memory ${memoryId} conflicted (row changed between phases, or a deadlock); attempt ${attempt + 1}`);
      }
    }
  }

  /** Phase 1: one short read, then the slow work with no connection held. */
  private async prepare(bankId: string, memoryId: string, edit: MemoryEdit, signal?: AbortSignal): Promise<Prepared> {
    const snapshot = await this.database.withConnection((sql) => readEditSnapshot(sql, bankId, memoryId));
    if (!snapshot) throw notFound(memoryId);
    if (snapshot.fact_type !== 'world' && snapshot.fact_type !== 'experience') {
      throw new MemoryException(
        MemoryErrorCode.InvalidInput,
        `Only world and experience memories can be edited; '${memoryId}' is ${snapshot.fact_type === 'observation' ? 'an' : 'a'} ${snapshot.fact_type}`,
        'memory_id',
      );
    }
    const text = edit.text !== undefined ? edit.text.trim() : snapshot.text;
    const context = edit.context !== undefined ? edit.context || null : snapshot.context;
    const textChanged = edit.text !== undefined;
    const contentChanged = textChanged || edit.context !== undefined;
    let embedding: number[] | null = null;
    if (textChanged) {
      // Retain embeds the fact's text alone; an edit keeps the same input so both compare alike.
      const [vector] = await this.ai.embedder.embed([text], signal).catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
      if (!vector || vector.length !== this.vectors.dimension) {
        throw new MemoryException(
          MemoryErrorCode.ExternalServiceFailed,
          `the embedder returned a ${vector?.length ?? 0}-dimensional vector`,
        );
      }
      embedding = vector;
    }
    const tokens = memoryTokens(await cl100kStorageCounter(), { text, context });
    return { snapshot, text, context, contentChanged, embedding, tokens, entities: textChanged ? mergeEntities(properNouns(text)) : [] };
  }

  /** Phase 2: one short transaction. */
  private async apply(
    sql: Sql,
    bankId: string,
    memoryId: string,
    edit: MemoryEdit,
    prepared: Prepared,
  ): Promise<Pick<EditedMemory, 'editedAt' | 'invalidatedAt' | 'invalidationReason'>> {
    const current = await lockEditSnapshot(sql, bankId, memoryId);
    if (!current) throw notFound(memoryId);
    const { snapshot } = prepared;
    if (current.text !== snapshot.text || (current.context ?? null) !== (snapshot.context ?? null)) {
      throw new RowChangedBetweenPhases();
    }

    const invalidating = edit.state === 'invalidated';
    const stamps = await updateEditedMemory(sql, this.vectors, bankId, memoryId, {
      text: prepared.text,
      context: prepared.context,
      embedding: prepared.embedding,
      tokens: prepared.tokens,
      contentChanged: prepared.contentChanged,
      state: edit.state ?? null,
      reason: edit.reason ?? (invalidating ? 'invalidated by user' : null),
    });

    if (prepared.contentChanged || invalidating || edit.state === 'valid') {
      await this.requeueConsolidation(sql, bankId, memoryId, prepared.contentChanged || invalidating);
    }
    const factsChanged = edit.occurredStart !== undefined || edit.occurredEnd !== undefined || edit.factType !== undefined;
    if (factsChanged) {
      const range = await updateMemoryFacts(sql, bankId, memoryId, {
        occurredStart: edit.occurredStart,
        occurredEnd: edit.occurredEnd,
        factType: edit.factType ?? null,
      });
      // Checked against the stored bound too: one side of the range may be all the caller sent.
      if (range.occurred_start && range.occurred_end && range.occurred_end < range.occurred_start) {
        throw new MemoryException(MemoryErrorCode.InvalidInput, 'occurred_end cannot be before occurred_start', 'occurred_end');
      }
    }
    // Entities named by the caller win over those found in new text.
    if (edit.entities !== undefined) {
      const named = mergeEntities(edit.entities.map((name) => ({ name: name.trim(), type: null })));
      await this.relinkEntities(sql, bankId, memoryId, named);
    } else if (prepared.embedding !== null) await this.relinkEntities(sql, bankId, memoryId, prepared.entities);
    if (edit.tags !== undefined)
      await retagMemories(sql, bankId, [memoryId], [...new Set(edit.tags.map((tag) => tag.trim()).filter(Boolean))]);
    await this.resupersede(sql, bankId, memoryId, prepared, edit);
    return { editedAt: stamps.edited_at, invalidatedAt: stamps.invalidated_at, invalidationReason: stamps.invalidation_reason };
  }

  /**
   * An edit follows retain's supersession path: new text may state another attribute (or none),
   * and a change of state or tags moves the memory in or out of its line of facts, so the lines
   * it leaves and joins are recomputed. Without a name of its own the new text keeps the subject
   * the memory had ("She moved to Oslo." stays about Alice).
   */
  private async resupersede(sql: Sql, bankId: string, memoryId: string, prepared: Prepared, edit: MemoryEdit): Promise<void> {
    const keys = await attributeKeysOf(sql, [memoryId]);
    if (prepared.embedding !== null) {
      const previousSubject = keys[0]?.split('|')[0];
      const key = attributeKey(prepared.text, openingName(prepared.text) ?? previousSubject);
      await setAttributeKey(sql, memoryId, key);
      if (key) keys.push(key);
    }
    const moved = edit.state !== undefined || edit.tags !== undefined || edit.occurredStart !== undefined || edit.occurredEnd !== undefined;
    if (prepared.embedding !== null || moved || edit.factType !== undefined) await recomputeSupersession(sql, bankId, keys);
  }

  /**
   * The observations built on this memory no longer say what their sources say: they are
   * invalidated, and every live source of theirs (this one included, unless it was invalidated)
   * goes back to the consolidation queue.
   */
  private async requeueConsolidation(sql: Sql, bankId: string, memoryId: string, invalidateObservations: boolean): Promise<void> {
    const sources = invalidateObservations
      ? await invalidateObservationsBuiltOn(sql, bankId, [memoryId], SOURCE_EDITED_REASON)
      : [memoryId];
    await requeueForConsolidation(sql, bankId, sources);
  }

  /**
   * Links the memory to the entities its new text names. Entities are resolved by canonical name
   * inside this transaction, never by an id read earlier: one pruned since (its last memory
   * deleted) is simply created again rather than linked by a dead id. Entities the memory no
   * longer names lose the link and, when nothing else links them, go.
   */
  private async relinkEntities(sql: Sql, bankId: string, memoryId: string, entities: ExtractedEntity[]): Promise<void> {
    const previous = await unlinkUnitFromEntities(sql, bankId, memoryId);
    const byCanonical = new Map(entities.map((entity) => [canonicalEntityName(entity.name), entity]));
    const linked = await upsertEntities(sql, bankId, byCanonical, (entityId) => linkUnitToEntity(sql, bankId, memoryId, entityId));
    await recordLinkedEntities(sql, bankId, memoryId);
    await reclaimOrphanEntities(sql, [...new Set([...linked.values(), ...previous])]);
  }
}

function validate(edit: MemoryEdit): void {
  const fields = [
    edit.text,
    edit.context,
    edit.state,
    edit.reason,
    edit.tags,
    edit.occurredStart,
    edit.occurredEnd,
    edit.factType,
    edit.entities,
  ];
  if (fields.every((value) => value === undefined)) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'Provide at least one field to update.');
  }
  if (edit.text !== undefined && (typeof edit.text !== 'string' || edit.text.trim() === '')) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'text cannot be empty', 'text');
  }
  if (edit.tags !== undefined && (!Array.isArray(edit.tags) || edit.tags.some((tag) => typeof tag !== 'string'))) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'tags must be a list of strings', 'tags');
  }
  if (edit.factType !== undefined && edit.factType !== 'world' && edit.factType !== 'experience') {
    throw new MemoryException(MemoryErrorCode.InvalidInput, "fact_type must be 'world' or 'experience'", 'fact_type');
  }
  if (
    edit.entities !== undefined &&
    (!Array.isArray(edit.entities) || edit.entities.some((name) => typeof name !== 'string' || !name.trim()))
  ) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'entities must be a list of non-empty names', 'entities');
  }
  const tooLong = edit.entities?.findIndex((name) => name.length > ENTITY_NAME_MAX_LENGTH) ?? -1;
  if (tooLong >= 0) {
    throw new MemoryException(
      MemoryErrorCode.InvalidInput,
      `entities must be at most ${ENTITY_NAME_MAX_LENGTH} characters long each`,
      `entities.${tooLong}`,
    );
  }
  assertStorableInstant(edit.occurredStart, 'occurred_start');
  assertStorableInstant(edit.occurredEnd, 'occurred_end');
  if (edit.occurredStart && edit.occurredEnd && edit.occurredEnd < edit.occurredStart) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'occurred_end cannot be before occurred_start', 'occurred_end');
  }
  if (edit.state !== undefined && edit.state !== 'valid' && edit.state !== 'invalidated') {
    throw new MemoryException(MemoryErrorCode.InvalidInput, "state must be 'valid' or 'invalidated'", 'state');
  }
}

function notFound(memoryId: string): MemoryException {
  return new MemoryException(MemoryErrorCode.MemoryNotFound, `Memory unit '${memoryId}' not found`);
}
