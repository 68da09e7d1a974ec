import type { FactType, RecallBudget, RecalledMemory, TagsMatch } from '../recall/recall.types.js';

export interface ReflectRequest {
  query: string;
  /** How widely recall searches; `low` by default, as Hindsight. */
  budget?: RecallBudget;
  /** The answer's token cap, passed to the LLM; 4096 by default. */
  maxTokens?: number;
  tags?: string[];
  tagsMatch?: TagsMatch;
  /** Empty or undefined: every type. */
  factTypes?: FactType[];
  /** Deprecated in Hindsight: appended to the question as "Additional context". */
  context?: string | null;
}

/** A memory the answer rests on: the recalled memory without what only recall reports. */
export type ReflectFact = Pick<RecalledMemory, 'id' | 'text' | 'type' | 'context' | 'occurredStart' | 'occurredEnd'>;

export interface ReflectOutcome {
  text: string;
  /** Only memories the answer cites (LLM) or quotes (extractive), all from this recall. */
  basedOn: ReflectFact[];
  /** True when no LLM is configured and the answer quotes the best memories instead. */
  extractive: boolean;
}
