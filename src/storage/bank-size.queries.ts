import type { Sql } from './memory-database.js';

/**
 * How many memories the bank holds, counted up to `cap` (a bank at the cap holds at least that
 * many): reads at most `cap` index entries, so asking about a bank of millions costs what asking
 * about one of `cap` does. Recall's choices by bank size and the bank index rounds ask this.
 */
export async function memoriesHeldUpTo(sql: Sql, bankId: string, cap: number): Promise<number> {
  const [row] = await sql.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM memory_units WHERE bank_id = $1 LIMIT $2) AS held`,
    [bankId, cap],
  );
  return Number(row.n);
}

/** True when the bank holds fewer than `count` memories; reads at most that many index entries. */
export async function bankHoldsFewerThan(sql: Sql, bankId: string, count: number): Promise<boolean> {
  return (await memoriesHeldUpTo(sql, bankId, count)) < count;
}
