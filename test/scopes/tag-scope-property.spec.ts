import type { INestApplicationContext } from '@nestjs/common';
import fc from 'fast-check';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { type ObservationScopesSpec, scopeKey, scopesOf } from '../../src/consolidation/observation-scopes.js';
import { MentalModelsService } from '../../src/mental-models/mental-models.service.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { TAGS_MATCHES, type TagsMatch } from '../../src/recall/recall.types.js';
import { ReflectService } from '../../src/reflect/reflect.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

/**
 * The privacy property of tag scopes, over random data: every text any read returns for a tag
 * filter (recall results, the entity observations recall attaches, reflect's answer and its
 * basis, a listed mental model's content) derives only from memories that filter shows.
 *
 * Each memory's text carries a secret token (`S12`) found in no other memory, so the check reads
 * the texts themselves and needs no bookkeeping of ours: a token in a returned text whose memory
 * the filter hides is a leak, whatever path it took. Memories share one entity and one topic, so
 * consolidation wants to merge all of them; the scripted LLM tries to merge across scopes
 * outright and the server must refuse it.
 */
const TAG_UNIVERSE = ['user:ivan', 'user:julia', 'team:x'];
const SEED = 20261201;
const RUNS = 6;

interface MemoryInput {
  tags: string[];
  scopes: ObservationScopesSpec | undefined;
}

interface ReadFilter {
  tags: string[];
  tagsMatch: TagsMatch;
}

const tagSet = fc.subarray(TAG_UNIVERSE);
const memoryInput: fc.Arbitrary<MemoryInput> = tagSet.chain((tags) =>
  fc.record({
    tags: fc.constant(tags),
    scopes: fc.oneof(
      fc.constant(undefined),
      fc.constantFrom<ObservationScopesSpec>('combined', 'per_tag', 'all_combinations', 'shared'),
      fc.array(fc.subarray(tags), { minLength: 1, maxLength: 2 }),
    ),
  }),
);
const readFilter: fc.Arbitrary<ReadFilter> = fc.record({ tags: tagSet, tagsMatch: fc.constantFrom(...TAGS_MATCHES) });
const scenario = fc.record({
  memories: fc.array(memoryInput, { minLength: 3, maxLength: 7 }),
  /** How the memories are split into retain calls, in a random order. */
  order: fc.array(fc.nat(), { minLength: 7, maxLength: 7 }),
  calls: fc.integer({ min: 1, max: 3 }),
  reads: fc.array(readFilter, { minLength: 3, maxLength: 5 }),
  model: fc.record({ tags: fc.subarray(TAG_UNIVERSE, { maxLength: 2 }), listedWith: readFilter }),
});

/** The test's own statement of the tag filter, independent of the SQL under test. */
function shows(tags: readonly string[], filter: ReadFilter): boolean {
  const own = new Set(tags);
  const requested = [...new Set(filter.tags)];
  if (requested.length === 0) return filter.tagsMatch === 'exact' ? own.size === 0 : true;
  switch (filter.tagsMatch) {
    case 'any':
      return own.size === 0 || requested.some((tag) => own.has(tag));
    case 'all':
      return own.size === 0 || requested.every((tag) => own.has(tag));
    case 'any_strict':
      return requested.some((tag) => own.has(tag));
    case 'all_strict':
      return requested.every((tag) => own.has(tag));
    case 'exact':
      return own.size === requested.length && requested.every((tag) => own.has(tag));
  }
}

const tokensIn = (text: string) => text.match(/\bS\d+\b/g) ?? [];

/** Fails with the offending text when it names a memory the filter hides. */
function expectOnlyVisible(texts: string[], tagsOfToken: Map<string, string[]>, filter: ReadFilter, where: string): void {
  for (const text of texts) {
    for (const token of tokensIn(text)) {
      const tags = tagsOfToken.get(token);
      if (!tags) throw new Error(`${where}: unknown token ${token} in ${JSON.stringify(text)}`);
      if (!shows(tags, filter)) {
        throw new Error(
          `${where}: ${JSON.stringify(filter)} shows ${JSON.stringify(text)}, built from ${token} tagged ${JSON.stringify(tags)}`,
        );
      }
    }
  }
}

