import type OpenAI from 'openai';
import type { Embedder } from './embedder.js';
import type { ExternalCallGuard } from './external-call-guard.js';
import { EmbeddingDimensionError, ExternalServiceError } from './external-errors.js';
import type { HttpTransport } from './http-transport.js';
import { OPENAI_PROVIDER, OpenAiConnectionSettings, requestOpenAi } from './openai-request.js';

export interface OpenAiEmbedderSettings extends OpenAiConnectionSettings {
  model: string;
  dimension: number;
  /** Texts per request; large batches are fast but one bad text fails all of them. */
  batchSize: number;
}

/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint, checked before they are
 * trusted: a vector of the wrong size would poison the index, and a reordered one would attach
 * a text's meaning to another row.
 */
export class OpenAiEmbedder implements Embedder {
  readonly provider = 'openai' as const;
  readonly dimension: number;

  constructor(
    private readonly client: OpenAI,
    private readonly settings: OpenAiEmbedderSettings,
    private readonly guard: ExternalCallGuard,
    private readonly transport: HttpTransport,
  ) {
    requirePositiveInteger('dimension', settings.dimension);
    requirePositiveInteger('batchSize', settings.batchSize);
    this.dimension = settings.dimension;
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.guard.call('embedder', 'embed', async () => {
      const vectors: number[][] = [];
      // One batch at a time: the provider's rate limit is the bottleneck, not our latency.
      for (let start = 0; start < texts.length; start += this.settings.batchSize) {
        const batch = texts.slice(start, start + this.settings.batchSize);
        for (const vector of await this.embedBatch(batch, signal)) vectors.push(vector);
      }
      return vectors;
    });
  }

  private async embedBatch(batch: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    const call = { client: 'embedder' as const, operation: 'embed', settings: this.settings, transport: this.transport, signal };
    const response = await requestOpenAi(call, (callSignal) =>
      this.client.embeddings.create(
        {
          model: this.settings.model,
          input: batch,
          // Without it openai 6.x asks for base64 and decodes whatever comes back, so a server
          // that ignores the parameter and sends floats yields garbage instead of an error.
          encoding_format: 'float',
          ...this.dimensionsParameter(),
        },
        { signal: callSignal },
      ),
    );
    return this.vectorsInInputOrder(response.data as unknown, batch.length);
  }

  /**
   * OpenAI's text-embedding-3 models can shorten their vectors to the configured size; other
   * models and servers may reject the parameter, so they get none and are checked instead.
   */
  private dimensionsParameter(): { dimensions?: number } {
    return /^text-embedding-3/.test(this.settings.model) ? { dimensions: this.settings.dimension } : {};
  }

  private vectorsInInputOrder(data: unknown, inputCount: number): number[][] {
    if (!Array.isArray(data)) throw this.badResponse('response has no data array');
    if (data.length !== inputCount) {
      throw this.badResponse(`returned ${data.length} embeddings for ${inputCount} inputs`);
    }
    const vectors = new Array<number[] | undefined>(inputCount);
    for (const item of data as Array<{ index?: unknown; embedding?: unknown }>) {
      const index = item?.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= inputCount || vectors[index]) {
        throw this.badResponse(`embedding index ${String(index)} is missing, out of range or repeated`);
      }
      vectors[index] = this.checkedVector(item.embedding, index);
    }
    return vectors as number[][];
  }

  private checkedVector(embedding: unknown, index: number): number[] {
    if (!Array.isArray(embedding)) throw this.badResponse(`embedding ${index} is not an array of numbers`);
    if (embedding.length !== this.dimension) {
      throw new EmbeddingDimensionError(OPENAI_PROVIDER, this.settings.model, this.dimension, embedding.length);
    }
    if (!embedding.every((value) => typeof value === 'number' && Number.isFinite(value))) {
      throw this.badResponse(`embedding ${index} holds a value that is not a finite number`);
    }
    return embedding as number[];
  }

  private badResponse(detail: string): ExternalServiceError {
    return new ExternalServiceError('embedder', OPENAI_PROVIDER, 'embed', 'bad-response', detail);
  }
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`openai embedder ${name} must be a positive integer, got ${value}`);
  }
}
