import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { toHttpError } from '../../src/http/memory-exception.filter.js';
import { MemoryErrorCode } from '../../src/memory.exception.js';
import { ReflectService } from '../../src/reflect/reflect.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { bootOnPglite } from '../helpers/memory-app.js';
import { seedTexts } from '../helpers/recall-fixtures.js';

function boot(llm?: { baseUrl: string }): Promise<INestApplicationContext> {
  return bootOnPglite('reflect', {}, llm?.baseUrl);
}

const seed = seedTexts;

describe('reflect with an LLM', () => {
  let fake: FakeOpenAiServer;
  let app: INestApplicationContext;
  let ids: string[];

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    app = await boot({ baseUrl: fake.baseUrl });
    ids = await seed(app, 'mind', ['Alice works at Globex as an engineer.', 'Alice lives in Lisbon.', 'Bob likes tea.']);
  });

  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  afterEach(() => {
    fake.reset();
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('keeps only the cited ids that recall returned', async () => {
    const hallucinated = randomUUID();
    fake.onChat(() => ({ answer: 'Alice is an engineer at Globex.', memory_ids: [ids[0], hallucinated, ids[0]] }));

    const outcome = await app.get(ReflectService).reflect('mind', { query: 'Where does Alice work?' });

    expect(outcome).toMatchObject({ text: 'Alice is an engineer at Globex.', extractive: false });
    expect(outcome.basedOn.map((fact) => fact.id)).toEqual([ids[0]]);
    expect(outcome.basedOn[0]).toMatchObject({ text: 'Alice works at Globex as an engineer.', type: 'world' });
    const [request] = fake.received('chat');
    expect(JSON.stringify(request.body.messages)).toContain(ids[0]);
  });

  it('answers an unusable LLM reply with a 502, never an empty answer', async () => {
    const reflect = () => app.get(ReflectService).reflect('mind', { query: 'Where does Alice work?' });
    fake.onChat(() => 'Alice works at Globex, I think.');
    const notJson = await reflect().catch((error: unknown) => error);
    expect(notJson).toMatchObject({ code: MemoryErrorCode.LlmOutputInvalid });
    expect(toHttpError(notJson).status).toBe(502);

    fake.onChat(() => ({ answer: '   ', memory_ids: [] }));
    await expect(reflect()).rejects.toMatchObject({ code: MemoryErrorCode.LlmOutputInvalid });

    fake.fail('chat', { kind: 'malformed-json' });
    const cutOff = await reflect().catch((error: unknown) => error);
    expect(toHttpError(cutOff).status).toBe(502);
  });

  it('refuses an unknown bank', async () => {
    await expect(app.get(ReflectService).reflect('no-such-bank', { query: 'anything at all' })).rejects.toMatchObject({
      code: MemoryErrorCode.BankNotFound,
    });
  });
});

describe('reflect without an LLM', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    app = await boot();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers extractively from the best memories, with them as based_on', async () => {
    const ids = await seed(app, 'plain', ['Carol keeps bees in Porto.', 'Carol sells honey at the market.', 'Dave repairs bicycles.']);

    const outcome = await app.get(ReflectService).reflect('plain', { query: 'What does Carol do with bees and honey?' });

    expect(outcome.extractive).toBe(true);
    expect(outcome.text).toContain('- Carol keeps bees in Porto.');
    expect(outcome.basedOn.length).toBeGreaterThan(0);
    expect(
      outcome.basedOn
        .slice(0, 2)
        .map((fact) => fact.id)
        .sort(),
    ).toEqual(ids.slice(0, 2).sort());
    for (const fact of outcome.basedOn) expect(outcome.text).toContain(fact.text);
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it("checks the bank on recall's connection: one checkout per reflect", async () => {
    await seed(app, 'one-scope', ['Erin rows on the river at dawn.']);
    const database = app.get(MemoryDatabase);
    // Only the scopes reflect opened: the background workers open their own meanwhile.
    const fromReflect: number[] = [];
    const spy = jest.spyOn(database, 'withConnection').mockImplementation(function (this: MemoryDatabase, work) {
      if (/ReflectService/.test(new Error().stack ?? '')) fromReflect.push(1);
      return MemoryDatabase.prototype.withConnection.call(this, work) as ReturnType<MemoryDatabase['withConnection']>;
    });
    try {
      const outcome = await app.get(ReflectService).reflect('one-scope', { query: 'Who rows on the river?' });
      expect(outcome.basedOn.map((fact) => fact.text)).toEqual(['Erin rows on the river at dawn.']);
      expect(fromReflect).toHaveLength(1);
      await expect(app.get(ReflectService).reflect('no-such-bank', { query: 'Who rows?' })).rejects.toMatchObject({
        code: MemoryErrorCode.BankNotFound,
      });
    } finally {
      spy.mockRestore();
    }
  });
});