/**
 * The LLM tries to break the boundary: one observation of every memory it was shown, ignoring
 * scopes; an update of each observation with every memory; a create that names a scope but
 * memories of another; and only then the honest per-scope creates.
 */
function scriptedChat(body: ChatRequestBody): object {
  const system = String(body.messages[0].content);
  const user = String(body.messages.at(-1)!.content);
  if (system.includes('consolidate')) {
    const prompt = JSON.parse(user) as {
      scopes: Array<{ scope: number }>;
      memories: Array<{ id: string; text: string; scopes: number[] }>;
      observations: Array<{ id: string; text: string; scope: number }>;
    };
    const all = prompt.memories;
    const textOf = (memories: typeof all) => memories.map((memory) => memory.text).join(' ');
    const inScope = (scope: number) => all.filter((memory) => memory.scopes.includes(scope));
    const outOfScope = (scope: number) => all.filter((memory) => !memory.scopes.includes(scope));
    return {
      create: [
        { text: textOf(all), source_ids: all.map((memory) => memory.id) },
        ...prompt.scopes
          .filter(({ scope }) => outOfScope(scope).length > 0)
          .map(({ scope }) => ({ scope, text: textOf(outOfScope(scope)), source_ids: outOfScope(scope).map((memory) => memory.id) })),
        ...prompt.scopes.map(({ scope }) => ({
          scope,
          text: textOf(inScope(scope)),
          source_ids: inScope(scope).map((memory) => memory.id),
        })),
      ],
      update: prompt.observations.map((observation) => ({
        observation_id: observation.id,
        text: `${observation.text} ${textOf(all)}`,
        source_ids: all.map((memory) => memory.id),
      })),
    };
  }
  if (system.includes('extract durable facts')) {
    const content = user.slice(user.indexOf('Content:\n') + 'Content:\n'.length);
    return { facts: [{ text: content, fact_type: 'world', entities: ['Zephyr'] }] };
  }
  // Reflect and mental models: repeat every memory shown, which is all a model could leak.
  if (system.includes('mental model')) return { content: user };
  return { answer: user, memory_ids: [] };
}

/** The consolidation half of the guarantee: an observation's sources all share its tag set as a scope. */
async function expectObservationsWithinOneScope(app: INestApplicationContext, bankId: string): Promise<void> {
  const rows = await app
    .get(MemoryDatabase)
    .query<{ id: string; tags: string[]; sources: Array<{ tags: string[]; observation_scopes: ObservationScopesSpec | null }> }>(
      `SELECT o.id, o.tags,
            (SELECT json_agg(json_build_object('tags', s.tags, 'observation_scopes', s.observation_scopes))
               FROM memory_units s WHERE s.id = ANY(o.source_memory_ids)) AS sources
       FROM memory_units o WHERE o.bank_id = $1 AND o.fact_type = 'observation' AND o.state = 'valid'`,
      [bankId],
    );
  for (const row of rows) {
    const scope = scopeKey(row.tags);
    for (const source of row.sources) {
      if (!scopesOf(source.tags, source.observation_scopes).some((each) => scopeKey(each) === scope)) {
        throw new Error(
          `observation ${row.id} tagged ${JSON.stringify(row.tags)} was built from a memory of another scope: ${JSON.stringify(source)}`,
        );
      }
    }
  }
}

