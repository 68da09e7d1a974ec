import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';
import type { FactType } from '../memory.constants.js';
import type { TagsMatch } from '../recall/recall.types.js';

export interface MemoryRecord {
  id: string;
  bankId: string;
  text: string;
  context: string | null;
  type: FactType;
  documentId: string | null;
  occurredStart: Date | null;
  occurredEnd: Date | null;
  mentionedAt: Date | null;
  metadata: Record<string, string>;
  tags: string[];
  /** As retained; `null` for the default (`combined`) and for observations. */
  observationScopes: ObservationScopesSpec | null;
  entities: string[];
  state: 'valid' | 'invalidated';
  consolidationStatus: string;
  sourceMemoryIds: string[] | null;
  /** The document chunk it was extracted from; absent where the read does not load it. */
  chunkId?: string | null;
  proofCount: number | null;
  /** The newer memory that replaced this one; it is kept as history (docs/ARCHITECTURE.md, "Supersession"). */
  supersededBy: string | null;
  supersededAt: Date | null;
  /** When the text, dates or tags were last edited through the API; absent where the read does not load it. */
  editedAt?: Date | null;
  invalidatedAt?: Date | null;
  /** Why it was invalidated: the caller's reason, or what did it (`consolidation`, a scope repair). */
  invalidationReason?: string | null;
  /** When consolidation last took it into an observation. */
  consolidatedAt?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Hindsight's consolidation states of a world or experience memory, as `list_memories` filters them. */
export const CONSOLIDATION_STATES = ['failed', 'pending', 'done'] as const;
export type ConsolidationState = (typeof CONSOLIDATION_STATES)[number];

export interface MemoryListFilter {
  type?: FactType;
  q?: string;
  documentId?: string;
  state?: 'valid' | 'invalidated';
  /** Only world and experience memories have one; observations never match. */
  consolidationState?: ConsolidationState;
  /** Memories linked to this entity (a UUID). */
  entityId?: string;
  /** Matched as recall matches them (`tagPredicate`); empty with `exact` means untagged. */
  tags?: readonly string[];
  tagsMatch?: TagsMatch;
  limit: number;
  offset: number;
}

export interface DocumentListFilter {
  q?: string;
  tags?: readonly string[];
  /** Hindsight's default for documents is `any_strict`, stricter than for memories. */
  tagsMatch?: TagsMatch;
  limit: number;
  offset: number;
}

export interface DocumentRecord {
  id: string;
  bankId: string;
  originalText: string | null;
  contentHash: string | null;
  metadata: Record<string, unknown>;
  tags: string[];
  memoryUnitCount: number;
  memoriesByType: Record<string, number>;
  createdAt: Date;
  updatedAt: Date;
}

export interface EntityRecord {
  id: string;
  canonicalName: string;
  name: string;
  type: string | null;
  mentionCount: number;
  firstSeen: Date;
  lastSeen: Date;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** One exact tag set of a bank's observations and how many live under it. */
export interface ObservationScopeCount {
  tags: string[];
  count: number;
}

/** A source of an observation at one change, resolved to its text (null once it was deleted). */
export interface ObservationSourceFact {
  id: string;
  text: string | null;
  type: string | null;
  context: string | null;
  /** Added by this change. */
  isNew: boolean;
}

/** One change of an observation: what it read before, and the sources it had after. */
export interface ObservationChange {
  previousText: string;
  previousTags: string[];
  previousOccurredStart: Date | null;
  previousOccurredEnd: Date | null;
  previousMentionedAt: Date | null;
  changedAt: Date;
  newSourceMemoryIds: string[];
  sourceFacts: ObservationSourceFact[];
}
