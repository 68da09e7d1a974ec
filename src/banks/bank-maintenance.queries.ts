import type { Sql } from '../storage/memory-database.js';

/**
 * The SQL of bank maintenance: clearing a bank's observations and giving failed consolidation
 * work another chance. The caller holds the bank row's lock, so a retain or an edit of the bank
 * cannot interleave.
 */

/** Deletes every observation of the bank, live or invalidated; returns how many went. */
export async function deleteBankObservations(sql: Sql, bankId: string): Promise<number> {
  const { affected } = await sql.execute(`DELETE FROM memory_units WHERE bank_id = $1 AND fact_type = 'observation'`, [bankId]);
  return affected;
}

/**
 * With no observation left, every live memory must be consolidated again in all its scopes, or
 * the bank would stay without observations until new memories arrive. Clearing the lease fences
 * off a batch that had claimed one: its token no longer matches, so it writes nothing.
 */
export async function requeueBankMemories(sql: Sql, bankId: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE memory_units
        SET consolidation_status = 'pending', consolidation_attempts = 0, consolidated_at = NULL, consolidation_error = NULL,
            consolidated_scopes = '{}', lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL, updated_at = now()
      WHERE bank_id = $1 AND fact_type <> 'observation' AND state = 'valid'`,
    [bankId],
  );
  return affected;
}

/**
 * Memories whose consolidation failed for good, or whose claim outlived its lease (the instance
 * that held it died), go back to pending with a fresh budget of attempts. Returns how many.
 */
export async function requeueFailedConsolidation(sql: Sql, bankId: string): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE memory_units
        SET consolidation_status = 'pending', consolidation_attempts = 0, consolidation_error = NULL,
            lease_owner = NULL, lease_expires_at = NULL, lease_token = NULL, updated_at = now()
      WHERE bank_id = $1 AND fact_type <> 'observation' AND state = 'valid'
        AND (consolidation_status = 'failed' OR (consolidation_status = 'claimed' AND lease_expires_at < now()))`,
    [bankId],
  );
  return affected;
}
