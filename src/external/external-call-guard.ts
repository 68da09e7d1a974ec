import { Logger } from '@nestjs/common';
import { isConnectionHeld } from '../storage/memory-database.js';

/** Every kind of slow external call; metrics label their series with these. */
export const EXTERNAL_CLIENT_KINDS = ['embedder', 'llm', 'reranker', 'webhook'] as const;
export type ExternalClientKind = (typeof EXTERNAL_CLIENT_KINDS)[number];

/** Thrown when a slow external call is made while the async context holds a pooled connection. */
export class ConnectionHeldAcrossExternalCallError extends Error {
  constructor(
    readonly client: ExternalClientKind,
    readonly operation: string,
  ) {
    super(
      `${client} call '${operation}' made while holding a database connection: ` +
        'move it outside the SQL scope (docs/ARCHITECTURE.md, "Invariant 1")',
    );
    this.name = 'ConnectionHeldAcrossExternalCallError';
  }
}

export type GuardMode = 'strict' | 'warn';

/** Where the guard reports what passes through it: violations, and every call's latency and outcome. */
export interface ExternalCallObserver {
  onViolation?: (client: ExternalClientKind) => void;
  onCall?: (client: ExternalClientKind, outcome: 'ok' | 'error', seconds: number) => void;
}

/**
 * The one door every embedder, LLM, reranker and webhook call goes through (docs/ARCHITECTURE.md, "Invariant 1").
 *
 * A call made inside a SQL scope would keep a pooled connection idle for the whole of a slow
 * HTTP round trip; under load that starves the pool. `strict` refuses the call, `warn` logs and
 * lets it through; both count it, so a violation is visible in production metrics.
 */
export class ExternalCallGuard {
  private readonly logger = new Logger(ExternalCallGuard.name);
  private violationCount = 0;

  constructor(
    private readonly mode: GuardMode = 'strict',
    private readonly observer: ExternalCallObserver = {},
  ) {}

  get violations(): number {
    return this.violationCount;
  }

  async call<T>(client: ExternalClientKind, operation: string, work: () => Promise<T>): Promise<T> {
    if (isConnectionHeld()) {
      this.violationCount += 1;
      this.observer.onViolation?.(client);
      const error = new ConnectionHeldAcrossExternalCallError(client, operation);
      if (this.mode === 'strict') throw error;
      this.logger.warn(error.message);
    }
    const started = performance.now();
    try {
      const result = await work();
      this.observer.onCall?.(client, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      this.observer.onCall?.(client, 'error', (performance.now() - started) / 1000);
      throw error;
    }
  }
}
