import type { LlmClient, LlmJsonRequest, LlmUsage } from '../external/llm-client.js';
import type { LlmTraceService } from './llm-trace.service.js';

/**
 * An `LlmClient` that traces every call made with a context: it times the call, keeps the prompt,
 * the reply (or the error) and the tokens, and writes the trace once the call has returned.
 * The call itself goes to the wrapped client unchanged, so it runs with no connection held, and
 * its result or error reaches the caller whatever became of the trace.
 */
export class TracingLlmClient implements LlmClient {
  constructor(
    private readonly inner: LlmClient,
    private readonly traces: LlmTraceService,
    private readonly model: string,
  ) {}

  get provider(): LlmClient['provider'] {
    return this.inner.provider;
  }

  async completeJson<T>(request: LlmJsonRequest<T>, signal?: AbortSignal): Promise<T> {
    const context = request.context;
    if (!context || !this.traces.enabled) return this.inner.completeJson(request, signal);
    let usage: LlmUsage | undefined;
    let reply: string | null = null;
    const traced: LlmJsonRequest<T> = {
      ...request,
      onUsage: (reported) => {
        usage = reported;
        request.onUsage?.(reported);
      },
      onReply: (text) => {
        reply = text;
        request.onReply?.(text);
      },
    };
    const startedAt = new Date();
    const started = performance.now();
    const record = (error?: unknown) =>
      this.traces.record({
        bankId: context.bankId,
        operation: request.operation,
        scope: context.scope,
        traceId: context.traceId,
        documentId: context.documentId,
        provider: this.inner.provider,
        model: this.model,
        startedAt,
        durationMs: Math.round(performance.now() - started),
        messages: [
          { role: 'system', content: request.system },
          { role: 'user', content: request.user },
        ],
        reply,
        error: error === undefined ? undefined : describe(error),
        usage,
        maxTokens: request.maxTokens,
      });
    let result: T;
    try {
      result = await this.inner.completeJson(traced, signal);
    } catch (error) {
      await record(error);
      throw error;
    }
    await record();
    return result;
  }
}

/** Hindsight's form: the error's class, then its message. */
function describe(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  return `Error: ${String(error)}`;
}
