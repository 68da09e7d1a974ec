import {
  AiClientSettings,
  DEFAULT_AI_CLIENT_SETTINGS,
  EmbedderSettings,
  LlmSettings,
  RerankerSettings,
} from '../../src/external/ai-clients.js';
import type { FakeOpenAiServer } from '../helpers/fake-openai-server.js';

export const TEST_DIMENSION = 32;

export interface SettingsOverrides {
  embedder?: Partial<EmbedderSettings>;
  llm?: Partial<LlmSettings>;
  reranker?: Partial<RerankerSettings>;
}

/**
 * Every client switched on and pointed at the fake, with short timeouts and no retries unless a
 * test asks for them, so that a failure shows up in milliseconds rather than after a backoff.
 */
export function settingsAgainst(fake: FakeOpenAiServer, overrides: SettingsOverrides = {}): AiClientSettings {
  return {
    embedder: {
      ...DEFAULT_AI_CLIENT_SETTINGS.embedder,
      provider: 'openai',
      model: 'fake-embedding-model',
      dimension: TEST_DIMENSION,
      baseUrl: fake.baseUrl,
      apiKey: 'test-key',
      timeoutMs: 2000,
      maxRetries: 0,
      ...overrides.embedder,
    },
    llm: {
      ...DEFAULT_AI_CLIENT_SETTINGS.llm,
      provider: 'openai',
      baseUrl: fake.baseUrl,
      apiKey: 'test-key',
      timeoutMs: 2000,
      maxRetries: 0,
      ...overrides.llm,
    },
    reranker: {
      ...DEFAULT_AI_CLIENT_SETTINGS.reranker,
      provider: 'http',
      baseUrl: fake.url,
      apiKey: 'test-key',
      timeoutMs: 2000,
      ...overrides.reranker,
    },
  };
}
