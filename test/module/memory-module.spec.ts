import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { MemoryHttpModule } from '../../src/http/memory-http.module.js';
import { ShutdownCoordinator } from '../../src/lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS } from '../../src/memory.constants.js';
import { MemoryModule } from '../../src/memory.module.js';
import type { ResolvedMemoryOptions } from '../../src/memory.options.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { MEMORY_MIGRATIONS } from '../../src/storage/migrations/index.js';
import { LogCapture } from '../helpers/log-capture.js';
import { bootMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

describe('MemoryModule in a host application', () => {
  beforeEach(() => {
    new LogCapture().install();
  });

  it('names the bad option when options are invalid', async () => {
    const booted = await bootMemory({ databaseUrl: 'pglite://memory/options', poolSize: -3 });
    expect((booted.startupError as Error).message).toMatch(/option 'poolSize' /);
  });

  it("names pgliteSharedBuffers when it is not one of PostgreSQL's sizes", async () => {
    const booted = await bootMemory({ databaseUrl: 'pglite://memory/options', pgliteSharedBuffers: '512' });
    expect((booted.startupError as Error).message).toMatch(/option 'pgliteSharedBuffers' must be a size in kB, MB or GB/);
  });

  it('names a nested option with an invalid cron expression', async () => {
    const booted = await bootMemory({ databaseUrl: 'pglite://memory/options', consolidation: { cron: 'every tuesday' } });
    expect((booted.startupError as Error).message).toMatch(/option 'consolidation\.cron' is not a valid cron expression/);
  });

  it('rejects an unknown option by name', async () => {
    const booted = await bootMemory({ databaseUrl: 'pglite://memory/options', poolSzie: 3 } as never);
    expect((booted.startupError as Error).message).toMatch(/poolSzie/);
  });

  it('runs on the host’s own DataSource, migrates it, and leaves it open on close', async () => {
    const database = await createTestDatabase('host_ds');
    const hostDataSource = new DataSource({ type: 'postgres', url: database.url, poolSize: 2 });
    await hostDataSource.initialize();
    const booted = await bootMemory({ dataSource: hostDataSource, watchdogIntervalMs: 60_000 });
    expect(booted.startupError).toBeUndefined();
    const memoryDatabase = booted.app!.get(MemoryDatabase);
    expect(memoryDatabase.dataSource).toBe(hostDataSource);
    await booted.app!.close();
    expect(hostDataSource.isInitialized).toBe(true);
    expect(await hostDataSource.query(`SELECT count(*)::int AS n FROM memory_migrations`)).toEqual([{ n: MEMORY_MIGRATIONS.length }]);
    await hostDataSource.destroy();
    await dropTestDatabase(database.name);
  });

  it('takes its options from forRootAsync with imports and inject', async () => {
    @Injectable()
    class HostConfig {
      readonly memoryUrl = 'pglite://memory/async';
    }
    @Module({ providers: [HostConfig], exports: [HostConfig] })
    class HostConfigModule {}

    @Module({
      imports: [
        MemoryModule.forRootAsync({
          imports: [HostConfigModule],
          inject: [HostConfig],
          useFactory: (config: HostConfig) => ({ databaseUrl: config.memoryUrl, poolSize: 4, watchdogIntervalMs: 60_000 }),
        }),
      ],
    })
    class HostModule {}

    const app = await NestFactory.createApplicationContext(HostModule, { logger: false, abortOnError: false });
    const options = app.get<ResolvedMemoryOptions>(MEMORY_OPTIONS, { strict: false });
    expect(options).toMatchObject({ databaseUrl: 'pglite://memory/async', poolSize: 4, shutdownTimeoutMs: 10_000 });
    expect(await app.get(MemoryDatabase, { strict: false }).query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await app.close();
  });

  it('loads the token encoding during startup, before the background workers run', async () => {
    const booted = await bootMemory({ databaseUrl: 'pglite://memory/encoding', watchdogIntervalMs: 60_000 });
    try {
      const lines = booted.logs.lines;
      const loaded = lines.findIndex((line) => /^Loaded the cl100k_base token encoding in \d+ ms$/.test(line));
      // The scheduler starts after the operations worker and consolidation, and logs when it does.
      const scheduler = lines.findIndex((line) => line.startsWith('Consolidation schedule'));
      expect(loaded).toBeGreaterThan(-1);
      expect(scheduler).toBeGreaterThan(loaded);
    } finally {
      await booted.app?.close();
    }
  });

  it('answers /health/ready 503 from the moment shutdown starts', async () => {
    let releaseScheduler!: () => void;
    const coordinator = new ShutdownCoordinator({ timeoutMs: 5000 });

    @Injectable()
    class SlowToStop {
      constructor(@Inject(ShutdownCoordinator) coordinator: ShutdownCoordinator) {
        coordinator.register('scheduler', 'slow to stop', () => new Promise<void>((resolve) => (releaseScheduler = resolve)));
      }
    }

    @Module({
      imports: [
        MemoryModule.forRoot({
          databaseUrl: 'pglite://memory/ready',
          shutdownCoordinator: coordinator,
          isGlobal: true,
          watchdogIntervalMs: 60_000,
        }),
        MemoryHttpModule,
      ],
      providers: [SlowToStop],
    })
    class HostModule {}

    const app = await NestFactory.create(HostModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    const closing = coordinator.shutdown('test');
    const during = await fetch(`${url}/health/ready`);
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ status: 'error', error: { memory: { state: 'draining' } } });
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    releaseScheduler();
    await closing;
    await app.close();
  });
});
