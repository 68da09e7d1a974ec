import { eventually } from './eventually.js';

/** Anything that runs one statement and returns its rows: `MemoryDatabase`, for one. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/** Tables whose rows carry a claim lease (`lease_expires_at`). */
export type LeasedTable = 'operations' | 'memory_units' | 'webhook_deliveries';

/**
 * Resolves once the lease on row `id` of `table` has run out by the database's clock, the one
 * every claim compares against. Sleeping the lease's length on the test's clock instead is a
 * guess: the two clocks and the moment the lease was stamped differ by however busy the machine
 * is.
 */
export async function leaseExpired(database: Queryable, table: LeasedTable, id: string, timeoutMs = 10_000): Promise<void> {
  await eventually(
    async () => {
      const rows = await database.query<{ expired: boolean | null }>(
        `SELECT lease_expires_at < now() AS expired FROM ${table} WHERE id = $1`,
        [id],
      );
      if (rows.length === 0) throw new Error(`no ${table} row ${id}`);
      return rows[0].expired;
    },
    (expired) => expired === true,
    timeoutMs,
  );
}