describe.each([
  { backend: 'PGlite', llm: false },
  { backend: 'PGlite', llm: true },
  { backend: 'PostgreSQL', llm: false },
  { backend: 'PostgreSQL', llm: true },
])('tag scopes hold on $backend (LLM: $llm)', ({ backend, llm }) => {
  let app: INestApplicationContext;
  let fake: FakeOpenAiServer | undefined;
  let database: { name: string; url: string } | undefined;
  let bankNumber = 0;
  /** Proof that the property was not met vacuously: observations were built and read through filters. */
  let observationsRead = 0;

  beforeAll(async () => {
    if (llm) {
      fake = await FakeOpenAiServer.start();
      fake.onChat(scriptedChat);
    }
    database = backend === 'PostgreSQL' ? await createTestDatabase('scopes') : undefined;
    const booted = await bootStartedMemory({
      databaseUrl: database?.url ?? `pglite://memory/scopes-${llm}-${process.pid}`,
      watchdogIntervalMs: 60_000,
      operations: { pollIntervalMs: 50 },
      consolidation: { cron: null, batchSize: 4, similarityThreshold: 0.3 },
      ...(fake && { llm: { provider: 'openai' as const, baseUrl: fake.baseUrl, apiKey: 'k', maxRetries: 0 } }),
    });
    app = booted.app;
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
    if (database) await dropTestDatabase(database.name);
  });

  it('every text returned for a tag filter derives only from memories that filter shows', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ memories, order, calls, reads, model }) => {
        bankNumber += 1;
        const bankId = `scopes-${bankNumber}`;
        const tagsOfToken = new Map(memories.map((memory, index) => [`S${index}`, memory.tags]));
        const items = memories.map((memory, index) => ({
          content: `Zephyr keeps locker note S${index} for the project.`,
          tags: memory.tags,
          observationScopes: memory.scopes,
        }));
        const shuffled = items
          .map((item, index) => ({ rank: order[index], item }))
          .sort((a, b) => a.rank - b.rank)
          .map(({ item }) => item);
        const perCall = Math.ceil(shuffled.length / calls);
        for (let start = 0; start < shuffled.length; start += perCall) {
          await app.get(RetainService).retain(bankId, { items: shuffled.slice(start, start + perCall) });
          await app.get(ConsolidationService).consolidateBank(bankId);
        }

        await expectObservationsWithinOneScope(app, bankId);

        for (const filter of reads) {
          const recalled = await app.get(RecallService).recall({ bankId, query: 'Zephyr locker note', ...filter });
          expectOnlyVisible(
            recalled.results.map((result) => result.text),
            tagsOfToken,
            filter,
            'recall',
          );
          observationsRead += recalled.results.filter((result) => result.type === 'observation').length;
          const entityTexts = Object.values(recalled.entities ?? {}).flatMap((entity) => entity.observations.map((each) => each.text));
          expectOnlyVisible(entityTexts, tagsOfToken, filter, 'recall entities');

          const reflected = await app.get(ReflectService).reflect(bankId, { query: 'What does Zephyr keep?', ...filter });
          expectOnlyVisible([reflected.text, ...reflected.basedOn.map((fact) => fact.text)], tagsOfToken, filter, 'reflect');
        }

        const models = app.get(MentalModelsService);
        const { operationId } = await models.create(bankId, { name: 'Zephyr notes', sourceQuery: 'Zephyr locker note', tags: model.tags });
        const refreshed = await eventually(
          () => app.get(OperationsService).get(bankId, operationId),
          (operation) => operation?.status === 'completed' || operation?.status === 'failed',
          20_000,
        );
        expect(refreshed?.status).toBe('completed');
        const modelScope = { tags: model.tags, tagsMatch: model.tags.length ? 'all_strict' : 'any' } as ReadFilter;
        const [built] = await models.list(bankId, { limit: 10, offset: 0 });
        expectOnlyVisible([built.content ?? ''], tagsOfToken, modelScope, 'mental model (its own tags)');
        const listed = await models.list(bankId, { ...model.listedWith, limit: 10, offset: 0 });
        expectOnlyVisible(
          listed.map((each) => each.content ?? ''),
          tagsOfToken,
          model.listedWith,
          'mental model list',
        );
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    expect(observationsRead).toBeGreaterThan(0);
  });
});
