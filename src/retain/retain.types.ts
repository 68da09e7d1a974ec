import type { ObservationScopesSpec } from '../consolidation/observation-scopes.js';

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
