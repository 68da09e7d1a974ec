import { Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import { MemoryHealthIndicator } from './health/memory.health.js';
import { ReadinessService } from './health/readiness.service.js';
import { WatchdogService } from './health/watchdog.service.js';
import { MemoryLifecycle } from './lifecycle/memory-lifecycle.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import { MEMORY_DATA_SOURCE, MEMORY_OPTIONS } from './memory.constants.js';
import { ConfigurableMemoryModule, MEMORY_MODULE_OPTIONS } from './memory.module-definition.js';
import { type MemoryModuleOptions, type ResolvedMemoryOptions, resolveMemoryOptions } from './memory.options.js';
import { DataSourceRegistry } from './storage/data-source-registry.js';
import { MemoryDatabase } from './storage/memory-database.js';

const providers: Provider[] = [
  {
    provide: MEMORY_OPTIONS,
    inject: [MEMORY_MODULE_OPTIONS],
    useFactory: (options: MemoryModuleOptions) => resolveMemoryOptions(options),
  },
  {
    provide: ShutdownCoordinator,
    inject: [MEMORY_OPTIONS],
    useFactory: (options: ResolvedMemoryOptions) =>
      options.shutdownCoordinator ?? new ShutdownCoordinator({ timeoutMs: options.shutdownTimeoutMs }),
  },
  {
    provide: DataSourceRegistry,
    inject: [MEMORY_OPTIONS, ShutdownCoordinator],
    useFactory: (options: ResolvedMemoryOptions, coordinator: ShutdownCoordinator) => {
      const registry = new DataSourceRegistry({
        poolSize: options.poolSize,
        connectTimeoutMs: options.connectTimeoutMs,
        connectAttempts: options.connectAttempts,
        connectRetryDelayMs: options.connectRetryDelayMs,
        applicationName: 'nestjs-memory',
      });
      // Registered before the first acquire, so that a connect still in flight when startup
      // fails elsewhere is awaited and closed.
      coordinator.register('database', 'data-source-registry', () => registry.closeAll());
      return registry;
    },
  },
  {
    provide: MEMORY_DATA_SOURCE,
    inject: [MEMORY_OPTIONS, DataSourceRegistry, ShutdownCoordinator],
    useFactory: (options: ResolvedMemoryOptions, registry: DataSourceRegistry, coordinator: ShutdownCoordinator) =>
      coordinator.guardStartup('database', () =>
        options.dataSource ? registry.adopt(options.dataSource) : registry.acquire(options.databaseUrl),
      ),
  },
  {
    provide: MemoryDatabase,
    inject: [MEMORY_DATA_SOURCE],
    useFactory: (dataSource: DataSource) => new MemoryDatabase(dataSource),
  },
  ReadinessService,
  WatchdogService,
  MemoryHealthIndicator,
  MemoryLifecycle,
];

/**
 * Long-term memory for the host application, on its PostgreSQL or an embedded PGlite.
 *
 * `MemoryModule.forRoot({ databaseUrl })` or `forRootAsync({ imports, inject, useFactory })`;
 * `isGlobal: true` makes its services injectable everywhere.
 */
@Module({
  imports: [TerminusModule],
  providers,
  exports: [MEMORY_OPTIONS, ShutdownCoordinator, MemoryDatabase, ReadinessService, WatchdogService, MemoryHealthIndicator],
})
export class MemoryModule extends ConfigurableMemoryModule {}
