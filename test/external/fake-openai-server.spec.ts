import { hashingVector } from '../../src/external/hashing-embedder.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';

/** The harness later tests build races on: it must do exactly what it says. */
describe('FakeOpenAiServer', () => {
  let fake: FakeOpenAiServer;

  function post(path: string, body: unknown): Promise<Response> {
    return fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  // The replies are OpenAI's shapes, asserted on field by field.
  async function postJson(path: string, body: unknown): Promise<any> {
    return (await post(path, body)).json();
  }

  beforeEach(async () => {
    fake = await FakeOpenAiServer.start({ embeddingDimension: 8 });
  });

  afterEach(() => fake.close());

  it('serves hashing vectors as floats or as base64 float32', async () => {
    const floats = await postJson('/v1/embeddings', { model: 'm', input: ['hello world'], encoding_format: 'float' });
    const base64 = await postJson('/v1/embeddings', { model: 'm', input: 'hello world', encoding_format: 'base64' });

    const expected = hashingVector('hello world', 8);
    expect(floats.data[0]).toEqual({ object: 'embedding', index: 0, embedding: expected });
    const decoded = Array.from(new Float32Array(Uint8Array.from(Buffer.from(base64.data[0].embedding, 'base64')).buffer));
    expect(decoded).toHaveLength(8);
    decoded.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
  });

  it('holds paused requests, counted as in flight, until released', async () => {
    const release = fake.pause('chat');
    const arrived = fake.nextRequest('chat');

    let answered = false;
    const answer = post('/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }).finally(
      () => (answered = true),
    );
    const request = await arrived;

    // In flight is the server's own count of requests it has not answered: held, not slow.
    expect(request.body.messages[0].content).toBe('hi');
    expect(fake.inFlight('chat')).toBe(1);
    expect(answered).toBe(false);
    expect(fake.requestCount('chat')).toBe(1);
    release();
    const body = (await (await answer).json()) as any;
    expect(body.choices[0].message.content).toBe('{}');
    expect(fake.inFlight()).toBe(0);
  });

  it('holds a request only by the gates closed when it arrived', async () => {
    const first = fake.pause('embeddings');
    const arrived = fake.nextRequest('embeddings');
    const answer = post('/v1/embeddings', { model: 'm', input: ['x'] });
    await arrived;
    fake.pause('embeddings');

    first();

    expect((await answer).status).toBe(200);
  });

  it('does not hold other routes while one is paused', async () => {
    fake.pause('chat');

    const response = await postJson('/v1/rerank', { query: 'a b', documents: ['a', 'c'] });

    expect(response.results).toEqual([
      { index: 0, relevance_score: 0.5 },
      { index: 1, relevance_score: 0 },
    ]);
  });

  it('applies faults one per request, in order, then answers normally', async () => {
    fake.fail('embeddings', { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, { kind: 'empty' });

    const first = await post('/v1/embeddings', { model: 'm', input: ['x'] });
    const second = await postJson('/v1/embeddings', { model: 'm', input: ['x'] });
    const third = await postJson('/v1/embeddings', { model: 'm', input: ['x'] });

    expect([first.status, first.headers.get('retry-after')]).toEqual([429, '1']);
    expect(second.data).toEqual([]);
    expect(third.data).toHaveLength(1);
  });

  it('answers a hung request normally once released', async () => {
    fake.fail('rerank', { kind: 'hang' });
    const arrived = fake.nextRequest('rerank');
    const answer = post('/v1/rerank', { query: 'q', documents: ['q'] });
    await arrived;

    fake.releaseHung();

    expect((await answer).status).toBe(200);
  });

  it('delays answers by the configured latency', async () => {
    fake.setLatency('embeddings', 150);
    const started = Date.now();

    await post('/v1/embeddings', { model: 'm', input: ['slow'] });

    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('answers an unknown route with 404', async () => {
    expect((await post('/v1/completions', {})).status).toBe(404);
    expect(fake.requestCount()).toBe(0);
  });

  it('closes at once, whatever requests it still holds', async () => {
    fake.pause('all');
    const held = post('/v1/chat/completions', { model: 'm', messages: [] }).catch((error: unknown) => error);
    await fake.nextRequest('chat');
    const started = Date.now();

    await fake.close();

    expect(Date.now() - started).toBeLessThan(500);
    // fetch's TypeError comes from another realm than the test's, so match it by message.
    expect(await held).toMatchObject({ message: 'fetch failed' });
    expect(fake.openConnections).toBe(0);
  });
});
