import type { INestApplicationContext } from '@nestjs/common';
import { AiClients } from '../../src/external/ai-clients.js';
import { ConnectionHeldAcrossExternalCallError, ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { MemoryMetrics } from '../../src/metrics/memory-metrics.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

describe('the module’s guard and pool metrics (PostgreSQL, pool of 2)', () => {
  let app: INestApplicationContext;
  let database: { name: string; url: string };

  beforeAll(async () => {
    database = await createTestDatabase('metrics');
    ({ app } = await bootStartedMemory({ databaseUrl: database.url, poolSize: 2, watchdogIntervalMs: 60_000 }));
  });

  afterAll(async () => {
    await app.close();
    await dropTestDatabase(database.name);
  });

  it('refuses an embedder call made inside a SQL scope, and counts it', async () => {
    const embedder = app.get(AiClients).embedder;
    const guard = app.get(ExternalCallGuard);
    const before = guard.violations;
    await expect(app.get(MemoryDatabase).withConnection(() => embedder.embed(['held across a slow call']))).rejects.toBeInstanceOf(
      ConnectionHeldAcrossExternalCallError,
    );
    expect(guard.violations).toBe(before + 1);
    expect(await app.get(MemoryMetrics).metrics()).toMatch(/memory_connection_guard_violations_total\{client="embedder"\} 1/);
  });

  it('never trips the guard on retain and recall, and reports pool use and acquire waits', async () => {
    const guard = app.get(ExternalCallGuard);
    const before = guard.violations;
    await app.get(RetainService).retain('pool', { items: [{ content: 'Hana repairs bicycles in Porto.' }] });
    const recall = app.get(RecallService);
    const answers = await Promise.all(Array.from({ length: 6 }, () => recall.recall({ bankId: 'pool', query: 'Who repairs bicycles?' })));
    expect(answers.every((answer) => answer.results[0]?.text === 'Hana repairs bicycles in Porto.')).toBe(true);
    expect(guard.violations).toBe(before);

    // The operations worker's poll takes a connection now and then: wait for a quiet pool, which
    // every connection the calls above took must have been handed back for.
    await eventually(
      () => app.get(MemoryDatabase).poolStats(),
      (stats) => stats?.inUse === 0 && stats.waiting === 0,
    );
    const text = await app.get(MemoryMetrics).metrics();
    const acquisitions = Number(/memory_db_pool_acquire_wait_seconds_count (\d+)/.exec(text)?.[1]);
    expect(acquisitions).toBeGreaterThanOrEqual(7);
    expect(text).toMatch(/memory_db_pool_connections_in_use \d+/);
    expect(text).toMatch(/memory_db_pool_waiting_acquirers \d+/);
  });
});
