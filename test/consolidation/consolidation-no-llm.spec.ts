import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { call, startHttpApp, type HttpApp } from '../http/http-app.js';
import { memoryRows, observations, sorted } from './consolidation-fixtures.js';

describe('consolidation without an LLM (PGlite, pool of one)', () => {
  let app: INestApplicationContext;
  let consolidation: ConsolidationService;
  let retain: RetainService;

  beforeAll(async () => {
    const booted = await bootStartedMemory({
      databaseUrl: `pglite://memory/consolidation-${process.pid}-${Date.now()}`,
      watchdogIntervalMs: 60_000,
      operations: { pollIntervalMs: 50 },
      consolidation: { cron: null, batchSize: 10, similarityThreshold: 0.55 },
    });
    app = booted.app;
    consolidation = app.get(ConsolidationService);
    retain = app.get(RetainService);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('clusters related memories into an observation, marks every memory done, and recall finds it', async () => {
    const { memoryIds } = await retain.retain('hikers', {
      items: [
        { content: 'Alice Johnson loves hiking in the Alps.', tags: ['outdoor'], timestamp: new Date('2025-01-01T10:00:00Z') },
        { content: 'Alice Johnson went hiking in the Alps last summer.', tags: ['outdoor'], timestamp: new Date('2025-01-02T10:00:00Z') },
        { content: 'The quarterly budget review happens on Fridays.', timestamp: new Date('2025-01-03T10:00:00Z') },
      ],
    });
    expect(memoryIds).toHaveLength(3);

    const result = await consolidation.consolidateBank('hikers');

    expect(result).toMatchObject({ created: 1, updated: 0, skipped: 0, failed: 0, memories_consolidated: 3 });
    const [observation, ...others] = await observations(app, 'hikers');
    expect(others).toHaveLength(0);
    expect(sorted(observation.source_memory_ids)).toEqual(sorted(memoryIds.slice(0, 2)));
    expect(observation).toMatchObject({
      proof_count: 2,
      consolidation_status: 'done',
      text: 'Alice Johnson loves hiking in the Alps. Alice Johnson went hiking in the Alps last summer.',
    });
    // Its tags are its scope, the tag set its sources share.
    expect(observation.tags).toEqual(['outdoor']);
    const raw = await memoryRows(app, 'hikers', `fact_type <> 'observation'`);
    expect(raw.map((row) => row.consolidation_status)).toEqual(['done', 'done', 'done']);
    const links = await app
      .get(MemoryDatabase)
      .query<{ n: string }>(`SELECT count(*) AS n FROM unit_entities WHERE unit_id = $1`, [observation.id]);
    expect(Number(links[0].n)).toBeGreaterThan(0);

    const recalled = await app.get(RecallService).recall({ bankId: 'hikers', query: 'Alice hiking Alps', types: ['observation'] });
    expect(recalled.results.map((memory) => memory.id)).toContain(observation.id);
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('folds a new matching memory into the observation through a queued operation, and a rerun is a no-op', async () => {
    const { memoryIds } = await retain.retain('hikers', {
      items: [{ content: 'Alice Johnson loves hiking in the Alps every summer.', tags: ['outdoor'] }],
    });
    const [before] = await observations(app, 'hikers');

    const { operationId, deduplicated } = await consolidation.requestConsolidation('hikers');
    expect(deduplicated).toBe(false);
    const operation = await eventually(
      () => app.get(OperationsService).get('hikers', operationId),
      (op) => op?.status === 'completed',
    );
    expect(operation!.result).toMatchObject({ created: 0, updated: 1, skipped: 0, failed: 0, memories_consolidated: 1 });

    const [after, ...none] = await observations(app, 'hikers');
    expect(none).toHaveLength(0);
    expect(after.id).toBe(before.id);
    expect(after.proof_count).toBe(3);
    expect(after.source_memory_ids).toEqual([...before.source_memory_ids!, memoryIds[0]]);
    expect(after.text).toContain('every summer');

    expect(await consolidation.consolidateBank('hikers')).toMatchObject({ created: 0, updated: 0, memories_consolidated: 0 });
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('returns the consolidation already queued instead of queueing a second one', async () => {
    await retain.retain('queued-twice', { items: [{ content: 'Bob Stone plays chess.' }] });
    // Holding the only connection keeps the worker from claiming between the two requests.
    const [first, second] = await app
      .get(MemoryDatabase)
      .withConnection(async () => [
        await consolidation.requestConsolidation('queued-twice'),
        await consolidation.requestConsolidation('queued-twice'),
      ]);
    expect(first.deduplicated).toBe(false);
    expect(second).toEqual({ operationId: first.operationId, deduplicated: true });
  });

  it('leaves memories that match nothing alone, done without an observation', async () => {
    await retain.retain('loners', { items: [{ content: 'Zebras graze at dawn.' }, { content: 'Quantum chips need cooling.' }] });
    const result = await consolidation.consolidateBank('loners');
    expect(result).toMatchObject({ created: 0, memories_consolidated: 2 });
    expect(await observations(app, 'loners')).toHaveLength(0);
  });
});

describe('POST /v1/default/banks/{bank_id}/consolidate', () => {
  let http: HttpApp;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/consolidate-http-${process.pid}` });
  });

  afterAll(async () => {
    await http?.close();
  });

  it('queues an operation for a known bank and answers 404 for an unknown one', async () => {
    await call(http.url, 'POST', '/v1/default/banks/known/memories', { items: [{ content: 'Carol Diaz writes poems.' }] });
    const queued = await call(http.url, 'POST', '/v1/default/banks/known/consolidate', { ignored: true });
    expect(queued.status).toBe(200);
    expect(queued.body).toEqual({ operation_id: expect.any(String), deduplicated: expect.any(Boolean) });
    const status = await eventually(
      () => call(http.url, 'GET', `/v1/default/banks/known/operations/${queued.body.operation_id}`),
      (response) => response.body.status === 'completed',
    );
    expect(status.status).toBe(200);

    const missing = await call(http.url, 'POST', '/v1/default/banks/nobody/consolidate');
    expect(missing.status).toBe(404);
  });
});
