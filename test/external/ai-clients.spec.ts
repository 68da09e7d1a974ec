import { z } from 'zod';
import { createAiClients, DEFAULT_AI_CLIENT_SETTINGS } from '../../src/external/ai-clients.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { ExternalServiceError } from '../../src/external/external-errors.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';
import { settingsAgainst, TEST_DIMENSION } from './ai-client-settings.js';

describe('AiClients', () => {
  let fake: FakeOpenAiServer;
  let logs: LogCapture;

  beforeAll(async () => {
    logs = new LogCapture().install();
    fake = await FakeOpenAiServer.start({ embeddingDimension: TEST_DIMENSION });
  });

  afterEach(() => fake.reset());

  afterAll(() => fake.close());

  it('defaults to the hashing embedder, no LLM and no reranker', async () => {
    const clients = createAiClients(DEFAULT_AI_CLIENT_SETTINGS, new ExternalCallGuard());
    try {
      expect(clients.embedder).toMatchObject({ provider: 'hashing', dimension: 384 });
      expect(clients.llm).toBeNull();
      expect(clients.reranker).toBeNull();
      await expect(clients.embedder.embed(['offline'])).resolves.toHaveLength(1);
    } finally {
      await clients.close();
    }
  });

  it('logs what it talks to, without the keys', async () => {
    const settings = settingsAgainst(fake, { llm: { apiKey: 'sk-secret-llm' }, embedder: { apiKey: 'sk-secret-embedder' } });
    const clients = createAiClients(settings, new ExternalCallGuard());
    await clients.close();

    const line = logs.lines.filter((each) => each.startsWith('AI clients:')).at(-1);
    expect(line).toContain(`embedder openai fake-embedding-model/${TEST_DIMENSION} at ${fake.baseUrl}`);
    expect(line).toContain('llm openai gpt-4o-mini');
    expect(line).toContain('reranker http');
    expect(line).not.toContain('sk-secret');
  });

  it('keeps its connections alive and shares them between the clients', async () => {
    const clients = createAiClients(settingsAgainst(fake), new ExternalCallGuard());
    const acceptedBefore = fake.acceptedConnections;
    try {
      for (let round = 0; round < 3; round++) {
        await clients.embedder.embed([`round ${round}`]);
        await clients.llm!.completeJson({ operation: 'probe', system: 'JSON', user: 'x', schema: anyObject() });
        await clients.reranker!.rerank('q', ['d']);
      }

      expect(fake.requestCount()).toBe(9);
      // undici may open a second socket while the first is being handed back, never one per call.
      expect(fake.acceptedConnections - acceptedBefore).toBeLessThanOrEqual(2);
    } finally {
      await clients.close();
    }
  });

  it('close() aborts a call in flight instead of waiting for it, and drops every connection', async () => {
    const clients = createAiClients(settingsAgainst(fake, { embedder: { maxRetries: 2, timeoutMs: 10_000 } }), new ExternalCallGuard());
    fake.pause('embeddings');
    const arrived = fake.nextRequest('embeddings');
    const inFlight = clients.embedder.embed(['never answered']);
    await arrived;

    await clients.close();

    await expect(inFlight).rejects.toBeInstanceOf(ExternalServiceError);
    await expect(inFlight).rejects.toMatchObject({ code: 'closed', isTransient: false });
    // Not retried on a fresh connection: the one request is all the server ever saw.
    expect(fake.requestCount('embeddings')).toBe(1);
    await eventually(
      () => fake.openConnections,
      (open) => open === 0,
    );
    await eventually(
      () => fake.inFlight(),
      (count) => count === 0,
    );
  });

  it('close() is idempotent, and later calls fail at once without reaching the server', async () => {
    const clients = createAiClients(settingsAgainst(fake), new ExternalCallGuard());
    await clients.embedder.embed(['warm up']);

    await Promise.all([clients.close(), clients.close()]);
    await clients.close();

    await expect(clients.embedder.embed(['too late'])).rejects.toMatchObject({ code: 'closed' });
    await expect(clients.llm!.completeJson({ operation: 'late', system: 'JSON', user: 'x', schema: anyObject() })).rejects.toMatchObject({
      code: 'closed',
    });
    await expect(clients.reranker!.rerank('q', ['d'])).rejects.toMatchObject({ code: 'closed' });
    expect(fake.requestCount()).toBe(1);
    expect(logs.lines.filter((line) => line === 'AI client HTTP agent closed').length).toBeGreaterThanOrEqual(1);
  });

  it('refuses an http reranker without a base URL', () => {
    const settings = { ...DEFAULT_AI_CLIENT_SETTINGS, reranker: { ...DEFAULT_AI_CLIENT_SETTINGS.reranker, provider: 'http' as const } };

    expect(() => createAiClients(settings, new ExternalCallGuard())).toThrow(/needs a baseUrl/);
  });
});

function anyObject() {
  return z.record(z.string(), z.unknown());
}
