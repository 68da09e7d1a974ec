import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';

export const UPDATE_MODES = ['replace', 'append'] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

export interface RetainEntityInput {
  text: string;
  type?: string | null;
}

export interface RetainItem {
  content: string;
  /** `undefined`: now; `null`: the content has no event time. */
  timestamp?: Date | null;
  context?: string | null;
  metadata?: Record<string, string> | null;
  documentId?: string | null;
  entities?: RetainEntityInput[] | null;
  tags?: string[] | null;
  /**
   * How the item's memories are grouped for consolidation (`combined` by default: the whole tag
   * set is one scope). See `ObservationScopesSpec`.
   */
  observationScopes?: ObservationScopesSpec | null;
  /**
   * What happens to a document of the same `documentId` already stored: `replace` (the default)
   * retains this content in its place; `append` adds this content after its stored text and
   * retains the whole again. `append` needs a `documentId`.
   */
  updateMode?: UpdateMode | null;
}

export interface RetainRequest {
  items: RetainItem[];
  /** Applied to every item, on top of its own tags. */
  documentTags?: string[] | null;
  async?: boolean;
  /**
   * The client's id for an async retain (a UUID): submitting it again returns the original
   * operation and queues nothing. Ignored for a synchronous retain, as Hindsight ignores it.
   */
  operationId?: string | null;
}

export interface RetainOutcome {
  bankId: string;
  itemsCount: number;
  async: boolean;
  /** Set for async retains: poll it for the result. */
  operationId?: string;
  /** The memory units written (sync only). */
  memoryIds: string[];
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
}
