import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { toHttpError } from '../../src/http/memory-exception.filter.js';
import { MemoryErrorCode } from '../../src/memory.exception.js';
import { ReflectService } from '../../src/reflect/reflect.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
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

  /** The user message of the last request the model got, as it read it. */
  const lastUserPrompt = () =>
    String(
      fake
        .received('chat')
        .at(-1)!
        .body.messages.find((message: { role: string }) => message.role === 'user').content,
    );

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

  it('tells the model when it is asked, with the weekday, and the days a memory spans', async () => {
    fake.onChat(() => ({
      facts: [
        { text: 'Alice joined Globex in March 2024.', entities: ['Alice'], occurred_start: '2024-03-01', occurred_end: '2024-03-31' },
      ],
    }));
    await app.get(RetainService).retain('dates', {
      items: [{ content: 'Alice joined Globex in March 2024.', timestamp: new Date('2024-06-01T09:00:00Z') }],
    });
    fake.onChat(() => ({ answer: 'Alice joined Globex in March 2024.', memory_ids: [] }));
    const before = Date.now();
    await app.get(ReflectService).reflect('dates', { query: 'When did Alice join Globex?' });

    const user = lastUserPrompt();
    const [, iso, weekday] = /^Now: (\S+) \(a (\w+)\)$/m.exec(user) ?? [];
    expect(new Date(iso).getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(weekday).toBe(new Date(iso).toLocaleDateString('en-GB', { weekday: 'long', timeZone: 'UTC' }));
    // A month, not its first day.
    expect(user).toContain('[2024-03-01 to 2024-03-31]: Alice joined Globex in March 2024.');
  });

  it('marks a superseded memory as such, so that the model tells the current state from history', async () => {
    // The model extracts each item as the one fact it states.
    const remember = async (content: string, at: string) => {
      fake.onChat(() => ({ facts: [{ text: content, entities: ['Evan Novak'] }] }));
      const { memoryIds } = await app.get(RetainService).retain('moves', { items: [{ content, timestamp: new Date(at) }] });
      return memoryIds[0];
    };
    const berlin = await remember('Evan Novak lives in Berlin.', '2021-05-01T10:00:00Z');
    const oslo = await remember('Evan Novak moved to Oslo.', '2024-03-01T10:00:00Z');
    fake.onChat(() => ({ answer: 'Evan lives in Oslo.', memory_ids: [oslo] }));
    await app.get(ReflectService).reflect('moves', { query: 'Where does Evan Novak live?' });

    const user = lastUserPrompt();
    expect(user).toMatch(new RegExp(`id=${berlin} .*: Evan Novak lives in Berlin\\. \\(superseded by id=${oslo}\\)$`, 'm'));
    expect(user).toMatch(new RegExp(`id=${oslo} .*: Evan Novak moved to Oslo\\.$`, 'm'));
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
