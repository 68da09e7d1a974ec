import type { Sql } from '../storage/memory-database.js';

export async function ping(sql: Sql): Promise<void> {
  await sql.query('SELECT 1');
}

/** Seconds since the oldest memory still waiting for consolidation was created; null when none waits. */
export async function consolidationLagSeconds(sql: Sql): Promise<number | null> {
  const [lag] = await sql.query<{ seconds: number | null }>(
    `SELECT extract(epoch FROM now() - min(created_at))::float8 AS seconds FROM memory_units
      WHERE fact_type <> 'observation' AND state = 'valid' AND consolidation_status IN ('pending', 'claimed')`,
  );
  return lag?.seconds ?? null;
}

/*
 * Claims with an expired lease are already claimable by anyone; handing them back to `pending`
 * makes that visible in stats and operations lists, and costs the dead holder nothing it could
 * still use: its writes are fenced by a token that no longer matches a processing row. Each
 * returns how many claims it handed back.
 */

export async function reclaimExpiredOperations(sql: Sql): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE operations SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE status = 'processing' AND lease_expires_at < now()`,
  );
  return affected;
}

export async function reclaimExpiredMemoryClaims(sql: Sql): Promise<number> {
  const { affected } = await sql.execute(
    `UPDATE memory_units SET consolidation_status = 'pending', lease_owner = NULL, lease_expires_at = NULL
      WHERE consolidation_status = 'claimed' AND lease_expires_at < now()`,
  );
  return affected;
}
