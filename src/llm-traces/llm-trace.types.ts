import { STATS_PERIODS, type StatsPeriod } from '../metrics/stats-period.js';

export const LLM_REQUEST_STATUSES = ['success', 'error'] as const;
export type LlmRequestStatus = (typeof LLM_REQUEST_STATUSES)[number];

/** Hindsight's `period` of `…/llm-requests/stats`: the same windows as every stats route. */
export const LLM_REQUEST_STATS_PERIODS = STATS_PERIODS;
export type LlmRequestStatsPeriod = StatsPeriod;

/** One message of a traced prompt, as sent. */
export interface TracedMessage {
  role: 'system' | 'user';
  content: string;
}

/** What the tracing client saw of one call, before redaction and truncation. */
export interface TracedCall {
  bankId: string;
  /** Our name of the call (`extract-facts`, `consolidate`, …); the trace shows Hindsight's. */
  operation: string;
  scope?: string;
  traceId?: string;
  documentId?: string;
  provider: string;
  model: string;
  startedAt: Date;
  durationMs: number;
  messages: TracedMessage[];
  /** The reply's text, when one arrived (also when it was then refused). */
  reply: string | null;
  /** `ClassName: message` of the failure; absent on success. */
  error?: string;
  usage?: { inputTokens: number; outputTokens: number; cachedTokens: number; totalTokens: number };
  maxTokens?: number;
}

export interface LlmRequest {
  id: string;
  bankId: string;
  operation: string | null;
  scope: string | null;
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  provider: string | null;
  model: string | null;
  status: string;
  startedAt: Date;
  endedAt: Date | null;
  durationMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  totalTokens: number | null;
  input: TracedMessage[] | null;
  output: string | null;
  error: string | null;
  llmInfo: { request?: { max_completion_tokens?: number } };
  metadata: { document_id?: string };
}

export interface LlmRequestsQuery {
  status?: LlmRequestStatus;
  operation?: string;
  scope?: string;
  provider?: string;
  traceId?: string;
  documentId?: string;
  startDate?: Date;
  endDate?: Date;
  group: boolean;
  limit: number;
  offset: number;
}

export interface LlmRequestsPage {
  items: LlmRequest[];
  total: number;
}

export interface LlmRequestTokenSums {
  input: number;
  output: number;
  cached: number;
  total: number;
}

export interface LlmRequestStatsBucket {
  time: string;
  statuses: Partial<Record<LlmRequestStatus, number>>;
  total: number;
  tokens: LlmRequestTokenSums;
}

export interface LlmRequestStats {
  period: LlmRequestStatsPeriod;
  trunc: 'day';
  start: Date;
  buckets: LlmRequestStatsBucket[];
}
