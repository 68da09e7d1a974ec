import type { Sql } from '../storage/memory-database.js';

export interface BankRow {
  id: string;
  name: string | null;
  mission: string;
  config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

export interface BankListRow extends BankRow {
  fact_count: string;
  last_document_at: Date | null;
  last_write_at: Date | null;
}

export interface BankContentCountsRow {
  units: string;
  entities: string;
  documents: string;
}

export interface BankStatCountsRow {
  documents: string;
  entities: string;
  links: string;
  pending: string;
  failed: string;
  last_write: Date | null;
  last_consolidated: Date | null;
}

export async function listBanks(sql: Sql): Promise<BankListRow[]> {
  return sql.query<BankListRow>(`
      SELECT b.*,
             (SELECT count(*) FROM memory_units m WHERE m.bank_id = b.id) AS fact_count,
             (SELECT max(d.created_at) FROM documents d WHERE d.bank_id = b.id) AS last_document_at,
             (SELECT max(m.created_at) FROM memory_units m WHERE m.bank_id = b.id) AS last_write_at
        FROM banks b
       ORDER BY b.created_at, b.id`);
}

export async function findBank(sql: Sql, bankId: string): Promise<BankRow | undefined> {
  const [row] = await sql.query<BankRow>(`SELECT * FROM banks WHERE id = $1`, [bankId]);
  return row;
}

/**
 * Whether the bank exists, for a read that answers 404 otherwise. Every API recall asks it, so it
 * is prepared and reads no column: `findBank` sent the bank's whole row (profile, config) to be
 * parsed and dropped.
 */
export async function bankExists(sql: Sql, bankId: string): Promise<boolean> {
  const rows = await sql.queryPrepared(`SELECT 1 FROM banks WHERE id = $1`, [bankId]);
  return rows.length > 0;
}

/** Locks the bank row for a change of its profile or config; false when there is no such bank. */
export async function lockBank(sql: Sql, bankId: string): Promise<boolean> {
  const [row] = await sql.query(`SELECT id FROM banks WHERE id = $1 FOR UPDATE`, [bankId]);
  return row !== undefined;
}

/** Creates the bank if it is missing; retain into an unknown bank creates it. */
export async function ensureBank(sql: Sql, bankId: string): Promise<void> {
  await sql.query(`INSERT INTO banks (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [bankId]);
}

/** A `null` name keeps the current one; `overrides` are merged over the stored config. */
export async function updateBankProfile(
  sql: Sql,
  bankId: string,
  name: string | null,
  overrides: Record<string, unknown>,
): Promise<BankRow> {
  const [row] = await sql.query<BankRow>(
    `UPDATE banks
        SET name = COALESCE($2, name),
            config = config || $3::jsonb,
            updated_at = now()
      WHERE id = $1
      RETURNING *`,
    [bankId, name, JSON.stringify(overrides)],
  );
  return row;
}

export async function mergeBankConfig(sql: Sql, bankId: string, overrides: Record<string, unknown>): Promise<BankRow> {
  const [row] = await sql.query<BankRow>(`UPDATE banks SET config = config || $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *`, [
    bankId,
    JSON.stringify(overrides),
  ]);
  return row;
}

export async function resetBankConfig(sql: Sql, bankId: string): Promise<BankRow> {
  const [row] = await sql.query<BankRow>(`UPDATE banks SET config = '{}'::jsonb, updated_at = now() WHERE id = $1 RETURNING *`, [bankId]);
  return row;
}

/** What deleting the bank will take with it. */
export async function countBankContents(sql: Sql, bankId: string): Promise<BankContentCountsRow> {
  const [counts] = await sql.query<BankContentCountsRow>(
    `SELECT (SELECT count(*) FROM memory_units WHERE bank_id = $1) AS units,
            (SELECT count(*) FROM entities WHERE bank_id = $1) AS entities,
            (SELECT count(*) FROM documents WHERE bank_id = $1) AS documents`,
    [bankId],
  );
  return counts;
}

/** Everything in the bank goes with it, by cascade. */
export async function deleteBank(sql: Sql, bankId: string): Promise<void> {
  await sql.query(`DELETE FROM banks WHERE id = $1`, [bankId]);
}

export async function countMemoriesByType(sql: Sql, bankId: string): Promise<Array<{ fact_type: string; n: string }>> {
  return sql.query<{ fact_type: string; n: string }>(
    `SELECT fact_type, count(*) AS n FROM memory_units WHERE bank_id = $1 GROUP BY fact_type`,
    [bankId],
  );
}

export async function countOperationsByStatus(sql: Sql, bankId: string): Promise<Array<{ status: string; n: string }>> {
  return sql.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM operations WHERE bank_id = $1 GROUP BY status`, [
    bankId,
  ]);
}

export async function bankStatCounts(sql: Sql, bankId: string): Promise<BankStatCountsRow> {
  const [row] = await sql.query<BankStatCountsRow>(
    `SELECT (SELECT count(*) FROM documents WHERE bank_id = $1) AS documents,
            (SELECT count(*) FROM entities WHERE bank_id = $1) AS entities,
            (SELECT count(*) FROM unit_entities WHERE bank_id = $1) AS links,
            (SELECT count(*) FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'
               AND state = 'valid' AND consolidation_status IN ('pending', 'claimed')) AS pending,
            (SELECT count(*) FROM memory_units WHERE bank_id = $1 AND consolidation_status = 'failed') AS failed,
            (SELECT max(created_at) FROM memory_units WHERE bank_id = $1) AS last_write,
            (SELECT max(consolidated_at) FROM memory_units WHERE bank_id = $1) AS last_consolidated`,
    [bankId],
  );
  return row;
}
