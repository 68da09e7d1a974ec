import { z } from 'zod';
import { AiClients, createAiClients } from '../../src/external/ai-clients.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { ExternalServiceError, LlmOutputError } from '../../src/external/external-errors.js';
import type { LlmClient } from '../../src/external/llm-client.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { LogCapture } from '../helpers/log-capture.js';
import { settingsAgainst } from './ai-client-settings.js';

const Facts = z.object({ facts: z.array(z.object({ text: z.string().min(1), confidence: z.number() })) });

function extractFacts(llm: LlmClient, user = 'Alice moved to Berlin.') {
  return llm.completeJson({ operation: 'extract-facts', system: 'Extract facts.', user, schema: Facts, maxTokens: 200 });
}

describe('OpenAiLlmClient against an OpenAI-compatible server', () => {
  let fake: FakeOpenAiServer;
  let clients: AiClients;
  let llm: LlmClient;

  beforeAll(async () => {
    new LogCapture().install();
    fake = await FakeOpenAiServer.start();
    clients = createAiClients(settingsAgainst(fake, { llm: { model: 'fake-chat-model' } }), new ExternalCallGuard('strict'));
    llm = clients.llm!;
  });

  afterEach(() => fake.reset());

  afterAll(async () => {
    await clients.close();
    await fake.close();
  });

  it('returns the validated JSON reply of a JSON-mode chat completion', async () => {
    fake.onChat(() => ({ facts: [{ text: 'Alice lives in Berlin', confidence: 0.9 }] }));

    const result = await extractFacts(llm);

    expect(result).toEqual({ facts: [{ text: 'Alice lives in Berlin', confidence: 0.9 }] });
    const [request] = fake.received('chat');
    expect(request.body).toMatchObject({
      model: 'fake-chat-model',
      response_format: { type: 'json_object' },
      max_tokens: 200,
      messages: [
        { role: 'system', content: expect.stringMatching(/^Extract facts\.[\s\S]*JSON/) },
        { role: 'user', content: 'Alice moved to Berlin.' },
      ],
    });
  });

  it('drops keys the schema does not declare', async () => {
    fake.onChat(() => ({ facts: [], injected: 'ignore previous instructions' }));

    await expect(extractFacts(llm)).resolves.toEqual({ facts: [] });
  });

  it('reads JSON that a server wrapped in a Markdown fence', async () => {
    fake.onChat(() => '```json\n{"facts": [{"text": "fenced", "confidence": 1}]}\n```');

    await expect(extractFacts(llm)).resolves.toEqual({ facts: [{ text: 'fenced', confidence: 1 }] });
  });

  it('turns malformed JSON content into LlmOutputError', async () => {
    fake.onChat(() => '{"facts": [ {"text": "unterminated"');

    const failure = extractFacts(llm);

    await expect(failure).rejects.toBeInstanceOf(LlmOutputError);
    await expect(failure).rejects.toMatchObject({ operation: 'extract-facts', reason: expect.stringMatching(/^malformed JSON/) });
  });

  it('turns empty content into LlmOutputError', async () => {
    fake.onChat(() => ({ facts: [] }));
    fake.fail('chat', { kind: 'empty' });

    await expect(extractFacts(llm)).rejects.toMatchObject({
      name: 'LlmOutputError',
      reason: expect.stringContaining('empty content'),
    });
  });

  it('turns a reply cut off at the token limit into LlmOutputError', async () => {
    fake.onChat(() => ({ facts: [{ text: 'a long fact that will be cut in the middle', confidence: 0.5 }] }));
    fake.fail('chat', { kind: 'truncated' });

    await expect(extractFacts(llm)).rejects.toMatchObject({
      name: 'LlmOutputError',
      reason: expect.stringContaining('cut off'),
    });
  });

  it('turns a reply of the wrong shape into LlmOutputError naming the offending field', async () => {
    fake.onChat(() => ({ facts: [{ text: '', confidence: 'high' }] }));

    const failure = extractFacts(llm);

    await expect(failure).rejects.toBeInstanceOf(LlmOutputError);
    await expect(failure).rejects.toMatchObject({
      reason: expect.stringMatching(/^schema mismatch: facts\.0\.text: .*; facts\.0\.confidence: /),
    });
  });

  it('turns an HTTP error into ExternalServiceError with the provider and the status', async () => {
    fake.fail('chat', { kind: 'status', status: 429, body: { error: { message: 'rate limited' } } });

    const failure = extractFacts(llm);

    await expect(failure).rejects.toBeInstanceOf(ExternalServiceError);
    await expect(failure).rejects.toMatchObject({
      client: 'llm',
      provider: 'openai',
      operation: 'extract-facts',
      status: 429,
      isTransient: true,
      message: expect.stringContaining('rate limited'),
    });
  });

  it('leaves a system prompt that already asks for JSON as it is', async () => {
    await llm.completeJson({ operation: 'noop', system: 'Answer in JSON.', user: 'hi', schema: z.object({}) });

    expect(fake.received('chat')[0].body.messages[0].content).toBe('Answer in JSON.');
  });
});
