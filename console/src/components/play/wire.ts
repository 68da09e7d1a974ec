/**
 * The JSON the playground pages read, as the server sends it (snake_case, ISO strings). The
 * shapes follow src/http/wire.mapper.ts, src/http/dto/reflect.dto.ts and the operation and webhook
 * response classes; the recall trace is src/recall/recall.types.ts `RecallTrace` in snake_case.
 */

export type FactType = 'world' | 'experience' | 'observation';
export const FACT_TYPES: readonly FactType[] = ['world', 'experience', 'observation'];
export type Budget = 'low' | 'mid' | 'high';
export const BUDGETS: readonly Budget[] = ['low', 'mid', 'high'];
export type TagsMatch = 'any' | 'all' | 'any_strict' | 'all_strict' | 'exact';
export const TAGS_MATCHES: readonly TagsMatch[] = ['any', 'all', 'any_strict', 'all_strict', 'exact'];

export type ArmName = 'semantic' | 'keyword' | 'entity' | 'temporal';
export const ARM_NAMES: readonly ArmName[] = ['semantic', 'keyword', 'entity', 'temporal'];

export interface RecallResultWire {
  id: string;
  text: string;
  type?: FactType;
  context?: string;
  tags?: string[];
  entities?: string[];
  scores?: { final: number; semantic?: number; keyword?: number; reranker?: number };
}

export interface TraceCandidateWire {
  id: string;
  rank: number;
  score: number;
}

export interface RecallTraceWire {
  query: string;
  budget: Budget;
  candidates_per_arm: number;
  temporal_range: { start: string; end: string; expressions: string[] } | null;
  embedding_ms: number;
  arms: Array<{ name: ArmName; duration_ms: number; candidates: TraceCandidateWire[] }>;
  fusion: {
    method: string;
    k: number;
    candidates: Array<TraceCandidateWire & { arms: Partial<Record<ArmName, number>> }>;
  };
  rerank: { status: 'disabled' | 'applied' | 'failed'; window: number; error?: string };
  rerank_ms: number;
  trimmed: number;
  tokens: number;
  total_ms: number;
  num_results: number;
}

export interface RecallResponseWire {
  results: RecallResultWire[];
  trace?: RecallTraceWire;
}

export interface ReflectFactWire {
  id: string | null;
  text: string;
  type?: FactType | null;
  context?: string | null;
}

export interface ReflectResponseWire {
  text: string;
  based_on: {
    memories: ReflectFactWire[];
    mental_models: Array<{ id: string; text: string; context?: string | null }>;
    directives: Array<{ id: string; name: string; content: string }>;
  };
  usage: { input_tokens: number; output_tokens: number; total_tokens: number; cached_tokens: number; thoughts_tokens: number };
  trace?: {
    tool_calls: Array<{ tool: string; duration_ms: number; iteration: number }>;
    llm_calls: Array<{ scope: string; duration_ms: number }>;
  } | null;
  extractive: boolean;
}

export interface EntityListWire {
  items: Array<{ id: string; canonical_name: string; mention_count: number }>;
  total: number;
}

export interface EntityGraphWire {
  nodes: Array<{ data: { id: string; label: string; mentionCount: number } }>;
  edges: Array<{ data: { id: string; source: string; target: string; weight: number } }>;
  total_edges: number;
  limit: number;
}

export const OPERATION_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export interface OperationWire {
  id: string;
  task_type: string;
  items_count: number;
  created_at: string;
  updated_at?: string | null;
  status: OperationStatus;
  error_message: string | null;
  /** Attempts after the first (Hindsight's field); the list carries no raw attempt count. */
  retry_count?: number | null;
  next_retry_at?: string | null;
}

export interface OperationsListWire {
  total: number;
  limit: number;
  offset: number;
  operations: OperationWire[];
}

export interface WebhookWire {
  id: string;
  url: string;
  event_types: string[];
  enabled: boolean;
}

export interface WebhookDeliveryWire {
  id: string;
  event_type: string;
  status: string;
  attempts: number;
  next_retry_at: string | null;
  last_error: string | null;
  last_response_status: number | null;
  delivered_at: string | null;
  created_at: string | null;
}

export interface WebhookDeliveryListWire {
  items: WebhookDeliveryWire[];
  next_cursor: string | null;
}

export function bankHref(bankId: string, rest = ''): string {
  return `#/banks/${encodeURIComponent(bankId)}${rest}`;
}
