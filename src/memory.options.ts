import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';

/** What a host application passes to `MemoryModule.forRoot()`; every field has a default. */
export interface MemoryModuleOptions {
  /**
   * `postgres://…` for a server, `pglite://memory[/name]` for an in-memory database, or
   * `pglite:///abs/dir` / `pglite://./rel/dir` for an embedded on-disk one.
   * Default `pglite://./.data/memory`. Ignored when `dataSource` is given.
   */
  databaseUrl?: string;
  /** The host's own TypeORM DataSource: migrated at startup, never closed by this module. */
  dataSource?: DataSource;
  /** Connections of the module's own pool on a PostgreSQL server (PGlite is always 1). Default 10. */
  poolSize?: number;
  /** Default 10 000. */
  connectTimeoutMs?: number;
  /** Attempts to reach the database before startup fails. Default 5. */
  connectAttempts?: number;
  /** First delay between attempts; it doubles each time. Default 250. */
  connectRetryDelayMs?: number;
  /** Upper bound of the whole teardown. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** Names this process in leases and logs. Default `<hostname>-<pid>-<random>`. */
  instanceId?: string;
  /** Interval of the watchdog's database ping. Default 5 000. */
  watchdogIntervalMs?: number;
  /**
   * A coordinator created by the caller, so that it can run teardown even when Nest fails to
   * create the application and no provider can be reached (see `main.ts`).
   */
  shutdownCoordinator?: ShutdownCoordinator;
}

const positiveInt = z.number().int().positive();

const optionsSchema = z
  .object({
    databaseUrl: z
      .string()
      .regex(/^(postgres|postgresql|pg|pglite|pglite\+file):/i, 'must start with postgres:// or pglite://')
      .default('pglite://./.data/memory'),
    dataSource: z.instanceof(DataSource).optional(),
    poolSize: positiveInt.max(1000).default(10),
    connectTimeoutMs: positiveInt.default(10_000),
    connectAttempts: positiveInt.max(100).default(5),
    connectRetryDelayMs: z.number().int().nonnegative().default(250),
    shutdownTimeoutMs: positiveInt.default(10_000),
    instanceId: z.string().min(1).default(() => `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
    watchdogIntervalMs: positiveInt.default(5_000),
    shutdownCoordinator: z.instanceof(ShutdownCoordinator).optional(),
  })
  .strict();

export type ResolvedMemoryOptions = z.output<typeof optionsSchema>;

export class InvalidMemoryOptionsError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid MemoryModule options: ${issues.join('; ')}`);
  }
}

/** Validates once at startup, naming each bad option, and fills in the defaults. */
export function resolveMemoryOptions(options: MemoryModuleOptions = {}): ResolvedMemoryOptions {
  const parsed = optionsSchema.safeParse(withoutUndefined(options));
  if (!parsed.success) {
    throw new InvalidMemoryOptionsError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)');
        return `option '${name}' ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

function withoutUndefined(options: object): object {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
