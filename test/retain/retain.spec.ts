import type { INestApplicationContext } from '@nestjs/common';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { ENTITY_NAME_MAX_LENGTH } from '../../src/entities/entity-names.js';
import { MemoryErrorCode, MemoryException } from '../../src/memory.exception.js';
import { DEFAULT_INPUT_LIMITS } from '../../src/memory.options.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import type { RetainItem } from '../../src/retain/retain.types.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { seededRandom } from '../helpers/seeded-random.js';

describe('retain without an LLM (PGlite)', () => {
  let app: INestApplicationContext;
  let retain: RetainService;
  let memories: MemoriesService;
  let operations: OperationsService;

  beforeAll(async () => {
    ({ app } = await bootStartedMemory({
      databaseUrl: 'pglite://memory/retain',
      watchdogIntervalMs: 60_000,
      operations: { pollIntervalMs: 50 },
    }));
    retain = app.get(RetainService);
    memories = app.get(MemoriesService);
    operations = app.get(OperationsService);
  });

  afterAll(async () => {
    await app.close();
  });

  it('stores one fact per sentence with its entities, and creates the bank', async () => {
    const outcome = await retain.retain('people', {
      items: [
        {
          content: 'Alice Johnson works at Acme Corp. She moved to Lisbon in 2021.',
          context: 'onboarding call',
          entities: [{ text: 'Lisbon', type: 'PLACE' }],
          tags: ['team'],
          metadata: { source: 'call' },
        },
      ],
    });
    expect(outcome).toMatchObject({ async: false, itemsCount: 1 });
    expect(outcome.memoryIds).toHaveLength(2);
    const page = await memories.list('people', { limit: 10, offset: 0 });
    const texts = page.items.map((memory) => memory.text).sort();
    expect(texts).toEqual(['Alice Johnson works at Acme Corp.', 'She moved to Lisbon in 2021.']);
    const first = page.items.find((memory) => memory.text.startsWith('Alice'))!;
    expect(first.entities.sort()).toEqual(['Acme Corp', 'Alice Johnson']);
    expect(first).toMatchObject({ context: 'onboarding call', tags: ['team'], metadata: { source: 'call' }, type: 'world' });
    const entities = await memories.listEntities('people', { limit: 10, offset: 0 });
    expect(entities.items.map((entity) => entity.canonicalName).sort()).toEqual(['acme corp', 'alice johnson', 'lisbon']);
  });

  it('replaces the memories of a document retained again, and drops entities nothing links to any more', async () => {
    await retain.retain('docs', { items: [{ content: 'Carol founded Zenith Labs. Carol likes tea.', documentId: 'notes/carol' }] });
    await retain.retain('docs', { items: [{ content: 'Carol now prefers coffee.', documentId: 'notes/carol' }] });
    const page = await memories.list('docs', { documentId: 'notes/carol', limit: 10, offset: 0 });
    expect(page.items.map((memory) => memory.text)).toEqual(['Carol now prefers coffee.']);
    const document = await memories.getDocument('docs', 'notes/carol');
    expect(document).toMatchObject({ originalText: 'Carol now prefers coffee.', memoryUnitCount: 1 });
    const entities = await memories.listEntities('docs', { limit: 10, offset: 0 });
    expect(entities.items.map((entity) => [entity.canonicalName, entity.mentionCount])).toEqual([['carol', 1]]);
  });

  it('runs an async retain through the operations worker to completion', async () => {
    const outcome = await retain.retain('queued', {
      async: true,
      items: [{ content: 'Dana plays the cello.' }, { content: 'Eve runs marathons.' }],
    });
    expect(outcome.async).toBe(true);
    const operation = await eventually(
      () => operations.get('queued', outcome.operationId!),
      (op) => op?.status === 'completed',
    );
    expect((operation!.result!.memory_ids as string[]).length).toBe(2);
    const page = await memories.list('queued', { limit: 10, offset: 0 });
    expect(page.total).toBe(2);
  });

  it('rejects empty content naming the item, and writes nothing', async () => {
    const error = await retain.retain('strict', { items: [{ content: 'fine' }, { content: '   ' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryException);
    expect(error).toMatchObject({ code: MemoryErrorCode.InvalidInput, field: 'items.1.content' });
    const database = app.get(MemoryDatabase);
    expect(await database.query(`SELECT count(*)::int AS n FROM banks WHERE id = 'strict'`)).toEqual([{ n: 0 }]);
  });

  it('refuses an id or an entity name too long to key from a host calling the service, naming the field, and writes nothing', async () => {
    const { maxDocumentIdLength } = DEFAULT_INPUT_LIMITS;
    const refusals: Array<[RetainItem, string]> = [
      [{ content: 'Greta sails.', documentId: 'd'.repeat(maxDocumentIdLength + 1) }, 'items.0.document_id'],
      [
        { content: 'Greta sails.', entities: [{ text: 'Greta' }, { text: 'G'.repeat(ENTITY_NAME_MAX_LENGTH + 1) }] },
        'items.0.entities.1.text',
      ],
    ];
    for (const [item, field] of refusals) {
      const error = await retain.retain('strict', { items: [item] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MemoryException);
      expect(error).toMatchObject({ code: MemoryErrorCode.InvalidInput, field });
    }
    const database = app.get(MemoryDatabase);
    expect(await database.query(`SELECT count(*)::int AS n FROM banks WHERE id = 'strict'`)).toEqual([{ n: 0 }]);
  });

  it('gives a sentence the time its words state and the person it refers back to, and recall finds it by that person', async () => {
    const timestamp = new Date('2026-06-15T12:00:00Z');
    const { memoryIds } = await retain.retain('pronouns', {
      items: [{ content: 'Alice Moreau joined Acme Corp as a staff engineer in March 2024. She lives in Lisbon.', timestamp }],
    });
    const [joined, lives] = await Promise.all(memoryIds.map((id) => memories.get('pronouns', id)));
    expect(joined).toMatchObject({ occurredStart: new Date('2024-03-01T00:00:00Z'), occurredEnd: new Date('2024-04-01T00:00:00Z') });
    expect(lives).toMatchObject({ text: 'She lives in Lisbon.', occurredStart: timestamp });
    expect(lives.entities.sort()).toEqual(['Alice Moreau', 'Lisbon']);

    const recalled = await app.get(RecallService).recall({ bankId: 'pronouns', query: 'Where does Alice Moreau live?' });
    expect(recalled.results.slice(0, 2).map((memory) => memory.text)).toContain('She lives in Lisbon.');
    const inMarch = await app.get(RecallService).recall({ bankId: 'pronouns', query: 'What happened in March 2024?', types: ['world'] });
    expect(inMarch.results[0].text).toBe('Alice Moreau joined Acme Corp as a staff engineer in March 2024.');
  });
});

describe('retain with an LLM (fake OpenAI-compatible server)', () => {
  let fake: FakeOpenAiServer;
  let app: INestApplicationContext;
  let retain: RetainService;
  let memories: MemoriesService;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    ({ app } = await bootStartedMemory({
      databaseUrl: 'pglite://memory/retain-llm',
      watchdogIntervalMs: 60_000,
      llm: { provider: 'openai', baseUrl: fake.baseUrl, apiKey: 'test', maxRetries: 0, timeoutMs: 5000 },
    }));
    retain = app.get(RetainService);
    memories = app.get(MemoriesService);
  });

  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('stores the facts and entities the LLM extracted', async () => {
    fake.onChat(() => ({
      facts: [
        { text: 'Frank is a pilot at Skyways.', fact_type: 'world', entities: [{ name: 'Frank', type: 'PERSON' }, 'Skyways'] },
        { text: 'I booked Frank a flight to Oslo.', fact_type: 'experience', entities: ['Frank', 'Oslo'] },
      ],
    }));
    await retain.retain('llm', { items: [{ content: 'Frank flies for Skyways; I booked him to Oslo.', documentId: 'frank' }] });
    const page = await memories.list('llm', { limit: 10, offset: 0 });
    expect(page.items.map((memory) => [memory.text, memory.type]).sort()).toEqual([
      ['Frank is a pilot at Skyways.', 'world'],
      ['I booked Frank a flight to Oslo.', 'experience'],
    ]);
  });

  it("keys a fact by the entity it opens with, and the model's 'the user' as whoever told it in the first person", async () => {
    let system = '';
    const retainFact = async (text: string, entities: string[], at: string) => {
      fake.onChat((body) => {
        system = String(body.messages[0].content);
        return { facts: [{ text, fact_type: 'world', entities }] };
      });
      const { memoryIds } = await retain.retain('llm-speaker', { items: [{ content: text, timestamp: new Date(at) }] });
      return memoryIds[0];
    };
    // The place is listed first: the subject is still whom the fact opens with.
    const berlin = await retainFact('Evan Novak lives in Berlin.', ['Berlin', 'Evan Novak'], '2021-05-01T10:00:00Z');
    const oslo = await retainFact('Evan Novak moved to Oslo.', ['Oslo', 'Evan Novak'], '2024-03-01T10:00:00Z');
    expect(await memories.get('llm-speaker', berlin)).toMatchObject({ supersededBy: oslo });
    // What a model writes as "the user" is the line "I live in Lisbon." is on without one.
    const lisbon = await retainFact('The user lives in Lisbon.', ['Lisbon'], '2023-03-01T10:00:00Z');
    const porto = await retainFact('The user moved to Porto.', ['Porto'], '2025-01-10T10:00:00Z');
    expect(await memories.get('llm-speaker', lisbon)).toMatchObject({ supersededBy: porto });
    // The model is told to write the one who says "I" so.
    expect(system).toContain('What someone tells of themselves as "I" or "my" is about "the user"');
  });

  it('splits a fact the LLM gives longer than a memory holds, as it splits content without one', async () => {
    const passage = Array.from({ length: 450 }, (_, i) => `word${i}`).join(' ');
    fake.onChat(() => ({ facts: [{ text: `Kurt quoted this: ${passage}.`, fact_type: 'world', entities: ['Kurt'] }] }));
    await retain.retain('llm-long', { items: [{ content: 'Kurt quoted a long passage.' }] });
    const page = await memories.list('llm-long', { limit: 10, offset: 0 });
    expect(page.items.length).toBeGreaterThan(1);
    expect(page.items.every((memory) => memory.text.length <= 2000 && memory.entities.includes('Kurt'))).toBe(true);
    const texts = page.items.map((memory) => memory.text).sort((a, b) => (a.startsWith('Kurt') ? -1 : b.startsWith('Kurt') ? 1 : 0));
    expect(texts.join(' ')).toBe(`Kurt quoted this: ${passage}.`);
    fake.reset();
  });

  it('removes NUL and lone surrogates from what the LLM answers, and keeps the memory', async () => {
    fake.onChat(() => ({
      facts: [{ text: 'Jana\u0000 found the key \uD800in Brno.', fact_type: 'world', entities: ['Ja\u0000na', 'Brno\uDC00'] }],
    }));
    await retain.retain('llm-unstorable', { items: [{ content: 'Jana found the key in Brno.' }] });
    const page = await memories.list('llm-unstorable', { limit: 10, offset: 0 });
    expect(page.items.map((memory) => [memory.text, memory.entities.sort()])).toEqual([['Jana found the key in Brno.', ['Brno', 'Jana']]]);
    fake.reset();
  });

  it('takes a date the LLM gives outside years 1 to 9999 as no date, and keeps the item’s time', async () => {
    fake.onChat(() => ({
      facts: [{ text: 'Ines found the coin.', fact_type: 'world', entities: ['Ines'], occurred_start: '0000-06-01T00:00:00Z' }],
    }));
    const timestamp = new Date('2026-03-01T10:00:00Z');
    await retain.retain('llm-dates', { items: [{ content: 'Ines found the coin.', timestamp }] });
    const page = await memories.list('llm-dates', { limit: 10, offset: 0 });
    expect(page.items.map((memory) => [memory.text, memory.occurredStart, memory.occurredEnd])).toEqual([
      ['Ines found the coin.', timestamp, timestamp],
    ]);
    fake.reset();
  });

  it('dates a fact by the whole day the LLM names, else by the fact’s own words, else by the item’s time', async () => {
    let user = '';
    fake.onChat((body) => {
      user = String(body.messages.find((message) => message.role === 'user')?.content);
      return {
        facts: [
          { text: 'Ines found the coin.', entities: ['Ines'], occurred_start: '2026-02-26', occurred_end: '2026-02-26' },
          { text: 'Ines cleaned the coin.', entities: ['Ines'], occurred_start: '2026-02-27' },
          { text: 'Ines polished the coin.', entities: ['Ines'], occurred_start: '2026-02-28T15:00:00Z' },
          { text: 'Ines sold the coin on 3 February 2026.', entities: ['Ines'] },
          { text: 'Ines kept the box.', entities: ['Ines'] },
        ],
      };
    });
    const timestamp = new Date('2026-03-01T10:00:00Z');
    await retain.retain('llm-days', { items: [{ content: 'Ines found a coin, cleaned, polished and sold it.', timestamp }] });
    // A model counts weekdays from an ISO date unreliably: "on Thursday" needs the day named.
    expect(user).toContain('Event time: 2026-03-01T10:00:00.000Z (a Sunday)');
    const page = await memories.list('llm-days', { limit: 10, offset: 0 });
    const dated = Object.fromEntries(page.items.map((memory) => [memory.text, [memory.occurredStart, memory.occurredEnd]]));
    expect(dated).toEqual({
      'Ines found the coin.': [new Date('2026-02-26T00:00:00Z'), new Date('2026-02-27T00:00:00Z')],
      'Ines cleaned the coin.': [new Date('2026-02-27T00:00:00Z'), new Date('2026-02-28T00:00:00Z')],
      'Ines polished the coin.': [new Date('2026-02-28T15:00:00Z'), new Date('2026-02-28T15:00:00Z')],
      'Ines sold the coin on 3 February 2026.': [new Date('2026-02-03T00:00:00Z'), new Date('2026-02-04T00:00:00Z')],
      'Ines kept the box.': [timestamp, timestamp],
    });
    fake.reset();
  });

  it('keeps the memory and leaves out an entity name the LLM made too long to key', async () => {
    // Ideographs are three bytes each and do not compress: 1,000 of them are more than an index entry holds.
    const random = seededRandom(61);
    const title = Array.from({ length: 1000 }, () => String.fromCodePoint(0x4e00 + Math.floor(random() * 0x5000))).join('');
    fake.onChat(() => ({ facts: [{ text: `Frank read ${title}.`, fact_type: 'world', entities: ['Frank', title] }] }));
    await retain.retain('long-names', { items: [{ content: `Frank read ${title}.` }] });
    const page = await memories.list('long-names', { limit: 10, offset: 0 });
    expect(page.items.map((memory) => [memory.text, memory.entities])).toEqual([[`Frank read ${title}.`, ['Frank']]]);
    const entities = await memories.listEntities('long-names', { limit: 10, offset: 0 });
    expect(entities.items.map((entity) => entity.canonicalName)).toEqual(['frank']);
    fake.reset();
  });

  it.each([
    ['content that is not JSON', MemoryErrorCode.LlmOutputInvalid, () => fake.onChat(() => 'Sure! Here are the facts: Frank retired.')],
    ['empty content', MemoryErrorCode.LlmOutputInvalid, () => fake.fail('chat', { kind: 'empty' })],
    ['no facts', MemoryErrorCode.LlmOutputInvalid, () => fake.onChat(() => ({ facts: [] }))],
    ['wrong shape', MemoryErrorCode.LlmOutputInvalid, () => fake.onChat(() => ({ facts: [{ nope: 1 }] }))],
    ['a response body cut off mid-JSON', MemoryErrorCode.ExternalServiceFailed, () => fake.fail('chat', { kind: 'malformed-json' })],
    ['HTTP 500', MemoryErrorCode.ExternalServiceFailed, () => fake.fail('chat', { kind: 'status', status: 500 })],
  ])('keeps the document as it was when the LLM answers with %s', async (_label, code, misbehave) => {
    misbehave();
    const error = await retain.retain('llm', { items: [{ content: 'Frank retired.', documentId: 'frank' }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code, retryable: true });
    const page = await memories.list('llm', { documentId: 'frank', limit: 10, offset: 0 });
    expect(page.items.map((memory) => memory.text).sort()).toEqual(['Frank is a pilot at Skyways.', 'I booked Frank a flight to Oslo.']);
    fake.reset();
  });
});
