import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { ShutdownCoordinator, type StepReport } from '../../src/lifecycle/shutdown-coordinator.js';
import { MemoryModule } from '../../src/memory.module.js';
import type { MemoryModuleOptions } from '../../src/memory.options.js';
import { LogCapture } from './log-capture.js';

export interface BootedMemory {
  app?: INestApplicationContext;
  coordinator: ShutdownCoordinator;
  reports: StepReport[];
  logs: LogCapture;
  startupError?: unknown;
}

/**
 * Boots a Nest application context around `MemoryModule`, with a coordinator the test can reach
 * even when creation fails (as `main.ts` does), and records every teardown step that ran.
 */
export async function bootMemory(options: MemoryModuleOptions, extraProviders: Provider[] = []): Promise<BootedMemory> {
  const logs = new LogCapture().install();
  const coordinator = new ShutdownCoordinator({ timeoutMs: options.shutdownTimeoutMs ?? 5000 });
  const reports: StepReport[] = [];
  coordinator.onStep((report) => reports.push(report));

  @Module({})
  class HostModule {
    static register(): DynamicModule {
      return {
        module: HostModule,
        imports: [
          MemoryModule.forRoot({
            ...options,
            // A background tick in the middle of a test would consolidate what it is asserting
            // on; tests that want the schedule say so.
            consolidation: { cron: null, ...options.consolidation },
            shutdownCoordinator: coordinator,
            isGlobal: true,
          }),
        ],
        providers: extraProviders,
      };
    }
  }

  try {
    const app = await NestFactory.createApplicationContext(HostModule.register(), { abortOnError: false, logger: logs });
    return { app, coordinator, reports, logs };
  } catch (startupError) {
    // What main.ts does: whatever the providers registered before the failure is released.
    await coordinator.shutdown('startup failed');
    return { coordinator, reports, logs, startupError };
  }
}

/** A {@link BootedMemory} whose start succeeded. */
export type StartedMemory = BootedMemory & { app: INestApplicationContext };

/** {@link bootMemory} for a start that must succeed: throws what startup threw, so `app` is there. */
export async function bootStartedMemory(options: MemoryModuleOptions, extraProviders: Provider[] = []): Promise<StartedMemory> {
  const booted = await bootMemory(options, extraProviders);
  if (!booted.app) throw booted.startupError;
  return { ...booted, app: booted.app };
}

/**
 * A started app on its own in-memory PGlite, with the fake OpenAI-compatible LLM at `llmBaseUrl`
 * when given; throws what startup threw.
 */
export async function bootOnPglite(
  name: string,
  options: Partial<MemoryModuleOptions> = {},
  llmBaseUrl?: string,
): Promise<INestApplicationContext> {
  const { app } = await bootStartedMemory({
    databaseUrl: `pglite://memory/${name}-${randomUUID()}`,
    watchdogIntervalMs: 60_000,
    ...options,
    ...(llmBaseUrl && { llm: { provider: 'openai', baseUrl: llmBaseUrl, apiKey: 'x', maxRetries: 0 } }),
  });
  return app;
}
