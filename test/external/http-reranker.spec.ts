import { AiClients, createAiClients } from '../../src/external/ai-clients.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { ExternalServiceError } from '../../src/external/external-errors.js';
import { rerankEndpoint } from '../../src/external/http-reranker.js';
import type { Reranker } from '../../src/external/reranker.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { LogCapture } from '../helpers/log-capture.js';
import { SettingsOverrides, settingsAgainst } from './ai-client-settings.js';

describe('HttpReranker against a /v1/rerank endpoint', () => {
  let fake: FakeOpenAiServer;
  const opened: AiClients[] = [];

  function rerankerWith(reranker: SettingsOverrides['reranker'] = {}): Reranker {
    const clients = createAiClients(settingsAgainst(fake, { reranker }), new ExternalCallGuard('strict'));
    opened.push(clients);
    return clients.reranker!;
  }

  beforeAll(async () => {
    new LogCapture().install();
    fake = await FakeOpenAiServer.start();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((clients) => clients.close()));
    fake.reset();
  });

  afterAll(() => fake.close());

  it('returns one score per document, in input order', async () => {
    const scores = await rerankerWith({ model: 'fake-reranker' }).rerank('cat food', ['dog toys', 'cat food brands', 'cat videos']);

    expect(scores).toEqual([0, 1, 0.5]);
    expect(fake.received('rerank')[0].body).toEqual({
      model: 'fake-reranker',
      query: 'cat food',
      documents: ['dog toys', 'cat food brands', 'cat videos'],
      top_n: 3,
    });
    expect(fake.received('rerank')[0].headers.authorization).toBe('Bearer test-key');
  });

  it('reaches /v1/rerank whether or not the base URL ends in /v1', async () => {
    await rerankerWith({ baseUrl: `${fake.url}/v1/` }).rerank('q', ['q']);

    expect(fake.requestCount('rerank')).toBe(1);
    expect(rerankEndpoint('https://api.jina.ai')).toBe('https://api.jina.ai/v1/rerank');
    expect(rerankEndpoint('https://api.jina.ai/v1')).toBe('https://api.jina.ai/v1/rerank');
  });

  it('reports an HTTP error with its status and the server message', async () => {
    fake.fail('rerank', { kind: 'status', status: 502, body: { detail: 'model is loading' } });

    const failure = rerankerWith().rerank('q', ['a']);

    await expect(failure).rejects.toBeInstanceOf(ExternalServiceError);
    await expect(failure).rejects.toMatchObject({
      client: 'reranker',
      provider: 'http',
      code: 'http',
      status: 502,
      message: expect.stringContaining('model is loading'),
    });
  });

  it('refuses an answer that leaves a document unscored', async () => {
    fake.fail('rerank', { kind: 'truncated' });

    await expect(rerankerWith().rerank('q', ['a', 'b'])).rejects.toMatchObject({
      code: 'bad-response',
      message: expect.stringContaining('scored 1 of 2 documents'),
    });
  });

  it('refuses a body that is not JSON', async () => {
    fake.fail('rerank', { kind: 'malformed-json' });

    await expect(rerankerWith().rerank('q', ['a'])).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('times out after the configured time when the server hangs', async () => {
    fake.fail('rerank', { kind: 'hang' });
    const started = Date.now();

    await expect(rerankerWith({ timeoutMs: 200 }).rerank('q', ['a'])).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('times out when the server stalls in the middle of the body', async () => {
    fake.fail('rerank', { kind: 'stall' });

    await expect(rerankerWith({ timeoutMs: 200 }).rerank('q', ['a'])).rejects.toMatchObject({ code: 'timeout' });
  }, 5000);

  it('reports a server that cannot be reached as a network failure', async () => {
    fake.fail('rerank', { kind: 'disconnect' });

    await expect(rerankerWith().rerank('q', ['a'])).rejects.toMatchObject({ code: 'network', isTransient: true });
  });

  it('makes no request for no documents', async () => {
    await expect(rerankerWith().rerank('q', [])).resolves.toEqual([]);
    expect(fake.requestCount()).toBe(0);
  });
});
