import { jest } from '@jest/globals';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ReadinessService } from '../../src/health/readiness.service.js';
import { WatchdogService } from '../../src/health/watchdog.service.js';
import { AiClients } from '../../src/external/ai-clients.js';
import { ConsolidationScheduler } from '../../src/consolidation/consolidation.scheduler.js';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { OperationsWorker } from '../../src/operations/operations.worker.js';
import { WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { closePglite, openPglite } from '../../src/storage/pglite/pglite-instances.js';
import { ShutdownCoordinator } from '../../src/lifecycle/shutdown-coordinator.js';
import { SHUTDOWN_STAGES, type ShutdownStage } from '../../src/lifecycle/shutdown-stage.js';
import { freePort } from '../helpers/embedded-postgres-server.mjs';
import { bootMemory } from '../helpers/memory-app.js';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase, openSessions } from '../helpers/postgres.js';
import { STEP_STAGES_OF_A_FULL_START } from '../helpers/shutdown-steps.js';

interface Injection {
  stage: ShutdownStage;
  /** Makes that stage's startup fail with `error`; returns a function that undoes it. */
  inject(error: Error): () => void;
  /**
   * Stages whose resources exist by the time it fails (its own, when it fails half-way);
   * readiness registers when the providers' init hooks run, after every factory.
   */
  allocatedBefore: ShutdownStage[];
}

// Startup order, the reverse of teardown: the database and the AI clients are factories, so
// they exist before any provider that needs them; then MemoryLifecycle starts the watchdog and
// the webhook dispatcher and the operations worker, and turns readiness on last, when everything else runs.
const injections: Injection[] = [
  {
    stage: 'ai-clients',
    inject: (error) => {
      const spy = jest.spyOn(AiClients, 'create').mockImplementationOnce(() => {
        throw error;
      });
      return () => spy.mockRestore();
    },
    allocatedBefore: ['database'],
  },
  {
    stage: 'watchdog',
    inject: (error) => {
      const spy = jest.spyOn(WatchdogService.prototype, 'checkDatabase').mockRejectedValueOnce(error);
      return () => spy.mockRestore();
    },
    // The first ping fails after the interval timer exists: a partial start to clean up.
    allocatedBefore: ['readiness', 'watchdog', 'ai-clients', 'database'],
  },
  {
    stage: 'webhooks',
    inject: (error) => {
      const spy = jest.spyOn(WebhookDispatcher.prototype, 'start').mockImplementationOnce(() => {
        throw error;
      });
      return () => spy.mockRestore();
    },
    allocatedBefore: ['readiness', 'watchdog', 'ai-clients', 'database'],
  },
  {
    stage: 'operations',
    inject: (error) => {
      const spy = jest.spyOn(OperationsWorker.prototype, 'start').mockImplementationOnce(() => {
        throw error;
      });
      return () => spy.mockRestore();
    },
    allocatedBefore: ['readiness', 'webhooks', 'watchdog', 'ai-clients', 'database'],
  },
  {
    stage: 'consolidation',
    inject: (error) => {
      const spy = jest.spyOn(ConsolidationService.prototype, 'start').mockImplementationOnce(() => {
        throw error;
      });
      return () => spy.mockRestore();
    },
    allocatedBefore: ['readiness', 'operations', 'webhooks', 'watchdog', 'ai-clients', 'database'],
  },
  {
    stage: 'scheduler',
    inject: (error) => {
      const spy = jest.spyOn(ConsolidationScheduler.prototype, 'start').mockImplementationOnce(() => {
        throw error;
      });
      return () => spy.mockRestore();
    },
    allocatedBefore: ['readiness', 'consolidation', 'operations', 'webhooks', 'watchdog', 'ai-clients', 'database'],
  },
  {
    stage: 'readiness',
    inject: (error) => {
      const spy = jest.spyOn(ReadinessService.prototype, 'markReady').mockImplementationOnce(() => {
        throw error;
      });
      return () => spy.mockRestore();
    },
    allocatedBefore: ['readiness', 'scheduler', 'consolidation', 'operations', 'webhooks', 'watchdog', 'ai-clients', 'database'],
  },
];

/** A schedule that exists (so the scheduler stage has its cron) but never fires during a test. */
const HOURLY = { cron: '0 0 * * * *' };

function inStageOrder(stages: ShutdownStage[]): ShutdownStage[] {
  return SHUTDOWN_STAGES.filter((stage) => stages.includes(stage));
}

describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('startup failure on %s', (_label, backend) => {
  let url: string;
  let databaseName: string | undefined;

  beforeAll(async () => {
    if (backend === 'postgres') {
      const database = await createTestDatabase('startup');
      url = database.url;
      databaseName = database.name;
    } else {
      url = 'pglite://memory/startup-failure';
      // Held here, the instance outlives each failed start's own close (instances are shared by
      // reference count): later starts skip loading a cluster and migrating it again.
      await openPglite(url, undefined);
    }
  });

  afterAll(async () => {
    if (databaseName) await dropTestDatabase(databaseName);
    else await closePglite(url);
  });

  it.each(injections.map((injection) => [injection.stage, injection] as const))(
    'at %s releases everything allocated before it, in order, and surfaces the original error',
    async (_stage, injection) => {
      const original = new Error(`injected failure at ${injection.stage}`);
      const restore = injection.inject(original);
      try {
        const booted = await bootMemory({ databaseUrl: url, poolSize: 2, watchdogIntervalMs: 60_000, consolidation: HOURLY });
        expect(booted.app).toBeUndefined();
        expect(booted.startupError).toBe(original);
        const released = booted.reports.filter((report) => report.outcome === 'done').map((report) => report.stage);
        // A stage may hold several steps (the scheduler has two crons): compare the order of stages.
        expect([...new Set(released)]).toEqual(inStageOrder(injection.allocatedBefore));
        expect(booted.reports.every((report) => report.outcome === 'done')).toBe(true);
        if (databaseName)
          await eventually(
            () => openSessions(databaseName!),
            (count) => count === 0,
          );
      } finally {
        restore();
      }
    },
  );

  it('at database (unreachable server) fails with a clear error and leaves nothing open', async () => {
    const port = await freePort();
    const booted = await bootMemory({
      databaseUrl: `postgres://nobody:secret@127.0.0.1:${port}/none`,
      connectAttempts: 2,
      connectRetryDelayMs: 10,
    });
    expect(booted.app).toBeUndefined();
    expect(String((booted.startupError as Error).message)).toMatch(
      /Could not connect to postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:\d+\/none after 2 attempts/,
    );
    expect(booted.reports.map((report) => [report.stage, report.outcome])).toEqual([['database', 'done']]);
  });

  it('at database (stored embedding dimension differs) closes the pool it opened', async () => {
    // Holding the URL keeps an in-memory PGlite alive between the two boots, as a directory would.
    const holder = new DataSourceRegistry();
    await holder.acquire(url);
    const first = await bootMemory({ databaseUrl: url, watchdogIntervalMs: 60_000 });
    await first.app!.close();
    const booted = await bootMemory({ databaseUrl: url, embedder: { dimension: 8 }, watchdogIntervalMs: 60_000 });
    await booted.app?.close();
    await holder.closeAll();
    expect((booted.startupError as Error).message).toMatch(/holds 384-dimensional embeddings but the embedder is configured for 8/);
    expect(booted.reports.map((report) => [report.stage, report.outcome])).toEqual([['database', 'done']]);
    if (databaseName)
      await eventually(
        () => openSessions(databaseName!),
        (count) => count === 0,
      );
  });

  it('releases everything in the documented order on a normal close', async () => {
    const booted = await bootMemory({ databaseUrl: url, poolSize: 2, watchdogIntervalMs: 60_000, consolidation: HOURLY });
    expect(booted.startupError).toBeUndefined();
    await booted.app!.close();
    const everyStage = [...STEP_STAGES_OF_A_FULL_START];
    expect(booted.reports.map((report) => report.stage)).toEqual(everyStage);
    // Every documented stage has a step: the list names no stage that nothing registers.
    expect([...new Set(everyStage)]).toEqual([...SHUTDOWN_STAGES]);
    expect(booted.logs.shutdownSteps.filter((line) => line.includes('started'))).toEqual(
      everyStage.map((stage) => `Shutdown step '${stage}' started`),
    );
    if (databaseName)
      await eventually(
        () => openSessions(databaseName!),
        (count) => count === 0,
      );
  });
});

describe('a sibling that finishes allocating after startup failed', () => {
  it('still has its resource released', async () => {
    let siblingTimer: NodeJS.Timeout | undefined;
    let siblingReleased = false;

    @Injectable()
    class FailingProvider implements OnModuleInit {
      constructor(@Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator) {}
      onModuleInit() {
        return this.coordinator.guardStartup('webhooks', () => {
          throw new Error('webhook dispatcher could not start');
        });
      }
    }

    @Injectable()
    class SlowSibling implements OnModuleInit {
      constructor(@Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator) {}
      async onModuleInit() {
        // Finishes allocating only once teardown has begun, as a sibling slower than the failure would.
        const { signal } = this.coordinator;
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        siblingTimer = setInterval(() => undefined, 1000);
        this.coordinator.register('operations', 'slow sibling', () => {
          clearInterval(siblingTimer);
          siblingReleased = true;
        });
      }
    }

    const booted = await bootMemory({ databaseUrl: 'pglite://memory/sibling', watchdogIntervalMs: 60_000 }, [FailingProvider, SlowSibling]);
    expect((booted.startupError as Error).message).toBe('webhook dispatcher could not start');
    await eventually(
      () => siblingReleased,
      (released) => released,
      2000,
    );
    expect(booted.reports.some((report) => report.name === 'slow sibling' && report.outcome === 'done')).toBe(true);
  });
});
