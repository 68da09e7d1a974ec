import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { HashingEmbedder } from '../../src/external/hashing-embedder.js';
import { RecallService } from '../../src/recall/recall.service.js';
import type { RecallOutcome } from '../../src/recall/recall.types.js';
import { DataSourceRegistry, DEFAULT_DATA_SOURCE_SETTINGS } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { prepareVectorBackend } from '../../src/storage/vector-backend.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';
import { createTestDatabase, dropTestDatabase, openSessions } from '../helpers/postgres.js';
import { generateRecallCorpus, seedMemories } from '../helpers/recall-fixtures.js';

/** What a recall found, arm by arm, and what it returned: everything but the timings. */
const found = (outcome: RecallOutcome) => ({
  arms: outcome.trace!.arms.map((arm) => ({ name: arm.name, candidates: arm.candidates })),
  fused: outcome.trace!.fusion.candidates,
  results: outcome.results.map((memory) => memory.id),
  entities: outcome.entities,
});

describe('recall on two connections (PostgreSQL)', () => {
  const corpus = generateRecallCorpus();
  const registries: DataSourceRegistry[] = [];
  let testDatabase: { name: string; url: string };
  let guard: ExternalCallGuard;

  /** A recall service on its own pool of `poolSize`, counting the connections its recalls check out. */
  const serviceOn = async (poolSize: number) => {
    const registry = new DataSourceRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, poolSize });
    registries.push(registry);
    const checkouts = { count: 0 };
    const database = new MemoryDatabase(await registry.acquire(testDatabase.url), { onAcquired: () => (checkouts.count += 1) });
    const vectors = await database.withConnection((sql) => prepareVectorBackend(sql, 384));
    return { database, vectors, checkouts, service: new RecallService(database, vectors, new HashingEmbedder(guard, 384), null) };
  };

  beforeAll(async () => {
    new LogCapture().install();
    testDatabase = await createTestDatabase('recall_two_connections');
    guard = new ExternalCallGuard('strict');
  });

  afterAll(async () => {
    for (const registry of registries) await registry.closeAll();
    await dropTestDatabase(testDatabase.name);
  });

  it('runs two arms and half the candidates’ rows on a second connection when the pool can spare one, and finds exactly what one connection finds', async () => {
    const spare = await serviceOn(10);
    const single = await serviceOn(1);
    await seedMemories(spare.database, spare.vectors, new HashingEmbedder(guard, 384), 'quality', corpus.memories);
    // Analysed now, so that autovacuum does not analyse the new rows between the two recalls of a
    // question: a plan that changes between them may order an arm's ties differently.
    await spare.database.query('ANALYZE');

    for (const { query } of corpus.queries) {
      const request = { bankId: 'quality', query, queryTimestamp: corpus.now, trace: true };
      spare.checkouts.count = 0;
      single.checkouts.count = 0;
      const onTwo = await spare.service.recall(request);
      const onOne = await single.service.recall(request);
      expect({ query, checkouts: spare.checkouts.count }).toEqual({ query, checkouts: 3 });
      expect({ query, checkouts: single.checkouts.count }).toEqual({ query, checkouts: 1 });
      expect(found(onTwo)).toEqual(found(onOne));
      for (const outcome of [onTwo, onOne]) {
        expect(outcome.trace!.armsMs).toBeGreaterThan(0);
        expect(outcome.trace!.armsMs).toBeLessThanOrEqual(outcome.trace!.totalMs);
      }
    }
    // The embedder never ran while either connection was held.
    expect(guard.violations).toBe(0);
    expect(spare.database.poolStats()).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it('leaves no session open once the pools are closed', async () => {
    for (const registry of registries.splice(0)) await registry.closeAll();
    await eventually(
      () => openSessions(testDatabase.name),
      (sessions) => sessions === 0,
    );
  });
});
