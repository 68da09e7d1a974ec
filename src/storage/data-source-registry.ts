import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { DatabaseTarget, parseDatabaseUrl, redactDatabaseUrl } from './database-url.js';
import { runMemoryMigrations } from './migration-runner.js';
import { closePglite, openPglite } from './pglite/pglite-instances.js';
import { createPglitePgDriver } from './pglite/pglite-pg-driver.js';

export interface DataSourceSettings {
  /** Ignored for PGlite, which is one session: its pool is always 1. */
  poolSize: number;
  /** `pg`'s `idleTimeoutMillis`: 0 keeps idle connections until the pool ends. */
  poolIdleTimeoutMs: number;
  connectTimeoutMs: number;
  /** Attempts in all, not retries after the first. */
  connectAttempts: number;
  connectRetryDelayMs: number;
  applicationName: string;
  /** A new PGlite instance's buffer pool; `undefined` leaves it to the instance's location. */
  pgliteSharedBuffers?: string;
}

export const DEFAULT_DATA_SOURCE_SETTINGS: DataSourceSettings = {
  poolSize: 10,
  poolIdleTimeoutMs: 300_000,
  connectTimeoutMs: 10_000,
  connectAttempts: 5,
  connectRetryDelayMs: 250,
  applicationName: 'nestjs-memory',
};

export class DatabaseConnectError extends Error {
  constructor(url: string, attempts: number, cause: unknown) {
    super(`Could not connect to ${redactDatabaseUrl(url)} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage(cause)}`, {
      cause,
    });
  }
}

export class RegistryClosedError extends Error {
  constructor() {
    super('DataSourceRegistry is closed: no new database can be acquired during shutdown');
  }
}

interface Entry {
  target: DatabaseTarget;
  creation: Promise<DataSource>;
}

/**
 * One DataSource per database, however it is spelled and however many callers ask at once
 * (docs/ARCHITECTURE.md, "Invariant 3"). The creation promise is stored before its first `await`, so concurrent callers
 * share it; a failed creation is evicted after its partial resources are closed, so the next
 * caller starts afresh; migrations are part of the creation and so run once per DataSource.
 */
export class DataSourceRegistry {
  private readonly logger = new Logger(DataSourceRegistry.name);
  private readonly entries = new Map<string, Entry>();
  private readonly adopted = new WeakMap<DataSource, Promise<DataSource>>();
  private closing?: Promise<void>;

  constructor(
    private readonly settings: DataSourceSettings = DEFAULT_DATA_SOURCE_SETTINGS,
    private readonly migrate: (dataSource: DataSource) => Promise<unknown> = runMemoryMigrations,
  ) {}

  acquire(url: string): Promise<DataSource> {
    if (this.closing) return Promise.reject(new RegistryClosedError());
    const target = parseDatabaseUrl(url);
    const existing = this.entries.get(target.key);
    if (existing) return existing.creation;
    const entry: Entry = { target, creation: this.create(target) };
    this.entries.set(target.key, entry);
    entry.creation.catch(() => {
      if (this.entries.get(target.key) === entry) this.entries.delete(target.key);
    });
    return entry.creation;
  }

  /**
   * A DataSource the host application owns: migrated once here, never destroyed here, because
   * its lifetime is the host's.
   */
  adopt(dataSource: DataSource): Promise<DataSource> {
    if (this.closing) return Promise.reject(new RegistryClosedError());
    let adoption = this.adopted.get(dataSource);
    if (!adoption) {
      adoption = (async () => {
        if (!dataSource.isInitialized) await dataSource.initialize();
        await this.migrate(dataSource);
        return dataSource;
      })();
      this.adopted.set(dataSource, adoption);
      adoption.catch(() => this.adopted.delete(dataSource));
    }
    return adoption;
  }

  /** How many databases this registry holds or is still creating. */
  get size(): number {
    return this.entries.size;
  }

  /** Waits for creations still in flight, then closes every DataSource it created. Idempotent. */
  closeAll(): Promise<void> {
    this.closing ??= this.closeEverything();
    return this.closing;
  }

  private async closeEverything(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    const results = await Promise.allSettled(
      entries.map(async ({ target, creation }) => {
        const dataSource = await creation.catch(() => undefined);
        if (dataSource) await this.destroy(target, dataSource);
      }),
    );
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failures.length > 0) {
      throw new Error(`Closing databases failed: ${failures.map((failure) => errorMessage(failure.reason)).join('; ')}`);
    }
  }

  private async create(target: DatabaseTarget): Promise<DataSource> {
    const dataSource = await this.connect(target);
    try {
      await this.migrate(dataSource);
      return dataSource;
    } catch (error) {
      await this.destroy(target, dataSource).catch((closeError) =>
        this.logger.warn(`Closing ${describeTarget(target)} after a failed migration also failed: ${errorMessage(closeError)}`),
      );
      throw error;
    }
  }

  private async connect(target: DatabaseTarget): Promise<DataSource> {
    const attempts = Math.max(1, this.settings.connectAttempts);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      // A shutdown that began while we waited must not be answered with a fresh pool.
      if (this.closing) throw new RegistryClosedError();
      const dataSource = await this.build(target);
      try {
        await dataSource.initialize();
        if (attempt > 1) this.logger.log(`Connected to ${describeTarget(target)} on attempt ${attempt}`);
        return dataSource;
      } catch (error) {
        lastError = error;
        await this.destroy(target, dataSource).catch(() => undefined);
        if (attempt < attempts) {
          const delayMs = this.settings.connectRetryDelayMs * 2 ** (attempt - 1);
          this.logger.warn(
            `Connecting to ${describeTarget(target)} failed (attempt ${attempt}/${attempts}): ${errorMessage(error)}; retrying in ${delayMs}ms`,
          );
          await sleep(delayMs);
        }
      }
    }
    throw new DatabaseConnectError(target.key, attempts, lastError);
  }

  private async build(target: DatabaseTarget): Promise<DataSource> {
    if (target.kind === 'postgres') {
      return new DataSource({
        type: 'postgres',
        url: target.url,
        poolSize: this.settings.poolSize,
        extra: { idleTimeoutMillis: this.settings.poolIdleTimeoutMs },
        connectTimeoutMS: this.settings.connectTimeoutMs,
        applicationName: this.settings.applicationName,
        installExtensions: false,
        synchronize: false,
        migrationsRun: false,
        logging: false,
      });
    }
    const pglite = await openPglite(target.key, target.dataDir, this.settings.pgliteSharedBuffers);
    return new DataSource({
      type: 'postgres',
      driver: createPglitePgDriver(pglite),
      database: 'postgres',
      poolSize: 1,
      installExtensions: false,
      synchronize: false,
      migrationsRun: false,
      logging: false,
    });
  }

  private async destroy(target: DatabaseTarget, dataSource: DataSource): Promise<void> {
    try {
      if (dataSource.isInitialized) await dataSource.destroy();
    } finally {
      if (target.kind === 'pglite') await closePglite(target.key);
    }
  }
}

function describeTarget(target: DatabaseTarget): string {
  return redactDatabaseUrl(target.key);
}
