import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { observations } from './consolidation-fixtures.js';

interface Shown {
  id: string;
  text: string;
  time?: string;
  scope?: number;
  scopes?: number[];
}

/** The user message of a consolidation request, as the LLM sees it. */
interface ConsolidationPrompt {
  scopes: Array<{ scope: number; tags: string[] }>;
  memories: Shown[];
  observations: Shown[];
  older_memories: Shown[];
}

type Script = (prompt: ConsolidationPrompt) => object;

const HALLUCINATED = '00000000-0000-4000-8000-000000000000';
const DIMENSION = 128;

/**
 * Supersession stated by the LLM during consolidation, with the real `openai` client against the
 * fake server. Retain asks the same fake to extract facts: it echoes the content as one fact about
 * the name it opens with, so each memory's text is exactly what the test retained.
 */
describe('supersession stated by the LLM (PGlite, fake OpenAI server)', () => {
  let fake: FakeOpenAiServer;
  let app: INestApplicationContext;
  let consolidation: ConsolidationService;
  let retain: RetainService;
  let memories: MemoriesService;
  let recall: RecallService;
  let script: Script = () => ({});
  let prompts: Array<{ system: string; prompt: ConsolidationPrompt }> = [];

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ embeddingDimension: DIMENSION });
    fake.onChat((body: ChatRequestBody) => {
      const system = String(body.messages[0].content);
      const user = String(body.messages.at(-1)!.content);
      if (system.includes('extract durable facts')) {
        const content = user.split('Content:\n')[1].trim();
        const name = /^\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+)?/u.exec(content)?.[0];
        return { facts: [{ text: content, fact_type: 'world', entities: name ? [{ name, type: 'person' }] : [] }] };
      }
      const prompt = JSON.parse(user) as ConsolidationPrompt;
      prompts.push({ system, prompt });
      return script(prompt);
    });
    const booted = await bootStartedMemory({
      databaseUrl: `pglite://memory/llm-supersession-${process.pid}-${Date.now()}`,
      watchdogIntervalMs: 60_000,
      embedder: {
        provider: 'openai',
        model: 'fake-embedding',
        dimension: DIMENSION,
        baseUrl: fake.baseUrl,
        apiKey: 'k',
        maxRetries: 0,
        timeoutMs: 5000,
      },
      llm: { provider: 'openai', model: 'fake-llm', baseUrl: fake.baseUrl, apiKey: 'k', maxRetries: 0, timeoutMs: 5000 },
      consolidation: { cron: null, batchSize: 25, maxAttempts: 2 },
    });
    app = booted.app;
    consolidation = app.get(ConsolidationService);
    retain = app.get(RetainService);
    memories = app.get(MemoriesService);
    recall = app.get(RecallService);
  });

  beforeEach(() => {
    script = () => ({});
    prompts = [];
  });

  afterEach(() => {
    fake.releaseHung();
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  async function remember(bankId: string, content: string, at: string, tags: string[] = [], documentId?: string): Promise<string> {
    const { memoryIds } = await retain.retain(bankId, { items: [{ content, timestamp: new Date(at), tags, documentId }] });
    expect(memoryIds).toHaveLength(1);
    return memoryIds[0];
  }

  const worldTexts = async (bankId: string, query: string) =>
    (await recall.recall({ bankId, query, types: ['world'] })).results.map((result) => result.text);

  const supersededBy = async (bankId: string, ids: string[]) =>
    Object.fromEntries(await Promise.all(ids.map(async (id) => [id, (await memories.get(bankId, id)).supersededBy] as const)));

  it('shows the LLM when a new memory happened, as it shows the older ones, not when it was told', async () => {
    // Told in 2025 of 2019: shown as told, it read as newer than a fact of 2023 it came before.
    const rome = await remember('mara-when', 'Mara lived in Rome in 2019.', '2025-05-01T10:00:00Z');
    await consolidation.consolidateBank('mara-when');
    const shown = prompts.flatMap(({ prompt }) => prompt.memories).find((memory) => memory.id === rome);
    expect(shown).toMatchObject({ text: 'Mara lived in Rome in 2019.', time: '2019-01-01T00:00:00.000Z' });
  });

  it('marks what the LLM says a new memory replaces, ranks the new fact first for the present, and keeps the old for the past', async () => {
    const CELLO = 'Mara plays cello in the city orchestra.';
    // Few words in common with CELLO, so that nothing but supersession puts it first for a
    // question that matches CELLO's words.
    const TRIO = 'Mara quit and now plays in a jazz trio.';
    const OBSERVED = 'Mara plays in a jazz trio (previously cello in the city orchestra).';
    const cello = await remember('mara', CELLO, '2023-02-01T10:00:00Z', ['user:ivan']);
    script = (prompt) => ({ create: [{ text: 'Mara plays cello in the city orchestra.', source_ids: [prompt.memories[0].id] }] });
    expect(await consolidation.consolidateBank('mara')).toMatchObject({ created: 1, superseded: 0 });
    const [observation] = await observations(app, 'mara');

    const trio = await remember('mara', TRIO, '2025-04-01T10:00:00Z', ['user:ivan']);
    // The rule keys neither sentence, so nothing but the LLM can tell that one replaced the other.
    expect(await memories.get('mara', cello)).toMatchObject({ supersededBy: null, supersededAt: null });
    const question = 'Which city orchestra does Mara play cello in?';
    expect((await worldTexts('mara', question))[0]).toBe(CELLO);

    prompts = [];
    script = () => ({
      update: [{ observation_id: observation.id, text: OBSERVED, source_ids: [trio] }],
      supersede: [{ memory_id: trio, supersedes: [cello] }],
    });
    const result = await consolidation.consolidateBank('mara');

    expect(result).toMatchObject({ updated: 1, superseded: 1, skipped: 0, failed: 0, memories_consolidated: 1 });
    const [{ system, prompt }] = prompts;
    expect(prompt.memories.map((memory) => memory.id)).toEqual([trio]);
    expect(prompt.older_memories).toEqual([{ id: cello, text: CELLO, time: '2023-02-01T10:00:00.000Z', scope: 0 }]);
    expect(prompt.observations.map((shown) => shown.id)).toEqual([observation.id]);
    expect(system).toMatch(/current state/);
    expect(system).toMatch(/"supersede"/);

    expect(await memories.get('mara', cello)).toMatchObject({ supersededBy: trio, supersededAt: expect.any(Date) });
    expect(await memories.get('mara', trio)).toMatchObject({ supersededBy: null, supersededAt: null });
    expect((await observations(app, 'mara')).map((row) => [row.id, row.text])).toEqual([[observation.id, OBSERVED]]);

    const present = await worldTexts('mara', question);
    expect(present).toContain(CELLO);
    expect(present.indexOf(TRIO)).toBeGreaterThanOrEqual(0);
    expect(present.indexOf(TRIO)).toBeLessThan(present.indexOf(CELLO));
    expect(await worldTexts('mara', 'What did Mara play before?')).toContain(CELLO);
    // The same question asked about the past is not demoted: the old fact matches it best.
    expect((await worldTexts('mara', 'Which city orchestra did Mara play cello in before?'))[0]).toBe(CELLO);
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('shows every memory of a full batch an older memory and an observation of its own, not the first few three each', async () => {
    // 25 people with three older memories each, consolidated first; then one new memory each,
    // one batch of 25. Three nearest for each would be 75, over the prompt's 60 older memories
    // and 20 observations.
    const people = Array.from({ length: 25 }, (_, index) => `Person${String.fromCharCode(65 + index)}`);
    const olderOf = new Map<string, string[]>();
    for (const person of people) {
      olderOf.set(person, [
        await remember('budget', `${person} keeps a red bicycle in the hall.`, '2022-01-01T10:00:00Z'),
        await remember('budget', `${person} keeps a blue kayak in the shed.`, '2022-02-01T10:00:00Z'),
        await remember('budget', `${person} keeps a green tent in the attic.`, '2022-03-01T10:00:00Z'),
      ]);
    }
    // Each older memory becomes an observation of its own.
    script = (prompt) => ({ create: prompt.memories.map((memory) => ({ text: memory.text, source_ids: [memory.id] })) });
    expect(await consolidation.consolidateBank('budget')).toMatchObject({ created: 75, memories_consolidated: 75, failed: 0 });
    script = () => ({});
    const newer = new Map<string, string>();
    for (const person of people)
      newer.set(await remember('budget', `${person} keeps a yellow canoe in the hall now.`, '2024-01-01T10:00:00Z'), person);

    prompts = [];
    expect(await consolidation.consolidateBank('budget')).toMatchObject({ memories_consolidated: 25, failed: 0 });
    expect(prompts).toHaveLength(1);
    const [{ prompt }] = prompts;
    expect(new Set(prompt.memories.map((memory) => memory.id))).toEqual(new Set(newer.keys()));
    expect(prompt.older_memories.length).toBeLessThanOrEqual(60);
    const shown = new Set(prompt.older_memories.map((memory) => memory.id));
    const personsShownNothing = people.filter((person) => !olderOf.get(person)!.some((id) => shown.has(id)));
    expect(personsShownNothing).toEqual([]);
    // The observations to update are shared out the same way: twenty, one for each of twenty
    // people, where the first seven took three each.
    expect(prompt.observations).toHaveLength(20);
    const observed = new Set(prompt.observations.map((observation) => observation.text.split(' ')[0]));
    expect(observed.size).toBe(20);
  });

  it('refuses ids it did not show, of another tag set, of another bank, or backwards in time, and keeps the rest of the reply', async () => {
    const elsewhere = await remember('other-bank', 'Noor sings in the choir.', '2022-01-01T10:00:00Z', ['user:ivan']);
    // Of a tag set no memory of the batch has: never shown, whatever its text.
    const kimOld = await remember('refusals', 'Noor sings in the school choir.', '2022-02-01T10:00:00Z', ['user:kim']);
    const juliaOld = await remember('refusals', 'Noor sings in the church choir.', '2022-01-01T10:00:00Z', ['user:julia']);
    const ivanOld = await remember('refusals', 'Noor sings in the school choir.', '2022-02-01T10:00:00Z', ['user:ivan']);
    const ivanOlder = await remember('refusals', 'Noor sang alto in the school choir.', '2021-02-01T10:00:00Z', ['user:ivan']);
    script = () => ({});
    await consolidation.consolidateBank('refusals');

    const ivanNew = await remember('refusals', 'Noor left the choir and now sings in a rock band.', '2025-01-01T10:00:00Z', ['user:ivan']);
    const juliaNew = await remember('refusals', 'Noor left the church choir for a gospel group.', '2025-01-01T10:00:00Z', ['user:julia']);
    const before = await supersededBy('refusals', [juliaOld, ivanOld, ivanOlder, ivanNew, juliaNew]);
    prompts = [];
    script = () => ({
      create: [{ text: 'Noor sings in a rock band.', source_ids: [ivanNew] }],
      supersede: [
        { memory_id: ivanNew, supersedes: [HALLUCINATED, elsewhere, kimOld, juliaOld, juliaNew, ivanNew, ivanOld] },
        // Another tag set, though the LLM was shown both (each in its own scope).
        { memory_id: juliaNew, supersedes: [ivanOld, ivanNew] },
        // Only memories of the batch may replace anything.
        { memory_id: ivanOld, supersedes: [ivanOlder] },
        { memory_id: HALLUCINATED, supersedes: [ivanOld] },
      ],
    });

    const result = await consolidation.consolidateBank('refusals');

    const [{ prompt }] = prompts;
    // Each older memory is shown in the scope of its own tag set only.
    const shown = Object.fromEntries(prompt.older_memories.map((memory) => [memory.id, prompt.scopes[memory.scope!].tags]));
    expect(shown).toEqual({ [ivanOld]: ['user:ivan'], [ivanOlder]: ['user:ivan'], [juliaOld]: ['user:julia'] });
    // Every refused id counts one skip; the one sound pair is written, and so is the create.
    expect(result).toMatchObject({ created: 1, superseded: 1, skipped: 10, failed: 0, memories_consolidated: 2 });
    expect(await supersededBy('refusals', [juliaOld, ivanOld, ivanOlder, ivanNew, juliaNew])).toEqual({ ...before, [ivanOld]: ivanNew });
    expect(await memories.get('refusals', kimOld)).toMatchObject({ supersededBy: null });
    expect(await memories.get('other-bank', elsewhere)).toMatchObject({ supersededBy: null });
    expect((await observations(app, 'refusals')).map((row) => row.text)).toEqual(['Noor sings in a rock band.']);
  });

  it('refuses a new memory said to replace a newer one of the same batch', async () => {
    const early = await remember('order', 'Omar rows on the river.', '2023-01-01T10:00:00Z');
    const late = await remember('order', 'Omar gave up rowing for climbing.', '2024-01-01T10:00:00Z');
    script = () => ({ supersede: [{ memory_id: early, supersedes: [late] }] });
    expect(await consolidation.consolidateBank('order')).toMatchObject({ superseded: 0, skipped: 1, memories_consolidated: 2 });
    expect(await supersededBy('order', [early, late])).toEqual({ [early]: null, [late]: null });

    // The right way round, within one batch: the earlier memory was shown as a memory of the batch.
    await app.get(MemoryDatabase).query(`UPDATE memory_units SET consolidation_status = 'pending' WHERE bank_id = 'order'`);
    script = () => ({ supersede: [{ memory_id: late, supersedes: [early] }] });
    expect(await consolidation.consolidateBank('order')).toMatchObject({ superseded: 1, skipped: 0 });
    expect(await supersededBy('order', [early, late])).toEqual({ [early]: late, [late]: null });
  });

  it('survives the rule recomputing the line, and gives the line back to the rule when the LLM successor is deleted', async () => {
    const berlin = await remember('lena', 'Lena Park lives in Berlin.', '2020-01-01T10:00:00Z');
    await consolidation.consolidateBank('lena');
    const boat = await remember(
      'lena',
      'Lena Park sold her flat and sails around the world on her boat.',
      '2024-01-01T10:00:00Z',
      [],
      'boat',
    );
    script = () => ({ supersede: [{ memory_id: boat, supersedes: [berlin] }] });
    expect(await consolidation.consolidateBank('lena')).toMatchObject({ superseded: 1 });
    expect(await memories.get('lena', berlin)).toMatchObject({ supersededBy: boat });

    // An older fact of the rule's key retained late: the rule recomputes the residence line, in
    // which Berlin is the newest, and must not clear the pointer the LLM stated.
    const hamburg = await remember('lena', 'Lena Park was living in Hamburg.', '2018-01-01T10:00:00Z');
    expect(await supersededBy('lena', [hamburg, berlin])).toEqual({ [hamburg]: berlin, [berlin]: boat });

    await memories.deleteDocument('lena', 'boat');
    expect(await memories.get('lena', berlin)).toMatchObject({ supersededBy: null, supersededAt: null });
    expect(await memories.get('lena', hamburg)).toMatchObject({ supersededBy: berlin });

    // Back under the rule: a newer residence supersedes Berlin.
    const lisbon = await remember('lena', 'Lena Park moved to Lisbon.', '2025-01-01T10:00:00Z');
    expect(await memories.get('lena', berlin)).toMatchObject({ supersededBy: lisbon });
  });

  it('releases an LLM pointer whose successor moves to another tag set', async () => {
    const chess = await remember('retag', 'Pia coaches the chess club.', '2022-01-01T10:00:00Z', ['user:ivan']);
    await consolidation.consolidateBank('retag');
    const go = await remember('retag', 'Pia stopped coaching chess and teaches go.', '2024-01-01T10:00:00Z', ['user:ivan'], 'go');
    script = () => ({ supersede: [{ memory_id: go, supersedes: [chess] }] });
    await consolidation.consolidateBank('retag');
    expect(await memories.get('retag', chess)).toMatchObject({ supersededBy: go });

    await memories.retagDocument('retag', 'go', ['user:julia']);
    expect(await memories.get('retag', chess)).toMatchObject({ supersededBy: null, supersededAt: null });
  });

  it('marks nothing when the batch lost its lease while the LLM was thinking', async () => {
    const tennis = await remember('fenced', 'Rui plays tennis at the club.', '2022-01-01T10:00:00Z');
    await consolidation.consolidateBank('fenced');
    const padel = await remember('fenced', 'Rui switched from tennis to padel.', '2024-01-01T10:00:00Z');
    script = () => ({ supersede: [{ memory_id: padel, supersedes: [tennis] }] });
    const release = fake.pause('chat');
    const arrived = fake.nextRequest('chat');
    const run = consolidation.consolidateBank('fenced');
    await arrived;
    // Another instance took the batch over: a new fencing token on its memories.
    await app
      .get(MemoryDatabase)
      .query(
        `UPDATE memory_units SET lease_token = nextval('memory_lease_tokens') WHERE bank_id = 'fenced' AND consolidation_status = 'claimed'`,
      );
    release();

    expect(await run).toMatchObject({ superseded: 0, skipped: 1, memories_consolidated: 0 });
    expect(await memories.get('fenced', tennis)).toMatchObject({ supersededBy: null, supersededAt: null });
  });
});
