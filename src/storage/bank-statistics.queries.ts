import type { Sql } from './memory-database.js';

/**
 * The tables recall reads by bank, whose statistics must know a bank for their plans to fit it:
 * a bank's rows in each grow with its memories, so a bank the statistics of one have not seen is
 * new to all three.
 */
export const BANK_STATISTICS_TABLES = ['memory_units', 'unit_entities', 'entities'] as const;

/**
 * The lock of the check (src/storage/session-lock.queries.ts): one instance of a fleet at a time
 * counts the banks and analyses, the others skip their turn. Two analyses of one table at once
 * would queue on its lock and read the same sample twice.
 */
export const BANK_STATISTICS_LOCK = 'nestjs-memory:bank-statistics';

/**
 * Rows of `memory_units` inserted, updated or deleted since its last analysis, by anyone. A bank
 * can have grown unseen by at most this many memories. Flushes this session's own counters first
 * (PGlite publishes them only when told, and the PostgreSQL servers this runs on, from 15, take
 * the same call); other sessions' counters reach the view when they next go idle.
 */
export async function memoriesChangedSinceAnalysis(sql: Sql): Promise<number> {
  await sql.query(`SELECT pg_stat_force_next_flush()`);
  const [row] = await sql.query<{ changed: string }>(
    `SELECT n_mod_since_analyze AS changed FROM pg_stat_user_tables WHERE relid = 'memory_units'::regclass`,
  );
  return Number(row?.changed ?? 0);
}

/**
 * Banks of at least `minMemories` memories that at least `grownBy` memories changed since the
 * last analysis could have been mostly written after it, largest first: a bank needs more than
 * half its memories to be new since then to be one the analysis had not seen, so a bank of more
 * than twice `grownBy` is not asked about. Read on a bank-led index, every memory counted.
 */
export async function banksThatMayBeUnseen(
  sql: Sql,
  { minMemories, grownBy }: { minMemories: number; grownBy: number },
): Promise<Array<{ bankId: string; memories: number }>> {
  const rows = await sql.query<{ bank_id: string; memories: string }>(
    `SELECT bank_id, count(*) AS memories FROM memory_units
      GROUP BY bank_id HAVING count(*) >= $1 AND count(*) <= 2 * $2::bigint
      ORDER BY count(*) DESC, bank_id`,
    [minMemories, grownBy],
  );
  return rows.map((row) => ({ bankId: row.bank_id, memories: Number(row.memories) }));
}

/**
 * How many memories the planner expects `bankId` to hold: what every statement given the bank is
 * planned with. Asked of the planner itself (the bank id bound, as the statements bind it) rather
 * than worked out from `pg_stats`, whose rules for a value outside its common values differ
 * between versions.
 */
export async function plannedMemoriesOfBank(sql: Sql, bankId: string): Promise<number> {
  const [row] = await sql.query<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> | string }>(
    `EXPLAIN (FORMAT JSON) SELECT 1 FROM memory_units WHERE bank_id = $1`,
    [bankId],
  );
  const plan = row['QUERY PLAN'];
  // PGlite returns the JSON parsed, node-postgres as text.
  return (typeof plan === 'string' ? (JSON.parse(plan) as Array<{ Plan: { 'Plan Rows': number } }>) : plan)[0].Plan['Plan Rows'];
}

/** Fresh statistics for every table in {@link BANK_STATISTICS_TABLES}, in one statement. */
export async function analyzeBankTables(sql: Sql): Promise<void> {
  await sql.query(`ANALYZE ${BANK_STATISTICS_TABLES.join(', ')}`);
}
