import type { Directive } from '../directives/directive.types.js';
import type { LlmUsage } from '../external/llm-client.js';
import type { FactType, RecallBudget, RecalledMemory, TagsMatch } from '../recall/recall.types.js';

export interface ReflectRequest {
  query: string;
  /** How widely recall searches; `low` by default, as Hindsight. */
  budget?: RecallBudget;
  /** The answer's token cap, passed to the LLM; 4096 by default. */
  maxTokens?: number;
  tags?: string[];
  tagsMatch?: TagsMatch;
  /** Hindsight's compound tag filters, checked and applied by recall; directives are scoped by `tags` alone. */
  tagGroups?: unknown[];
  /** Empty or undefined: every type. */
  factTypes?: FactType[];
  /** Deprecated in Hindsight: appended to the question as "Additional context". */
  context?: string | null;
  /** A JSON Schema the answer's `structuredOutput` must validate against; needs an LLM. */
  responseSchema?: Record<string, unknown> | null;
  /** Every active directive, whatever its tags; otherwise they are scoped by `tags` as memories are. */
  applyAllDirectives?: boolean;
  /** Record the trace; `output: false` leaves the tools' outputs out of it. */
  trace?: { output: boolean } | null;
}

/** A memory the answer rests on: the recalled memory without what only recall reports. */
export type ReflectFact = Pick<RecalledMemory, 'id' | 'text' | 'type' | 'context' | 'occurredStart' | 'occurredEnd'>;

export interface ReflectToolCall {
  tool: string;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  durationMs: number;
  iteration: number;
}

export interface ReflectLlmCall {
  scope: string;
  durationMs: number;
}

export interface ReflectTrace {
  toolCalls: ReflectToolCall[];
  llmCalls: ReflectLlmCall[];
}

export interface ReflectOutcome {
  text: string;
  /** Only memories the answer cites (LLM) or quotes (extractive), all from this recall. */
  basedOn: ReflectFact[];
  /** The directives the prompt carried (none without an LLM: there was no prompt). */
  directives: Directive[];
  /** True when no LLM is configured and the answer quotes the best memories instead. */
  extractive: boolean;
  /** Validated against the request's `responseSchema`; null when none was given. */
  structuredOutput: Record<string, unknown> | null;
  /** Summed over the LLM calls; zero when none was made. */
  usage: LlmUsage;
  /** Only when the request asked for it. */
  trace: ReflectTrace | null;
}
