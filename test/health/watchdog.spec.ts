import type { INestApplicationContext } from '@nestjs/common';
import { MemoryHealthIndicator } from '../../src/health/memory.health.js';
import { WatchdogService } from '../../src/health/watchdog.service.js';
import { MemoryMetrics } from '../../src/metrics/memory-metrics.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { leaseExpired } from '../helpers/database-clock.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

describe('watchdog (PostgreSQL)', () => {
  let app: INestApplicationContext;
  let database: { name: string; url: string };

  beforeAll(async () => {
    database = await createTestDatabase('watchdog');
    ({ app } = await bootStartedMemory({ databaseUrl: database.url, watchdogIntervalMs: 60_000 }));
  });

  afterAll(async () => {
    await app.close();
    await dropTestDatabase(database.name);
  });

  it('hands back claims of a dead instance whose lease expired, reports lag, and exposes both', async () => {
    const sql = app.get(MemoryDatabase);
    await app.get(RetainService).retain('wd', { items: [{ content: 'Jonas keeps bees.' }, { content: 'Jonas sells honey.' }] });
    const operations = app.get(OperationsService);
    const operationId = await sql.transaction((scope) => operations.enqueue(scope, 'wd', 'nobody-handles-this', {}));
    const deadClaim = (await operations.claim('dead-instance', 1, ['nobody-handles-this']))!;
    await sql.query(
      `UPDATE memory_units SET consolidation_status = 'claimed', lease_owner = 'dead-instance',
              lease_expires_at = now() - interval '1 second', lease_token = 1 WHERE bank_id = 'wd'`,
    );
    await leaseExpired(sql, 'operations', operationId);

    const report = await app.get(WatchdogService).runChecks();
    expect(report.reclaimed).toEqual({ operations: 1, memories: 2 });
    expect(report.consolidationLagSeconds).toBeGreaterThan(0);
    expect(await operations.get('wd', operationId)).toMatchObject({ status: 'pending' });
    // The dead holder's token no longer fences a processing row: its late write is refused.
    expect(await operations.heartbeat(deadClaim, 60_000)).toBe(false);
    expect(await sql.query(`SELECT DISTINCT consolidation_status FROM memory_units WHERE bank_id = 'wd'`)).toEqual([
      { consolidation_status: 'pending' },
    ]);

    const health = await app.get(MemoryHealthIndicator).isReady();
    expect(health.memory).toMatchObject({
      status: 'up',
      pool: { waiting: 0 },
      reclaimed: { operations: 1, memories: 2 },
    });
    const metrics = await app.get(MemoryMetrics).metrics();
    expect(metrics).toMatch(/memory_watchdog_reclaimed_total\{kind="operation"\} 1/);
    expect(metrics).toMatch(/memory_consolidation_lag_seconds [0-9.]+/);
  });
});
