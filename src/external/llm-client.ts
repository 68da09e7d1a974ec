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
