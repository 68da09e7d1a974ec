import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import { enqueueConsolidation } from '../../src/consolidation/consolidation.service.js';
import { CONSOLIDATION_OPERATION } from '../../src/consolidation/consolidation.types.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import type { LogCapture } from '../helpers/log-capture.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { memoryRows, seedMemories } from './consolidation-fixtures.js';

const TEXTS = ['Ines Costa rows on the lake.', 'Ines Costa rows at dawn.', 'Ines Costa coaches rowing.', 'Ines Costa races in May.'];

/**
 * An attempt after a broken one claims while that attempt's batches may still hand memories back
 * and the watchdog may reclaim their lapsed leases: a claim passes over a memory another statement
 * holds at that instant. Here another connection holds two memories' rows for the whole attempt,
 * as such a statement would for an instant.
 */
describe('a consolidation retry that could not claim every memory (PostgreSQL)', () => {
  let database: { name: string; url: string };
  let app: INestApplicationContext;
  let logs: LogCapture;

  beforeAll(async () => {
    database = await createTestDatabase('consolidation_follow_up');
    const booted = await bootStartedMemory({
      databaseUrl: database.url,
      poolSize: 4,
      watchdogIntervalMs: 60_000,
      operations: { pollIntervalMs: 50 },
      // The follow-up is due a lease after the retry completes: long enough that the rows held below
      // are let go first, however slow the machine, and short enough to wait for.
      consolidation: { cron: null, batchSize: 2, leaseMs: 4000 },
    });
    app = booted.app;
    logs = booted.logs;
  });

  afterAll(async () => {
    await app?.close();
    await dropTestDatabase(database.name);
  });

  it('queues a run of their own for the memories it never claimed, which consolidates them once they are free', async () => {
    const ids = await seedMemories(app, 'retried', TEXTS);
    const held = ids.slice(2);
    const operations = app.get(OperationsService);
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    let operationId: string;
    let afterRetry: Awaited<ReturnType<typeof memoryRows>>;
    let queuedAfter: Awaited<ReturnType<OperationsService['list']>>;
    let retry: Awaited<ReturnType<OperationsService['get']>>;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM memory_units WHERE id = ANY($1::uuid[]) FOR UPDATE`, [held]);

      // The operation as the queue holds it after a broken first attempt: its next claim is its second.
      ({ operationId } = await app.get(MemoryDatabase).transaction(async (sql) => {
        const queued = await enqueueConsolidation(sql, operations, 'retried', ['pending']);
        await sql.query(`UPDATE operations SET attempts = 1 WHERE id = $1`, [queued.operationId]);
        return queued;
      }));
      retry = await eventually(
        () => operations.get('retried', operationId),
        (found) => found?.status === 'completed' || found?.status === 'failed',
      );
      // Read while the rows are still held, then let them go at once: the follow-up must find them free.
      afterRetry = await memoryRows(app, 'retried', `fact_type <> 'observation'`);
      queuedAfter = await operations.list('retried', { limit: 10, offset: 0 });
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    expect(retry).toMatchObject({ status: 'completed', attempts: 2 });
    expect(afterRetry.filter((row) => held.includes(row.id)).map((row) => row.consolidation_status)).toEqual(['pending', 'pending']);
    expect(afterRetry.filter((row) => !held.includes(row.id)).map((row) => row.consolidation_status)).toEqual(['done', 'done']);
    expect(
      logs.lines.some((line) => /Bank 'retried': memories this run never claimed are waiting; consolidation \S+ queued/.test(line)),
    ).toBe(true);
    // Due a lease later, so that whatever held the memories at the retry's claim has let go.
    const followUp = queuedAfter.items.find((each) => each.id !== operationId);
    expect(followUp).toMatchObject({ status: 'pending', attempts: 0 });
    expect(followUp?.nextRetryAt).toBeInstanceOf(Date);

    const done = await eventually(
      () => memoryRows(app, 'retried', `fact_type <> 'observation'`),
      (rows) => rows.length === 4 && rows.every((row) => row.consolidation_status === 'done'),
    );
    expect(done).toHaveLength(4);
    // The follow-up was a first attempt: it queued nothing after itself.
    const [{ count }] = await app
      .get(MemoryDatabase)
      .query<{ count: string }>(`SELECT count(*) AS count FROM operations WHERE bank_id = 'retried' AND kind = $1`, [
        CONSOLIDATION_OPERATION,
      ]);
    expect(Number(count)).toBe(2);
  });
});
