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
