import { Logger } from '@nestjs/common';
import type { Embedder } from './embedder.js';
import type { ExternalCallGuard } from './external-call-guard.js';
import { HashingEmbedder } from './hashing-embedder.js';
import { HttpReranker } from './http-reranker.js';
import { HttpTransport } from './http-transport.js';
import type { LlmClient } from './llm-client.js';
import { OpenAiEmbedder } from './openai-embedder.js';
import { OpenAiLlmClient } from './openai-llm-client.js';
import { createOpenAiClient } from './openai-request.js';
import type { Reranker } from './reranker.js';

export interface EmbedderSettings {
  provider: 'hashing' | 'openai';
  /**
   * Fixed for the life of a store: the vector columns are created with it. HNSW indexes read up to
   * 2,000 dimensions as `vector`, up to 4,000 as `halfvec`; beyond that recall scans exactly.
   */
  dimension: number;
  model: string;
  /** Including `/v1`, as the openai client expects. */
  baseUrl?: string;
  apiKey?: string;
  /** Per attempt, up to the response headers. */
  timeoutMs: number;
  maxRetries: number;
  batchSize: number;
}

export interface LlmSettings {
  provider: 'none' | 'openai';
  model: string;
  /** Including `/v1`, as the openai client expects. */
  baseUrl?: string;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
}

export interface RerankerSettings {
  provider: 'none' | 'http';
  /** With or without `/v1`; the call goes to `…/v1/rerank`. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
}

export interface AiClientSettings {
  embedder: EmbedderSettings;
  llm: LlmSettings;
  reranker: RerankerSettings;
}

/**
 * Works with nothing outside the process: hashing embeddings, no LLM, no reranker. The model
 * names only matter once a provider is switched on. Timeouts of 30 s and two retries instead of
 * the openai client's ten minutes: a worker stuck on one call holds its lease for as long.
 */
export const DEFAULT_AI_CLIENT_SETTINGS: Readonly<AiClientSettings> = Object.freeze({
  embedder: Object.freeze({
    provider: 'hashing',
    dimension: 384,
    model: 'text-embedding-3-small',
    timeoutMs: 30_000,
    maxRetries: 2,
    batchSize: 64,
  }),
  llm: Object.freeze({ provider: 'none', model: 'gpt-4o-mini', timeoutMs: 30_000, maxRetries: 2 }),
  reranker: Object.freeze({ provider: 'none', model: 'BAAI/bge-reranker-v2-m3', timeoutMs: 30_000 }),
});

/**
 * The embedder, the LLM and the reranker, and the one keep-alive HTTP agent they share.
 * `close()` is the `ai-clients` teardown step: it aborts calls still in flight and drops every
 * socket; it is idempotent.
 */
export class AiClients {
  constructor(
    readonly embedder: Embedder,
    readonly llm: LlmClient | null,
    readonly reranker: Reranker | null,
    private readonly transport: HttpTransport,
  ) {}

  /**
   * A static rather than only a function so that a startup-failure test can make it throw.
   * `decorateLlm` wraps the LLM client the module uses (the tracing client).
   */
  static create(settings: AiClientSettings, guard: ExternalCallGuard, decorateLlm?: (llm: LlmClient) => LlmClient): AiClients {
    const transport = new HttpTransport();
    let clients: AiClients;
    try {
      const llm = createLlm(settings.llm, guard, transport);
      clients = new AiClients(
        createEmbedder(settings.embedder, guard, transport),
        llm && decorateLlm ? decorateLlm(llm) : llm,
        createReranker(settings.reranker, guard, transport),
        transport,
      );
    } catch (error) {
      // Nobody will ever hold the transport to close it: the caller only sees the error.
      void transport.close();
      throw error;
    }
    new Logger(AiClients.name).log(`AI clients: ${summaryOf(settings)}`);
    return clients;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

export function createAiClients(
  settings: AiClientSettings,
  guard: ExternalCallGuard,
  decorateLlm?: (llm: LlmClient) => LlmClient,
): AiClients {
  return AiClients.create(settings, guard, decorateLlm);
}

function createEmbedder(settings: EmbedderSettings, guard: ExternalCallGuard, transport: HttpTransport): Embedder {
  switch (settings.provider) {
    case 'hashing':
      return new HashingEmbedder(guard, settings.dimension);
    case 'openai':
      return new OpenAiEmbedder(createOpenAiClient(settings, transport), settings, guard, transport);
  }
}

function createLlm(settings: LlmSettings, guard: ExternalCallGuard, transport: HttpTransport): LlmClient | null {
  switch (settings.provider) {
    case 'none':
      return null;
    case 'openai':
      return new OpenAiLlmClient(createOpenAiClient(settings, transport), settings, guard, transport);
  }
}

function createReranker(settings: RerankerSettings, guard: ExternalCallGuard, transport: HttpTransport): Reranker | null {
  switch (settings.provider) {
    case 'none':
      return null;
    case 'http':
      if (!settings.baseUrl) throw new Error("reranker provider 'http' needs a baseUrl");
      return new HttpReranker({ ...settings, baseUrl: settings.baseUrl }, guard, transport);
  }
}

/** One line for the startup log; never the keys. */
function summaryOf({ embedder, llm, reranker }: AiClientSettings): string {
  const where = (baseUrl?: string) => (baseUrl ? ` at ${withoutCredentials(baseUrl)}` : '');
  const parts = [
    embedder.provider === 'hashing'
      ? `embedder hashing/${embedder.dimension}`
      : `embedder openai ${embedder.model}/${embedder.dimension}${where(embedder.baseUrl)}`,
    llm.provider === 'none' ? 'llm none' : `llm openai ${llm.model}${where(llm.baseUrl)}`,
    reranker.provider === 'none' ? 'reranker none' : `reranker http ${reranker.model}${where(reranker.baseUrl)}`,
  ];
  return parts.join(', ');
}

function withoutCredentials(baseUrl: string): string {
  return baseUrl.replace(/\/\/[^/@]*@/, '//***@');
}
