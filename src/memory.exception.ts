import { ExternalServiceError, LlmOutputError } from './external/external-errors.js';

/**
 * Every failure the domain reports to a caller. Only `http/` knows which status each maps to.
 */
export enum MemoryErrorCode {
  BankNotFound = 'BANK_NOT_FOUND',
  MemoryNotFound = 'MEMORY_NOT_FOUND',
  DocumentNotFound = 'DOCUMENT_NOT_FOUND',
  ChunkNotFound = 'CHUNK_NOT_FOUND',
  OperationNotFound = 'OPERATION_NOT_FOUND',
  WebhookNotFound = 'WEBHOOK_NOT_FOUND',
  OperationNotCancellable = 'OPERATION_NOT_CANCELLABLE',
  InvalidInput = 'INVALID_INPUT',
  InvalidConfigKey = 'INVALID_CONFIG_KEY',
  Conflict = 'CONFLICT',
  LlmOutputInvalid = 'LLM_OUTPUT_INVALID',
  ExternalServiceFailed = 'EXTERNAL_SERVICE_FAILED',
  ShuttingDown = 'SHUTTING_DOWN',
}

export class MemoryException extends Error {
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
    /** The request field at fault, as the caller spelled it (`items.0.content`). */
    readonly field?: string,
    /** Whether the same request may succeed later (a flaky provider), or never will. */
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'MemoryException';
  }
}

/**
 * What callers see of a failed embedder, LLM or reranker call: a domain error that says whether
 * trying again later may help. Other errors pass through unchanged.
 */
export function fromExternalFailure(error: unknown): unknown {
  if (error instanceof LlmOutputError) {
    return new MemoryException(MemoryErrorCode.LlmOutputInvalid, error.message, undefined, true);
  }
  if (error instanceof ExternalServiceError) {
    // `closed`: the clients were shut down under the call, which only happens while stopping.
    if (error.code === 'closed') return new MemoryException(MemoryErrorCode.ShuttingDown, error.message, undefined, true);
    return new MemoryException(MemoryErrorCode.ExternalServiceFailed, error.message, undefined, error.isTransient);
  }
  return error;
}
