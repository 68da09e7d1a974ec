import { getEncoding } from 'js-tiktoken';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { HashingEmbedder } from '../../src/external/hashing-embedder.js';
import type { Reranker } from '../../src/external/reranker.js';
import { MemoryErrorCode, MemoryException } from '../../src/memory.exception.js';
import { RecallService } from '../../src/recall/recall.service.js';
import type { RecallArmTrace, RecallOutcome, RecallRequest, RecallSettings, TagsMatch } from '../../src/recall/recall.types.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { type VectorBackend, prepareVectorBackend } from '../../src/storage/vector-backend.js';
import { oracleMemoryTokens } from '../helpers/cl100k-oracle.js';
import { LogCapture } from '../helpers/log-capture.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type SeedMemory, seedMemories } from '../helpers/recall-fixtures.js';

const NOW = new Date('2025-06-18T15:30:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

/** Scores documents through the guard, as every real reranker must: last fused becomes first. */
class ReversingReranker implements Reranker {
  calls = 0;
  constructor(private readonly guard: ExternalCallGuard) {}
  rerank(_query: string, documents: string[]): Promise<number[]> {
    return this.guard.call('reranker', 'rerank', async () => {
      this.calls += 1;
      return documents.map((_document, index) => index);
    });
  }
}

class FailingReranker implements Reranker {
  constructor(private readonly guard: ExternalCallGuard) {}
  rerank(): Promise<number[]> {
    return this.guard.call('reranker', 'rerank', async () => {
      throw new Error('reranker is down');
    });
  }
}

// Every memory mentions the lighthouse, so every one is a keyword candidate and only the filter
// under test decides what comes back.
const TAGGED: Array<[key: string, tags: string[]]> = [
  ['untagged', []],
  ['a', ['a']],
  ['b', ['b']],
  ['c', ['c']],
  ['ab', ['a', 'b']],
  ['ba', ['b', 'a']],
  ['abc', ['a', 'b', 'c']],
];

describe.each([
  ['PGlite (a pool of one connection)', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('RecallService on %s', (_label, kind) => {
  let registry: DataSourceRegistry;
  let dropName: string | undefined;
  let database: MemoryDatabase;
  let vectors: VectorBackend;
  let guard: ExternalCallGuard;
  let embedder: HashingEmbedder;
  let logs: LogCapture;
  const ids = new Map<string, string>();
  const encoding = getEncoding('cl100k_base');

  const newService = (reranker: Reranker | null = null) => new RecallService(database, vectors, embedder, reranker);
  const recall = (request: Partial<RecallRequest> & { query: string }, reranker: Reranker | null = null) =>
    newService(reranker).recall({ bankId: 'alpha', queryTimestamp: NOW, includeEntities: null, budget: 'high', ...request });
  const keysOf = (outcome: RecallOutcome) => {
    const byId = new Map([...ids].map(([key, id]) => [id, key]));
    return outcome.results.map((memory) => byId.get(memory.id) ?? memory.id);
  };

  async function seed(bankId: string, memories: Array<SeedMemory & { key: string }>) {
    const seeded = await seedMemories(database, vectors, embedder, bankId, memories);
    memories.forEach((memory, index) => ids.set(memory.key, seeded[index]));
  }

  beforeAll(async () => {
    logs = new LogCapture().install();
    registry = new DataSourceRegistry();
    let url = 'pglite://memory/recall-service';
    if (kind === 'postgres') ({ url, name: dropName } = await createTestDatabase('recall_service'));
    database = new MemoryDatabase(await registry.acquire(url));
    vectors = await database.withConnection((sql) => prepareVectorBackend(sql, 384));
    guard = new ExternalCallGuard('strict');
    embedder = new HashingEmbedder(guard, 384);

    await seed('alpha', [
      ...TAGGED.map(([key, tags], index) => ({
        key: `tag:${key}`,
        text: `The lighthouse log entry ${key} was filed.`,
        tags,
        mentionedAt: daysAgo(100 + index),
      })),
      { key: 'world', text: 'Orla Venn keeps bees on the harbour wall.', entities: ['Orla Venn'], mentionedAt: daysAgo(40) },
      {
        key: 'experience',
        text: 'I watched Orla Venn collect honey from the bees.',
        type: 'experience',
        entities: ['Orla Venn'],
        mentionedAt: daysAgo(30),
      },
      {
        key: 'long',
        text: 'Orla Venn explained at length how bees survive the harbour winter, hive by hive, frame by frame.',
        context: 'Told during the autumn beekeeping club meeting at the harbour.',
        entities: ['Orla Venn'],
        mentionedAt: daysAgo(20),
      },
      ...[1, 2, 3, 4].map((n) => ({
        key: `observation:${n}`,
        text: `Observation ${n}: Orla Venn is devoted to her bees.`,
        type: 'observation' as const,
        entities: ['Orla Venn'],
        mentionedAt: daysAgo(10 - n),
      })),
      {
        key: 'invalidated',
        text: 'Orla Venn keeps wasps on the harbour wall.',
        entities: ['Orla Venn'],
        state: 'invalidated',
        mentionedAt: daysAgo(1),
      },
      { key: 'yesterday', text: 'The ferry timetable changed.', occurredStart: daysAgo(1), mentionedAt: daysAgo(1) },
    ]);
    // Another bank with the very same words, the same entity and a fresher date.
    await seed('beta', [
      { key: 'beta:bees', text: 'Orla Venn keeps bees on the harbour wall.', entities: ['Orla Venn'], mentionedAt: daysAgo(0) },
      {
        key: 'beta:observation',
        text: 'Orla Venn sells honey in the beta bank.',
        type: 'observation',
        entities: ['Orla Venn'],
        mentionedAt: daysAgo(0),
      },
      { key: 'beta:lighthouse', text: 'The lighthouse log entry untagged was filed.', mentionedAt: daysAgo(0) },
    ]);
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  describe('tags', () => {
    it.each<[TagsMatch, string[]]>([
      ['any', ['untagged', 'a', 'b', 'ab', 'ba', 'abc']],
      ['all', ['untagged', 'ab', 'ba', 'abc']],
      ['any_strict', ['a', 'b', 'ab', 'ba', 'abc']],
      ['all_strict', ['ab', 'ba', 'abc']],
      ['exact', ['ab', 'ba']],
    ])('%s with tags [a, b] returns %j', async (tagsMatch, expected) => {
      const outcome = await recall({ query: 'lighthouse log entry', tags: ['a', 'b'], tagsMatch });
      // The non-strict modes also let the untagged memories of other topics through.
      expect(
        keysOf(outcome)
          .filter((key) => key.startsWith('tag:'))
          .sort(),
      ).toEqual(expected.map((key) => `tag:${key}`).sort());
    });

    it('applies the same filter in every arm', async () => {
      const outcome = await recall({ query: 'lighthouse log entry a', tags: ['c'], tagsMatch: 'all_strict', trace: true });
      const everyCandidate = outcome.trace!.arms.flatMap((arm) => arm.candidates.map((candidate) => candidate.id));
      expect(new Set(everyCandidate)).toEqual(new Set([ids.get('tag:c'), ids.get('tag:abc')]));
    });

    it('without tags, exact means untagged only and the other modes do not filter', async () => {
      const exact = await recall({ query: 'lighthouse log entry', tagsMatch: 'exact', types: ['world'] });
      expect(keysOf(exact)).toEqual(expect.arrayContaining(['tag:untagged', 'world']));
      expect(keysOf(exact).filter((key) => key.startsWith('tag:'))).toEqual(['tag:untagged']);
      for (const tagsMatch of ['any', 'all', 'any_strict', 'all_strict'] as const) {
        const outcome = await recall({ query: 'lighthouse log entry', tagsMatch });
        expect(keysOf(outcome).filter((key) => key.startsWith('tag:'))).toHaveLength(TAGGED.length);
      }
    });
  });

  it('returns only the requested fact types', async () => {
    const experience = await recall({ query: 'Orla Venn bees', types: ['experience'] });
    expect(keysOf(experience)).toEqual(['experience']);
    const others = await recall({ query: 'Orla Venn bees', types: ['world', 'observation'] });
    expect(others.results.map((memory) => memory.type)).not.toContain('experience');
    expect(new Set(others.results.map((memory) => memory.type))).toEqual(new Set(['world', 'observation']));
  });

  it('never returns an invalidated memory, from any arm', async () => {
    const outcome = await recall({ query: 'Who keeps wasps on the harbour wall? Orla Venn?', trace: true });
    const invalidated = ids.get('invalidated');
    expect(outcome.results.map((memory) => memory.id)).not.toContain(invalidated);
    expect(outcome.trace!.arms.flatMap((arm) => arm.candidates.map((candidate) => candidate.id))).not.toContain(invalidated);
    expect(keysOf(outcome)).toContain('world');
  });

  it("never returns another bank's memories, entities or observations", async () => {
    const outcome = await recall({
      query: 'Orla Venn keeps bees on the harbour wall; lighthouse log entry',
      includeEntities: { maxTokens: 1000 },
    });
    const beta = new Set(['beta:bees', 'beta:observation', 'beta:lighthouse'].map((key) => ids.get(key)));
    expect(outcome.results.length).toBeGreaterThan(5);
    expect(outcome.results.filter((memory) => beta.has(memory.id))).toEqual([]);
    const observations = Object.values(outcome.entities!).flatMap((entity) => entity.observations.map((o) => o.text));
    expect(observations.length).toBeGreaterThan(0);
    expect(observations.filter((text) => text.includes('beta'))).toEqual([]);

    const fromBeta = await recall({ bankId: 'beta', query: 'Orla Venn bees lighthouse' });
    expect(fromBeta.results.every((memory) => beta.has(memory.id))).toBe(true);
    expect(fromBeta.results).toHaveLength(3);
  });

  it('trims to maxTokens counted with cl100k_base over text and context, keeping the ranking', async () => {
    const untrimmed = await recall({ query: 'Orla Venn bees harbour', types: ['world'], trace: true });
    expect(keysOf(untrimmed).slice(0, 2).sort()).toEqual(['long', 'world']);
    const tokens = untrimmed.results.map((memory) => oracleMemoryTokens(memory.text, memory.context));
    expect(untrimmed.trace!.tokens).toBe(tokens.reduce((sum, count) => sum + count, 0));
    expect(untrimmed.trace!.trimmed).toBe(0);

    // One token short of the first two: the second no longer fits, and nothing after it is
    // taken either, even if it would fit, so every returned memory outranks every dropped one.
    const budget = tokens[0] + tokens[1] - 1;
    const trimmed = await recall({ query: 'Orla Venn bees harbour', types: ['world'], maxTokens: budget, trace: true });
    expect(trimmed.results.map((memory) => memory.id)).toEqual([untrimmed.results[0].id]);
    expect(trimmed.trace!.tokens).toBe(tokens[0]);
    expect(trimmed.trace!.trimmed).toBe(untrimmed.results.length - 1);

    const exact = await recall({ query: 'Orla Venn bees harbour', types: ['world'], maxTokens: budget + 1 });
    expect(exact.results.map((memory) => memory.id)).toEqual(untrimmed.results.slice(0, 2).map((memory) => memory.id));
    expect((await recall({ query: 'Orla Venn bees harbour', maxTokens: 0 })).results).toEqual([]);
  });

  it('budgets a memory by the count its writer stored rather than counting it again', async () => {
    const request = { query: 'Orla Venn bees harbour', types: ['world' as const], trace: true };
    const counted = await recall(request);
    expect(keysOf(counted).slice(0, 2).sort()).toEqual(['long', 'world']);
    const long = counted.results.find((memory) => memory.id === ids.get('long'))!;
    const longTokens = oracleMemoryTokens(long.text, long.context);
    await database.query(`UPDATE memory_units SET tokens_cl100k = $2 WHERE id = $1`, [ids.get('long'), longTokens + 1000]);
    try {
      const stored = await recall(request);
      expect(stored.results.map((memory) => memory.id)).toEqual(counted.results.map((memory) => memory.id));
      expect(stored.trace!.tokens).toBe(counted.trace!.tokens + 1000);
      // The budget that held every result now stops at the one that says it costs 1,000 more.
      const trimmed = await recall({ ...request, maxTokens: counted.trace!.tokens });
      const longAt = counted.results.indexOf(long);
      expect(trimmed.results.map((memory) => memory.id)).toEqual(counted.results.slice(0, longAt).map((memory) => memory.id));
    } finally {
      await database.query(`UPDATE memory_units SET tokens_cl100k = NULL WHERE id = $1`, [ids.get('long')]);
    }
  });

  it('traces every arm, the fusion and the stages only when asked', async () => {
    const outcome = await recall({ query: 'What did Orla Venn do with the bees yesterday?', trace: true });
    const trace = outcome.trace!;
    expect(trace.arms.map((arm) => arm.name)).toEqual(['semantic', 'keyword', 'entity', 'temporal']);
    for (const arm of trace.arms) {
      expect(arm.durationMs).toBeGreaterThanOrEqual(0);
      expect(arm.candidates.length).toBeGreaterThan(0);
      expect(arm.candidates.map((candidate) => candidate.rank)).toEqual(arm.candidates.map((_c, index) => index + 1));
    }
    expect(trace.arms.find((arm) => arm.name === 'temporal')!.candidates.map((c) => c.id)).toEqual([ids.get('yesterday')]);
    expect(trace.temporalRange).toMatchObject({ start: new Date('2025-06-17T00:00:00Z'), end: new Date('2025-06-18T00:00:00Z') });

    // The fused score is the RRF sum over the arms' ranks, k = 60, and orders the results.
    expect(trace.fusion.k).toBe(60);
    for (const candidate of trace.fusion.candidates) {
      const expected = Object.values(candidate.arms).reduce((sum, rank) => sum + 1 / (60 + rank!), 0);
      expect(candidate.score).toBeCloseTo(expected, 12);
    }
    const fusedIds = trace.fusion.candidates.map((candidate) => candidate.id);
    expect(outcome.results.map((memory) => memory.id)).toEqual(fusedIds.slice(0, outcome.results.length));
    expect(outcome.results.map((memory) => memory.scores.final)).toEqual(
      trace.fusion.candidates.slice(0, outcome.results.length).map((candidate) => candidate.score),
    );
    expect(trace.rerank).toEqual({ status: 'disabled', window: 0 });
    expect(trace.embeddingMs).toBeGreaterThanOrEqual(0);
    expect(trace.totalMs).toBeGreaterThanOrEqual(trace.embeddingMs);
    expect(trace.budget).toBe('high');
    expect(trace.candidatesPerArm).toBe(100);

    expect((await recall({ query: 'Orla Venn bees' })).trace).toBeNull();
  });

  it('limits each arm to the budget', async () => {
    const service = new RecallService(database, vectors, embedder, null, { candidatesPerArm: { low: 3, mid: 5, high: 8 } });
    const outcome = await service.recall({ bankId: 'alpha', query: 'lighthouse log entry', budget: 'low', trace: true });
    expect(outcome.trace!.candidatesPerArm).toBe(3);
    // The bank has 15 live memories, all with an embedding, and 7 lighthouse entries.
    expect(outcome.trace!.arms.find((arm) => arm.name === 'semantic')!.candidates).toHaveLength(3);
    expect(outcome.trace!.arms.find((arm) => arm.name === 'keyword')!.candidates).toHaveLength(3);
    const wider = await service.recall({ bankId: 'alpha', query: 'lighthouse log entry', budget: 'high', trace: true });
    expect(wider.trace!.arms.find((arm) => arm.name === 'semantic')!.candidates).toHaveLength(8);
    expect(wider.trace!.arms.find((arm) => arm.name === 'keyword')!.candidates).toHaveLength(7);
  });

  it('searches a bank by its rows or by the indexes according to its size, says which in the trace, and finds the same', async () => {
    // 15 memories: below both lines of the defaults, above both of the second service's.
    const bySize = async (settings: Partial<RecallSettings>) => {
      const outcome = await new RecallService(database, vectors, embedder, null, settings).recall({
        bankId: 'alpha',
        query: 'lighthouse log entry',
        budget: 'high',
        trace: true,
      });
      const arm = (name: string) => outcome.trace!.arms.find((candidate) => candidate.name === name)!;
      return { semantic: arm('semantic'), keyword: arm('keyword'), entity: arm('entity'), results: outcome.results };
    };
    const small = await bySize({});
    const large = await bySize({ exactScanBelow: 10, keywordScanBelow: 10 });
    expect(small.keyword.search).toBe('bank-rows');
    expect(large.keyword.search).toBe('index');
    expect(large.keyword.candidates).toEqual(small.keyword.candidates);
    expect(large.keyword.candidates).toHaveLength(7);
    // Without pgvector there is no index to walk: the semantic arm scans whatever the size.
    const semanticAbove = vectors.kind === 'pgvector' ? 'index' : 'exact';
    expect([small.semantic.search, large.semantic.search]).toEqual(['exact', semanticAbove]);
    expect(small.entity.search).toBeUndefined();
    // The same memories at the same distances. Several of the lighthouse entries are at one
    // distance (their embeddings differ only in words the embedder drops): the exact scan returns
    // those in id order, the graph in its own, so the fused order of those few may differ.
    const byDistance = (arm: RecallArmTrace) => {
      const ids = new Map<number, string[]>();
      for (const candidate of arm.candidates) ids.set(candidate.score, [...(ids.get(candidate.score) ?? []), candidate.id].sort());
      return ids;
    };
    expect(byDistance(large.semantic)).toEqual(byDistance(small.semantic));
    const ids = (results: RecallOutcome['results']) => results.map((memory) => memory.id).sort();
    expect(ids(large.results)).toEqual(ids(small.results));
  });

  it("ranks a much-mentioned person's newest memories in the entity arm, by the memory's time as last edited", async () => {
    // Two candidates per arm: the entity arm ranks the person's newest 16 memories (8 per place).
    const service = new RecallService(database, vectors, embedder, null, { candidatesPerArm: { low: 2, mid: 2, high: 2 } });
    const routine = Array.from({ length: 20 }, (_, index) => ({
      key: `wren-${index}`,
      text: `Wren Halloway walked to the bakery, day ${index}.`,
      entities: ['Wren Halloway'],
      mentionedAt: daysAgo(index + 1),
    }));
    await seed('wren', [
      ...routine,
      { key: 'wren-old-harpsichord', text: 'Wren Halloway tuned the harpsichord.', entities: ['Wren Halloway'], mentionedAt: daysAgo(40) },
      { key: 'wren-new-harpsichord', text: 'Wren Halloway sold the harpsichord.', entities: ['Wren Halloway'], mentionedAt: daysAgo(0.5) },
    ]);
    const entityArm = async () => {
      const outcome = await service.recall({ bankId: 'wren', query: 'Wren Halloway harpsichord', queryTimestamp: NOW, trace: true });
      const byId = new Map([...ids].map(([key, id]) => [id, key]));
      return outcome.trace!.arms.find((arm) => arm.name === 'entity')!.candidates.map((candidate) => byId.get(candidate.id));
    };
    // The old harpsichord memory is outside the window; the new one, which shares the word, leads.
    expect(await entityArm()).toEqual(['wren-new-harpsichord', 'wren-0']);

    // Re-dated as the newest, the old one enters the window: its links took the new time.
    await database.query(`UPDATE memory_units SET mentioned_at = $2 WHERE id = $1`, [ids.get('wren-old-harpsichord'), daysAgo(0.25)]);
    expect(await entityArm()).toEqual(['wren-old-harpsichord', 'wren-new-harpsichord']);
  });

  it("looks for the second hop's matches among the related person's newest memories only", async () => {
    // Two candidates per arm: each person's newest 16 memories are ranked, in both hops.
    const service = new RecallService(database, vectors, embedder, null, { candidatesPerArm: { low: 2, mid: 2, high: 2 } });
    const routine = Array.from({ length: 20 }, (_, index) => ({
      key: `bram-${index}`,
      text: `Bram Otter walked the dog, day ${index}.`,
      entities: ['Bram Otter'],
      mentionedAt: daysAgo(index + 1),
    }));
    await seed('otter', [
      { key: 'bridge', text: "Ansel Quill's brother is Bram Otter.", entities: ['Ansel Quill', 'Bram Otter'], mentionedAt: daysAgo(2) },
      ...routine,
      { key: 'bram-teaches', text: 'Bram Otter teaches chemistry.', entities: ['Bram Otter'], mentionedAt: daysAgo(40) },
    ]);
    const secondHop = async () => {
      const outcome = await service.recall({
        bankId: 'otter',
        query: "What does Ansel Quill's brother teach?",
        queryTimestamp: NOW,
        trace: true,
      });
      const byId = new Map([...ids].map(([key, id]) => [id, key]));
      const arm = outcome.trace!.arms.find((candidates) => candidates.name === 'entity')!;
      return arm.candidates.filter((candidate) => candidate.score === 0.5).map((candidate) => byId.get(candidate.id));
    };
    // Older than Bram's newest 16: the walk stops before it, however few of those 16 match.
    expect(await secondHop()).toEqual([]);

    await database.query(`UPDATE memory_units SET mentioned_at = $2 WHERE id = $1`, [ids.get('bram-teaches'), daysAgo(0.5)]);
    expect(await secondHop()).toEqual(['bram-teaches']);
  });

  it("crosses to the related person through the memory that shares the question's words, not through the named person's asked attribute", async () => {
    await seed('landlord', [
      { key: 'ingrid-car', text: 'Ingrid Vale drives a Fiat Panda.', entities: ['Ingrid Vale'], mentionedAt: daysAgo(30) },
      {
        key: 'ingrid-scooter',
        text: 'Ingrid Vale sold the Fiat and rides an electric scooter.',
        entities: ['Ingrid Vale'],
        mentionedAt: daysAgo(5),
      },
      {
        key: 'landlord',
        text: "Ingrid Vale's landlord is Felix Moreau.",
        entities: ['Ingrid Vale', 'Felix Moreau'],
        mentionedAt: daysAgo(10),
      },
      { key: 'felix-vespa', text: 'Felix Moreau drives a red Vespa.', entities: ['Felix Moreau'], mentionedAt: daysAgo(20) },
    ]);
    // As retain keys them: what Ingrid drives is the attribute the question's "drive" asks about.
    await database.query(`UPDATE memory_units SET attribute_key = 'ingrid vale|vehicle' WHERE id = ANY($1::uuid[])`, [
      [ids.get('ingrid-car'), ids.get('ingrid-scooter')],
    ]);
    const outcome = await newService().recall({
      bankId: 'landlord',
      query: "What does Ingrid's landlord drive?",
      queryTimestamp: NOW,
      trace: true,
    });
    const byId = new Map([...ids].map(([key, id]) => [id, key]));
    const entity = outcome.trace!.arms.find((arm) => arm.name === 'entity')!.candidates.map((candidate) => byId.get(candidate.id));
    // Her own vehicle memory leads the arm, and the landlord's memory is the bridge all the same.
    expect(entity[0]).toBe('ingrid-car');
    expect(entity).toContain('felix-vespa');
  });

  it('lists entity names on memories and the entities map with the newest observations within budget', async () => {
    const outcome = await recall({ query: 'Orla Venn bees', types: ['world'], includeEntities: undefined });
    expect(outcome.results[0].entities).toEqual(['Orla Venn']);
    const orla = outcome.entities!['Orla Venn'];
    expect(orla.canonicalName).toBe('Orla Venn');
    // Four observations exist; the three newest come back, newest first.
    expect(orla.observations.map((observation) => observation.text)).toEqual([
      'Observation 4: Orla Venn is devoted to her bees.',
      'Observation 3: Orla Venn is devoted to her bees.',
      'Observation 2: Orla Venn is devoted to her bees.',
    ]);
    expect(orla.observations[0].mentionedAt).toEqual(daysAgo(6));

    const oneObservation = encoding.encode('Observation 4: Orla Venn is devoted to her bees.').length;
    const tight = await recall({ query: 'Orla Venn bees', types: ['world'], includeEntities: { maxTokens: oneObservation } });
    expect(tight.entities!['Orla Venn'].observations).toHaveLength(1);
    expect((await recall({ query: 'Orla Venn bees', includeEntities: null })).entities).toBeNull();
  });

  it('opens one connection scope, once, reranker or not, and reads the observations in it', async () => {
    let scopes = 0;
    const counting = Object.create(database) as MemoryDatabase;
    counting.withConnection = ((read) => {
      scopes += 1;
      return database.withConnection(read);
    }) as MemoryDatabase['withConnection'];
    for (const reranker of [null, new ReversingReranker(guard)]) {
      scopes = 0;
      const outcome = await new RecallService(counting, vectors, embedder, reranker).recall({
        bankId: 'alpha',
        queryTimestamp: NOW,
        query: 'Orla Venn bees',
        types: ['world'],
      });
      expect(scopes).toBe(1);
      expect(outcome.entities!['Orla Venn'].observations.map((observation) => observation.text)).toEqual([
        'Observation 4: Orla Venn is devoted to her bees.',
        'Observation 3: Orla Venn is devoted to her bees.',
        'Observation 2: Orla Venn is devoted to her bees.',
      ]);
    }
  });

  it("counts the lookup of the names the question gives in the entity arm's time", async () => {
    // The lookup and the arm's own statements timed where they are sent: the arm's trace must hold
    // both, since the lookup is its first step even though it runs ahead of the other arms.
    let lookupMs = 0;
    let searchMs = 0;
    type Run = (text: string, params?: unknown[]) => Promise<unknown[]>;
    const timedWhen =
      (prefix: string, run: Run, add: (ms: number) => void): Run =>
      async (text, params) => {
        if (!text.startsWith(prefix)) return run(text, params);
        const startedAt = performance.now();
        try {
          return await run(text, params);
        } finally {
          add(performance.now() - startedAt);
        }
      };
    const timing = Object.create(database) as MemoryDatabase;
    timing.withConnection = ((work: (sql: Sql) => Promise<unknown>) =>
      database.withConnection((sql) =>
        work({
          ...sql,
          queryPrepared: timedWhen(
            'SELECT e.id, e.canonical_name',
            timedWhen('SELECT recent.id', sql.queryPrepared, (ms) => (searchMs += ms)),
            (ms) => (lookupMs += ms),
          ),
        } as Sql),
      )) as MemoryDatabase['withConnection'];
    const outcome = await new RecallService(timing, vectors, embedder, null).recall({
      bankId: 'alpha',
      queryTimestamp: NOW,
      query: 'Orla Venn bees',
      trace: true,
    });
    const entityArm = outcome.trace!.arms.find((trace) => trace.name === 'entity')!;
    expect(entityArm.candidates.length).toBeGreaterThan(0);
    expect(lookupMs).toBeGreaterThan(0);
    expect(searchMs).toBeGreaterThan(0);
    // The trace rounds to a hundredth of a millisecond.
    expect(entityArm.durationMs).toBeGreaterThanOrEqual(lookupMs + searchMs - 0.01);
  });

  it('reorders the fused window by the reranker, outside any SQL scope', async () => {
    const reranker = new ReversingReranker(guard);
    const plain = await recall({ query: 'lighthouse log entry', budget: 'low', trace: true });
    const reranked = await recall({ query: 'lighthouse log entry', budget: 'low', trace: true }, reranker);
    expect(reranker.calls).toBe(1);
    const window = plain.trace!.fusion.candidates.slice(0, 20).map((candidate) => candidate.id);
    expect(reranked.trace!.rerank).toEqual({ status: 'applied', window: window.length });
    expect(reranked.results.map((memory) => memory.id)).toEqual([...window].reverse());
    expect(reranked.results[0].scores).toMatchObject({ final: window.length - 1, reranker: window.length - 1 });
  });

  it('keeps the fused order when the reranker fails, and says so', async () => {
    const plain = await recall({ query: 'lighthouse log entry', budget: 'low' });
    const outcome = await recall({ query: 'lighthouse log entry', budget: 'low', trace: true }, new FailingReranker(guard));
    expect(outcome.results.map((memory) => memory.id)).toEqual(plain.results.map((memory) => memory.id));
    expect(outcome.trace!.rerank).toMatchObject({ status: 'failed', error: 'reranker is down' });
    expect(logs.lines).toContain('Reranking failed, keeping the fused order: reranker is down');
  });

  it('survives tsquery syntax in the question', async () => {
    const outcome = await recall({ query: "lighthouse & | ! ( ) :* 'entry' <-> \\ or OR" });
    expect(outcome.results.length).toBeGreaterThan(0);
  });

  it('refuses an unusable request with a typed error', async () => {
    await expect(recall({ query: '   ' })).rejects.toMatchObject({ code: MemoryErrorCode.InvalidInput });
    await expect(recall({ query: 'bees', maxTokens: -1 })).rejects.toBeInstanceOf(MemoryException);
    await expect(recall({ query: 'bees', types: ['opinion' as never] })).rejects.toBeInstanceOf(MemoryException);
  });

  it('runs concurrent recalls to completion and leaves the pool free, never calling out while holding a connection', async () => {
    // On PGlite the pool is one connection: a scope opened inside another, or a connection kept
    // after recall, would hang these calls and the query after them; the strict guard would
    // throw if the embedder or reranker ran inside a scope.
    const reranker = new ReversingReranker(guard);
    const outcomes = await Promise.all(
      ['Orla Venn bees', 'lighthouse log entry', 'ferry timetable yesterday', 'harbour wall'].map((query) =>
        recall({ query, includeEntities: { maxTokens: 200 } }, reranker),
      ),
    );
    expect(outcomes.every((outcome) => outcome.results.length > 0)).toBe(true);
    expect(reranker.calls).toBe(4);
    expect(guard.violations).toBe(0);
    await expect(database.query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
  });
});
