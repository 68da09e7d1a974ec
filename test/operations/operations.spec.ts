import { OperationsService, LeaseLostError } from '../../src/operations/operations.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { leaseExpired } from '../helpers/database-clock.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';
import { bootMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

describe('operations queue on PostgreSQL (two instances)', () => {
  let database: { name: string; url: string };
  let registries: DataSourceRegistry[];
  let first: OperationsService;
  let second: OperationsService;
  let firstDb: MemoryDatabase;

  beforeAll(async () => {
    new LogCapture().install();
    database = await createTestDatabase('operations');
    registries = [new DataSourceRegistry(), new DataSourceRegistry()];
    firstDb = new MemoryDatabase(await registries[0].acquire(database.url));
    first = new OperationsService(firstDb);
    second = new OperationsService(new MemoryDatabase(await registries[1].acquire(database.url)));
    await firstDb.query(`INSERT INTO banks (id) VALUES ('ops')`);
  });

  afterAll(async () => {
    await Promise.all(registries.map((registry) => registry.closeAll()));
    await dropTestDatabase(database.name);
  });

  it('gives each operation to exactly one of many concurrent claimers', async () => {
    const ids = await firstDb.transaction(async (sql) => Promise.all([1, 2, 3].map(() => first.enqueue(sql, 'ops', 'noop', {}))));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? first : second).claim(`claimer-${i}`, 60_000, ['noop'])));
    const claimed = claims.filter((claim) => claim !== null).map((claim) => claim!.id);
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  it('lets another instance take over an expired lease, and the old holder’s write changes nothing', async () => {
    const id = await firstDb.transaction((sql) => first.enqueue(sql, 'ops', 'lease', { n: 1 }));
    const stale = (await first.claim('instance-a', 1000, ['lease']))!;
    expect(stale.id).toBe(id);
    expect(await second.claim('instance-b', 60_000, ['lease'])).toBeNull();
    await leaseExpired(firstDb, 'operations', id);
    const fresh = (await second.claim('instance-b', 60_000, ['lease']))!;
    expect(fresh.id).toBe(id);
    expect(BigInt(fresh.leaseToken)).toBeGreaterThan(BigInt(stale.leaseToken));

    expect(await first.heartbeat(stale, 60_000)).toBe(false);
    await expect(
      firstDb.transaction(async (sql) => {
        await first.assertLeaseHeld(sql, stale);
        await sql.query(`INSERT INTO banks (id) VALUES ('written-by-stale-owner')`);
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(firstDb.transaction((sql) => first.complete(sql, stale, { by: 'a' }))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await firstDb.query(`SELECT id FROM banks WHERE id = 'written-by-stale-owner'`)).toEqual([]);

    await firstDb.transaction((sql) => second.complete(sql, fresh, { by: 'b' }));
    expect(await first.get('ops', id)).toMatchObject({ status: 'completed', result: { by: 'b' }, attempts: 2 });
  });

  it('marks an operation failed after its attempts are spent, and retries before that', async () => {
    const id = await firstDb.transaction((sql) => first.enqueue(sql, 'ops', 'flaky', {}));
    const attempt1 = (await first.claim('a', 60_000, ['flaky']))!;
    expect(await first.fail(attempt1, 'boom', 0)).toBe('pending');
    const attempt2 = (await first.claim('a', 60_000, ['flaky']))!;
    expect(attempt2.attempts).toBe(2);
    expect(await first.fail(attempt2, 'boom again', null)).toBe('failed');
    expect(await first.claim('a', 60_000, ['flaky'])).toBeNull();
    expect(await first.get('ops', id)).toMatchObject({ status: 'failed', error: 'boom again' });
  });
});

describe('operations worker at shutdown', () => {
  it('gives a running operation back at the deadline, and another instance finishes it', async () => {
    const fake = await FakeOpenAiServer.start();
    const database = await createTestDatabase('worker_shutdown');
    const llm = { provider: 'openai' as const, baseUrl: fake.baseUrl, apiKey: 'test', maxRetries: 0, timeoutMs: 30_000 };
    fake.onChat(() => ({ facts: [{ text: 'Gina sails.', fact_type: 'world', entities: ['Gina'] }] }));
    const release = fake.pause('chat');

    const a = await bootMemory({ databaseUrl: database.url, llm, shutdownTimeoutMs: 1500, watchdogIntervalMs: 60_000 });
    const outcome = await a.app!.get(RetainService).retain('sea', { async: true, items: [{ content: 'Gina sails every weekend.' }] });
    await fake.nextRequest('chat');
    await a.app!.close();
    const operations = a.reports.find((report) => report.stage === 'operations');
    expect(operations?.outcome).toBe('done');

    const b = await bootMemory({ databaseUrl: database.url, llm, watchdogIntervalMs: 60_000, operations: { pollIntervalMs: 50 } });
    release();
    const operationsB = b.app!.get(OperationsService);
    const finished = await eventually(
      () => operationsB.get('sea', outcome.operationId!),
      (op) => op?.status === 'completed',
      30_000,
    );
    expect(finished!.attempts).toBe(1);
    await b.app!.close();
    await fake.close();
    await dropTestDatabase(database.name);
  });
});
