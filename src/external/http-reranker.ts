import { CallSignal, withCallSignal } from './call-signal.js';
import type { ExternalCallGuard } from './external-call-guard.js';
import { ExternalFailureCode, ExternalServiceError } from './external-errors.js';
import { HttpTransport, TransportClosedError } from './http-transport.js';
import type { Reranker } from './reranker.js';

export const HTTP_RERANKER_PROVIDER = 'http';

export interface HttpRerankerSettings {
  /** `https://api.jina.ai` or `https://api.jina.ai/v1`: both reach `/v1/rerank`. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** The whole call, body included. */
  timeoutMs: number;
}

/**
 * A Cohere/Jina-style `POST /v1/rerank` endpoint (also served by TEI, vLLM and LiteLLM).
 *
 * No retries: reranking only refines an order recall already has, so on failure the caller
 * keeps that order instead of making the user wait for a second attempt.
 */
export class HttpReranker implements Reranker {
  private readonly endpoint: string;

  constructor(
    private readonly settings: HttpRerankerSettings,
    private readonly guard: ExternalCallGuard,
    private readonly transport: HttpTransport,
  ) {
    this.endpoint = rerankEndpoint(settings.baseUrl);
  }

  rerank(query: string, documents: string[], signal?: AbortSignal): Promise<number[]> {
    return this.guard.call('reranker', 'rerank', async () => {
      if (documents.length === 0) return [];
      const sources = { caller: signal, closed: this.transport.closedSignal, timeoutMs: this.settings.timeoutMs };
      return withCallSignal(sources, async (call) => {
        try {
          return await this.post(query, documents, call.signal);
        } catch (error) {
          throw this.translateFailure(error, call);
        }
      });
    });
  }

  private async post(query: string, documents: string[], signal: AbortSignal): Promise<number[]> {
    const response = await this.transport.fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(this.settings.apiKey && { authorization: `Bearer ${this.settings.apiKey}` }),
      },
      // top_n = every document, so that each input gets a score to align.
      body: JSON.stringify({ model: this.settings.model, query, documents, top_n: documents.length }),
      signal,
    });
    const text = await response.text();
    if (!response.ok) throw this.failed('http', errorMessageOf(text, response.statusText), response.status);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw this.failed('bad-response', `response body is not JSON: ${clip(text)}`);
    }
    return this.scoresInInputOrder(body, documents.length);
  }

  private scoresInInputOrder(body: unknown, documentCount: number): number[] {
    const results = (body as { results?: unknown } | null)?.results;
    if (!Array.isArray(results)) throw this.failed('bad-response', 'response has no results array');
    const scores = new Array<number | undefined>(documentCount);
    for (const result of results as Array<{ index?: unknown; relevance_score?: unknown }>) {
      const index = result?.index;
      const score = result?.relevance_score;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= documentCount || scores[index] !== undefined) {
        throw this.failed('bad-response', `result index ${String(index)} is missing, out of range or repeated`);
      }
      if (typeof score !== 'number' || !Number.isFinite(score)) {
        throw this.failed('bad-response', `score of document ${index} is not a finite number`);
      }
      scores[index] = score;
    }
    const scored = scores.filter((score) => score !== undefined).length;
    // A guessed score for the rest would reorder results on no evidence.
    if (scored !== documentCount) throw this.failed('bad-response', `scored ${scored} of ${documentCount} documents`);
    return scores as number[];
  }

  private translateFailure(error: unknown, call: CallSignal): unknown {
    if (error instanceof ExternalServiceError) return error;
    switch (call.abortedBy) {
      case 'closed':
        return this.failed('closed', 'the AI clients were closed during the call', undefined, error);
      case 'caller':
        return this.failed('aborted', 'aborted by the caller', undefined, error);
      case 'deadline':
        return this.failed('timeout', `no complete answer within ${this.settings.timeoutMs}ms`, undefined, error);
    }
    if (error instanceof TransportClosedError) return this.failed('closed', error.message, undefined, error);
    // undici reports every transport failure as `TypeError: fetch failed` with the reason as cause.
    if (error instanceof TypeError) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return this.failed('network', `${error.message}${cause}`, undefined, error);
    }
    return error;
  }

  private failed(code: ExternalFailureCode, detail: string, status?: number, cause?: unknown): ExternalServiceError {
    return new ExternalServiceError('reranker', HTTP_RERANKER_PROVIDER, 'rerank', code, detail, status, { cause });
  }
}

export function rerankEndpoint(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return /\/v1$/.test(base) ? `${base}/rerank` : `${base}/v1/rerank`;
}

/** OpenAI (`error.message`), Cohere (`message`) and Jina/TEI (`detail`, `error`) spell it differently. */
function errorMessageOf(text: string, fallback: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const nested = body.error as { message?: unknown } | string | undefined;
    const message = (typeof nested === 'object' ? nested?.message : nested) ?? body.message ?? body.detail;
    if (typeof message === 'string' && message) return clip(message);
  } catch {
    // Not JSON: the text itself is the best description there is.
  }
  return clip(text) || fallback;
}

function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
