import type { z } from 'zod';

export interface LlmJsonRequest<T> {
  /** Names the call in errors, logs and metrics: `extract-facts`, `consolidate`, … */
  operation: string;
  system: string;
  user: string;
  /** The reply is only returned once it has been validated against this. */
  schema: z.ZodType<T>;
  maxTokens?: number;
  /** Told the tokens the call consumed, as the provider reported them, even when its reply is then refused. */
  onUsage?: (usage: LlmUsage) => void;
  /** Told the reply's text as the provider sent it, before it is parsed, so a refused reply can be traced too. */
  onReply?: (text: string) => void;
  /** Whose call this is, for the LLM trace; a call without one is not traced. */
  context?: LlmCallContext;
}

/** Attribution of one LLM call: the bank it serves, and the run and document it belongs to. */
export interface LlmCallContext {
  bankId: string;
  /** The document whose content is in the prompt (retain's extraction). */
  documentId?: string;
  /** Shared by every LLM call of one run (one retain request, one consolidation batch, one reflect). */
  traceId?: string;
  /** Hindsight's call scope, when it is not the one the operation implies. */
  scope?: string;
}

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cachedTokens: number;
  thoughtsTokens: number;
}

/**
 * A language model that answers with one JSON object. It either returns a value the schema
 * accepted or throws (`LlmOutputError`, `ExternalServiceError`): never an empty stand-in.
 */
export interface LlmClient {
  readonly provider: 'openai';
  completeJson<T>(request: LlmJsonRequest<T>, signal?: AbortSignal): Promise<T>;
}
