import type { INestApplicationContext } from '@nestjs/common';
import type { MemoryModuleOptions } from '../src/memory.options.js';
import type { BenchmarkContext } from './harness.js';
import { bootStartedMemory } from '../test/helpers/memory-app.js';

/** An hour: longer than any benchmark, so a background round never starts inside one. */
const NOT_DURING_THE_RUN_MS = 3_600_000;

/**
 * A started app whose background loops (watchdog, operation and webhook pollers, bank index
 * maintenance, the check of new banks' statistics) wait an hour: nothing but what a benchmark
 * times touches the database while it is timed, and on PGlite no poll queues on the one
 * connection. A benchmark that wants one of those loops runs it itself, when it says.
 */
export async function bootQuietApp(databaseUrl: string, options: Partial<MemoryModuleOptions> = {}): Promise<INestApplicationContext> {
  const { app } = await bootStartedMemory({
    databaseUrl,
    watchdogIntervalMs: NOT_DURING_THE_RUN_MS,
    operations: { pollIntervalMs: NOT_DURING_THE_RUN_MS },
    webhooks: { pollIntervalMs: NOT_DURING_THE_RUN_MS },
    bankVectorIndexes: { intervalMs: NOT_DURING_THE_RUN_MS },
    // Off, not an hour away: on, a recall in a bank the planner misjudges would start a round.
    bankStatistics: { intervalMs: null },
    ...options,
  });
  return app;
}

/**
 * `use` on a quiet app over a new database of the benchmark's server; the app is closed and the
 * database dropped afterwards, whatever `use` did.
 */
export async function onQuietAppOfItsOwn<T>(
  context: BenchmarkContext,
  databasePrefix: string,
  use: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const database = await context.createDatabase(databasePrefix);
  try {
    const app = await bootQuietApp(database.url);
    try {
      return await use(app);
    } finally {
      await app.close();
    }
  } finally {
    await database.drop();
  }
}
