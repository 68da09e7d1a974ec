import type { ExternalClientKind } from './external-call-guard.js';

/**
 * Why an external service failed us. `bad-response` means the service answered, but not in its
 * protocol (unparsable body, wrong count or dimension): retrying may help, trusting it would not.
 */
export type ExternalFailureCode = 'http' | 'timeout' | 'network' | 'aborted' | 'closed' | 'bad-response';

/** An embedder, LLM or reranker call that did not produce a usable answer from the service. */
export class ExternalServiceError extends Error {
  constructor(
    readonly client: ExternalClientKind,
    readonly provider: string,
    readonly operation: string,
    readonly code: ExternalFailureCode,
    detail: string,
    /** The HTTP status when the service answered with one. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${client} (${provider}) '${operation}' failed [${code}${status ? ` ${status}` : ''}]: ${detail}`, options);
    this.name = 'ExternalServiceError';
  }

  /** Worth trying again later: the service, not our request, was the problem. */
  get isTransient(): boolean {
    if (this.code === 'http') return this.status === undefined || this.status === 408 || this.status === 429 || this.status >= 500;
    return this.code === 'timeout' || this.code === 'network' || this.code === 'bad-response';
  }
}

/** The embedding service returned vectors of another size than the store was built for. */
export class EmbeddingDimensionError extends ExternalServiceError {
  constructor(
    provider: string,
    readonly model: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super('embedder', provider, 'embed', 'bad-response', `model '${model}' returned ${got}-dimensional vectors, expected ${expected}`);
    this.name = 'EmbeddingDimensionError';
  }

  /** A misconfigured model does not fix itself. */
  override get isTransient(): boolean {
    return false;
  }
}

/**
 * The LLM answered, but its content cannot be used: empty, cut off, not JSON, or not the shape
 * asked for. Callers must not fall back to an empty result: memory is never replaced with empty or
 * degenerate LLM output (docs/ARCHITECTURE.md, "Guards that replace the held transaction").
 */
export class LlmOutputError extends Error {
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`LLM output for '${operation}' is unusable: ${reason}`);
    this.name = 'LlmOutputError';
  }
}
