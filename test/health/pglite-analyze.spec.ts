import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { WatchdogService } from '../../src/health/watchdog.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { type BootedMemory, bootMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

/** Ten one-sentence memories, so ten rows of `memory_units` per call. */
function tenMemories(from: number) {
  return { items: Array.from({ length: 10 }, (_, index) => ({ content: `Note number ${from + index} was filed today.` })) };
}

/** `pg_stat_user_tables` for one table, flushed first: PGlite only publishes its counters when told. */
async function statsOf(database: MemoryDatabase, table: string) {
  return database.withConnection(async (sql) => {
    await sql.query(`SELECT pg_stat_force_next_flush()`);
    const [row] = await sql.query<{ last_analyze: Date | null; n_mod_since_analyze: string }>(
      `SELECT last_analyze, n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = $1`,
      [table],
    );
    return row;
  });
}

/**
 * How many rows an index-only scan of the bank's memories fetched from the table: until a vacuum
 * has marked their pages all-visible, every one.
 */
async function heapFetchesOfIndexOnlyScan(database: MemoryDatabase): Promise<number> {
  return database.transaction(async (sql) => {
    await sql.query(`SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`);
    const [row] = await sql.query<{ 'QUERY PLAN': Array<{ Plan: { 'Node Type': string; 'Heap Fetches': number } }> }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM memory_units WHERE bank_id = 'stats'`,
    );
    const plan = row['QUERY PLAN'][0].Plan;
    expect(plan['Node Type']).toBe('Index Only Scan');
    return plan['Heap Fetches'];
  });
}

describe('watchdog VACUUM and ANALYZE on PGlite (no autovacuum there)', () => {
  const booted: BootedMemory[] = [];
  const boot = async (options: Parameters<typeof bootMemory>[0]): Promise<{ app: INestApplicationContext; logs: string[] }> => {
    const started = await bootMemory({ watchdogIntervalMs: 60_000, ...options });
    booted.push(started);
    if (!started.app) throw started.startupError;
    return { app: started.app, logs: started.logs.lines };
  };

  afterAll(async () => {
    for (const { app } of booted) await app?.close();
  });

  it('vacuums and analyses a table whose rows changed on its own schedule, and logs both', async () => {
    const { app, logs } = await boot({
      databaseUrl: `pglite://memory/analyze-${randomUUID()}`,
      pgliteAnalyze: { intervalMs: 100, threshold: 5, scaleFactor: 0, vacuum: { insertThreshold: 5, insertScaleFactor: 0 } },
    });
    const database = app.get(MemoryDatabase);
    await app.get(RetainService).retain('stats', tenMemories(0));

    const line = await eventually(
      () => logs.find((entry) => entry.startsWith('ANALYZE memory_units:')),
      (entry) => entry !== undefined,
    );
    expect(line).toMatch(/^ANALYZE memory_units: \d+ rows changed since its last analysis \(due from 5\); \d+ms$/);
    const vacuumLine = await eventually(
      () => logs.find((entry) => entry.startsWith('VACUUM memory_units:')),
      (entry) => entry !== undefined,
    );
    expect(vacuumLine).toMatch(/^VACUUM memory_units: \d+ rows inserted and \d+ dead since its last vacuum; \d+ms$/);
    const stats = await eventually(
      () => statsOf(database, 'memory_units'),
      (row) => row.last_analyze !== null,
    );
    expect(stats.last_analyze).toBeInstanceOf(Date);
  });

  it('analyses a table once its changed rows pass the threshold plus the scale factor of its rows, not before', async () => {
    const { app } = await boot({
      databaseUrl: `pglite://memory/analyze-${randomUUID()}`,
      // No schedule: each round is run here, so what it finds due is this test's doing.
      pgliteAnalyze: { intervalMs: null, threshold: 15, scaleFactor: 0.5 },
    });
    const watchdog = app.get(WatchdogService);
    const database = app.get(MemoryDatabase);
    const retain = app.get(RetainService);
    expect(watchdog.analyzesStatistics).toBe(true);

    // Never analysed: no rows counted yet, so due from 15 changed rows.
    await retain.retain('stats', tenMemories(0));
    expect((await watchdog.analyzeStatistics()).map((entry) => entry.table)).not.toContain('memory_units');
    await retain.retain('stats', tenMemories(10));
    const first = await watchdog.analyzeStatistics();
    expect(first.find((entry) => entry.table === 'memory_units')).toMatchObject({ changed: 20 });
    expect((await statsOf(database, 'memory_units')).n_mod_since_analyze).toBe('0');

    // Now 20 rows: due from 15 + 0.5 × 20 = 25 changed rows.
    await retain.retain('stats', tenMemories(20));
    await retain.retain('stats', tenMemories(30));
    expect((await watchdog.analyzeStatistics()).map((entry) => entry.table)).not.toContain('memory_units');
    await retain.retain('stats', tenMemories(40));
    const second = await watchdog.analyzeStatistics();
    expect(second.find((entry) => entry.table === 'memory_units')).toMatchObject({ changed: 30 });
  });

  it('vacuums a table once the rows inserted since its last vacuum pass the insert rule, and its index-only scans then skip the table', async () => {
    const { app } = await boot({
      databaseUrl: `pglite://memory/analyze-${randomUUID()}`,
      // Only the insert rule can make a table due here; each round is run by the test.
      pgliteAnalyze: { intervalMs: null, vacuum: { insertThreshold: 15, insertScaleFactor: 0, threshold: 1_000_000, scaleFactor: 0 } },
    });
    const watchdog = app.get(WatchdogService);
    const database = app.get(MemoryDatabase);
    const retain = app.get(RetainService);

    await retain.retain('stats', tenMemories(0));
    expect((await watchdog.vacuumTables()).map((entry) => entry.table)).not.toContain('memory_units');
    await retain.retain('stats', tenMemories(10));
    expect(await heapFetchesOfIndexOnlyScan(database)).toBeGreaterThan(0);

    const vacuumed = await watchdog.vacuumTables();
    expect(vacuumed.find((entry) => entry.table === 'memory_units')).toMatchObject({ inserted: 20, dead: 0 });
    expect(await heapFetchesOfIndexOnlyScan(database)).toBe(0);
    // Counted again from zero: ten more rows are not due.
    await retain.retain('stats', tenMemories(20));
    expect((await watchdog.vacuumTables()).map((entry) => entry.table)).not.toContain('memory_units');
  });

  it('vacuums nothing with the vacuum rule turned off', async () => {
    const { app } = await boot({
      databaseUrl: `pglite://memory/analyze-${randomUUID()}`,
      pgliteAnalyze: { intervalMs: null, threshold: 0, scaleFactor: 0, vacuum: null },
    });
    const watchdog = app.get(WatchdogService);
    await app.get(RetainService).retain('stats', tenMemories(0));
    expect(await watchdog.vacuumTables()).toEqual([]);
    // The analysis still runs: the switch is the vacuum's alone.
    expect((await watchdog.analyzeStatistics()).map((entry) => entry.table)).toContain('memory_units');
  });

  it('leaves PostgreSQL to its autovacuum', async () => {
    const database = await createTestDatabase('analyze');
    const { app } = await boot({ databaseUrl: database.url, pgliteAnalyze: { intervalMs: 100, threshold: 0, scaleFactor: 0 } });
    const watchdog = app.get(WatchdogService);
    await app.get(RetainService).retain('stats', tenMemories(0));
    expect(watchdog.analyzesStatistics).toBe(false);
    expect(await watchdog.analyzeStatistics()).toEqual([]);
    expect(await watchdog.vacuumTables()).toEqual([]);
    await app.close();
    booted.pop();
    await dropTestDatabase(database.name);
  });
});
