import { AiClients, createAiClients } from '../../src/external/ai-clients.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { EmbeddingDimensionError, ExternalServiceError } from '../../src/external/external-errors.js';
import { hashingVector } from '../../src/external/hashing-embedder.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { LogCapture } from '../helpers/log-capture.js';
import { SettingsOverrides, settingsAgainst, TEST_DIMENSION } from './ai-client-settings.js';

describe('OpenAiEmbedder against an OpenAI-compatible server', () => {
  let fake: FakeOpenAiServer;
  const opened: AiClients[] = [];

  function embedderWith(embedder: SettingsOverrides['embedder'] = {}) {
    const clients = createAiClients(settingsAgainst(fake, { embedder }), new ExternalCallGuard('strict'));
    opened.push(clients);
    return clients.embedder;
  }

  beforeAll(async () => {
    new LogCapture().install();
    fake = await FakeOpenAiServer.start({ embeddingDimension: TEST_DIMENSION });
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((clients) => clients.close()));
    fake.reset();
  });

  afterAll(() => fake.close());

  it('returns the server vectors in input order across batches, whatever order the server sends', async () => {
    fake.embeddingOrder = 'reversed';
    const texts = ['alpha one', 'beta two', 'gamma three', 'delta four', 'epsilon five', 'zeta six', 'eta seven'];

    const vectors = await embedderWith({ batchSize: 3 }).embed(texts);

    expect(vectors).toEqual(texts.map((text) => hashingVector(text, TEST_DIMENSION)));
    const requests = fake.received('embeddings');
    expect(requests.map((request) => request.body.input)).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    for (const request of requests) {
      expect(request.body).toMatchObject({ model: 'fake-embedding-model', encoding_format: 'float' });
      expect(request.body).not.toHaveProperty('dimensions');
      expect(request.headers.authorization).toBe('Bearer test-key');
    }
  });

  it('asks text-embedding-3 models for the configured dimension', async () => {
    fake.embeddingDimension = 1536;

    const [vector] = await embedderWith({ model: 'text-embedding-3-small' }).embed(['hello']);

    expect(vector).toHaveLength(TEST_DIMENSION);
    expect(fake.received('embeddings')[0].body.dimensions).toBe(TEST_DIMENSION);
  });

  it('retries a 500 and returns the answer of the retry', async () => {
    fake.fail('embeddings', { kind: 'status', status: 500 });

    const vectors = await embedderWith({ maxRetries: 1 }).embed(['retry me']);

    expect(vectors).toEqual([hashingVector('retry me', TEST_DIMENSION)]);
    expect(fake.requestCount('embeddings')).toBe(2);
  });

  it('reports the status once the retries are spent', async () => {
    fake.fail('embeddings', { kind: 'status', status: 503 }, { kind: 'status', status: 503 });

    const failure = embedderWith({ maxRetries: 1 }).embed(['still failing']);

    await expect(failure).rejects.toBeInstanceOf(ExternalServiceError);
    await expect(failure).rejects.toMatchObject({ client: 'embedder', provider: 'openai', code: 'http', status: 503 });
    expect(fake.requestCount('embeddings')).toBe(2);
  });

  it('does not retry a request the server rejected as invalid', async () => {
    fake.fail('embeddings', { kind: 'status', status: 400, body: { error: { message: 'input too long' } } });

    const failure = embedderWith({ maxRetries: 2 }).embed(['x']);

    await expect(failure).rejects.toMatchObject({ code: 'http', status: 400, message: expect.stringContaining('input too long') });
    expect(fake.requestCount('embeddings')).toBe(1);
  });

  it('times out after the configured time when the server hangs', async () => {
    fake.fail('embeddings', { kind: 'hang' });
    const started = Date.now();

    const failure = embedderWith({ timeoutMs: 250, maxRetries: 0 }).embed(['hang']);

    await expect(failure).rejects.toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('no response within 250ms (1 attempt)'),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('times out when the server stalls in the middle of the body, which the openai timeout does not cover', async () => {
    fake.fail('embeddings', { kind: 'stall' });
    const started = Date.now();

    const failure = embedderWith({ timeoutMs: 200, maxRetries: 0 }).embed(['stall']);

    await expect(failure).rejects.toMatchObject({ code: 'timeout', message: expect.stringContaining('retries included') });
    expect(Date.now() - started).toBeLessThan(2000);
  }, 5000);

  it('rejects vectors of another dimension with the expected and the actual size', async () => {
    fake.embeddingDimension = 8;

    const failure = embedderWith({ dimension: 16 }).embed(['wrong size']);

    await expect(failure).rejects.toBeInstanceOf(EmbeddingDimensionError);
    await expect(failure).rejects.toMatchObject({ expected: 16, got: 8, isTransient: false });
  });

  it('rejects an answer with fewer vectors than inputs', async () => {
    fake.fail('embeddings', { kind: 'truncated' });

    await expect(embedderWith().embed(['a', 'b', 'c'])).rejects.toMatchObject({
      code: 'bad-response',
      message: expect.stringContaining('returned 2 embeddings for 3 inputs'),
    });
  });

  it('rejects a body that is not JSON', async () => {
    fake.fail('embeddings', { kind: 'malformed-json' });

    await expect(embedderWith().embed(['a'])).rejects.toMatchObject({ code: 'bad-response' });
  });

  it('stops when the caller aborts', async () => {
    const release = fake.pause('embeddings');
    const controller = new AbortController();
    const arrived = fake.nextRequest('embeddings');

    const failure = embedderWith().embed(['slow'], controller.signal);
    await arrived;
    controller.abort();

    await expect(failure).rejects.toMatchObject({ code: 'aborted' });
    release();
  });

  it('makes no request for no texts', async () => {
    await expect(embedderWith().embed([])).resolves.toEqual([]);
    expect(fake.requestCount()).toBe(0);
  });
});
