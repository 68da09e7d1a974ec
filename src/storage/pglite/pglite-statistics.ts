import type { DataSource } from 'typeorm';
import type { Sql } from '../memory-database.js';
import { PglitePool } from './pglite-pg-driver.js';

/** True when the DataSource is one of our PGlite sessions, which no autovacuum looks after. */
export function isPgliteDataSource(dataSource: DataSource): boolean {
  return (dataSource.driver as { master?: unknown }).master instanceof PglitePool;
}

export interface TableDueForAnalyze {
  /** As `regclass` prints it: quoted where it must be, so it can go into SQL as is. */
  table: string;
  /** Rows inserted, updated or deleted since the table's last analysis. */
  changed: number;
  /** Changed rows that made it due: the threshold plus the scale factor of its rows. */
  limit: number;
}

/**
 * The tables whose changed rows passed autovacuum's rule, most changed first.
 *
 * PGlite's cumulative statistics reach `pg_stat_user_tables` only when the backend flushes them,
 * at most once a second and never while a transaction is open; so this forces the flush first,
 * in a statement of its own, and reads in the next one. Run it outside a transaction.
 */
export async function tablesDueForAnalyze(sql: Sql, settings: { threshold: number; scaleFactor: number }): Promise<TableDueForAnalyze[]> {
  await sql.query(`SELECT pg_stat_force_next_flush()`);
  const rows = await sql.query<{ table: string; changed: string; limit: number }>(
    `SELECT s.relid::regclass::text AS "table", s.n_mod_since_analyze AS changed,
            $1::float8 + $2::float8 * greatest(c.reltuples, 0) AS "limit"
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.n_mod_since_analyze > $1::float8 + $2::float8 * greatest(c.reltuples, 0)
      ORDER BY s.n_mod_since_analyze DESC, 1`,
    [settings.threshold, settings.scaleFactor],
  );
  return rows.map((row) => ({ table: row.table, changed: Number(row.changed), limit: Math.round(row.limit) }));
}

export interface TableDueForVacuum {
  /** As `regclass` prints it. */
  table: string;
  /** Rows inserted since the table's last vacuum. */
  inserted: number;
  /** Dead rows: updated or deleted, and not yet reclaimed. */
  dead: number;
}

/**
 * The tables due by autovacuum's two vacuum rules (dead rows, or rows inserted since the last
 * vacuum), most rows to visit first. Flushes the statistics first, as {@link tablesDueForAnalyze}.
 */
export async function tablesDueForVacuum(
  sql: Sql,
  settings: { threshold: number; scaleFactor: number; insertThreshold: number; insertScaleFactor: number },
): Promise<TableDueForVacuum[]> {
  await sql.query(`SELECT pg_stat_force_next_flush()`);
  const rows = await sql.query<{ table: string; inserted: string; dead: string }>(
    `SELECT s.relid::regclass::text AS "table", s.n_ins_since_vacuum AS inserted, s.n_dead_tup AS dead
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.n_dead_tup > $1::float8 + $2::float8 * greatest(c.reltuples, 0)
         OR s.n_ins_since_vacuum > $3::float8 + $4::float8 * greatest(c.reltuples, 0)
      ORDER BY s.n_ins_since_vacuum + s.n_dead_tup DESC, 1`,
    [settings.threshold, settings.scaleFactor, settings.insertThreshold, settings.insertScaleFactor],
  );
  return rows.map((row) => ({ table: row.table, inserted: Number(row.inserted), dead: Number(row.dead) }));
}

/** `table` as {@link tablesDueForVacuum} returned it. Outside a transaction: `VACUUM` cannot run in one. */
export async function vacuumTable(sql: Sql, table: string): Promise<void> {
  await sql.query(`VACUUM ${table}`);
}

/** `table` as {@link tablesDueForAnalyze} returned it. */
export async function analyzeTable(sql: Sql, table: string): Promise<void> {
  await sql.query(`ANALYZE ${table}`);
}
