import type { Sql } from './memory-database.js';

/**
 * A round that one instance of a fleet runs at a time, on one pooled connection: a session
 * advisory lock on the hash of `name`, not a transaction's, since the work may run statements that
 * cannot run in one (`CREATE INDEX CONCURRENTLY`). The other instances skip their turn rather
 * than wait for it.
 */
export async function trySessionLock(sql: Pick<Sql, 'query'>, name: string): Promise<boolean> {
  const [{ locked }] = await sql.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [name]);
  return locked;
}

export async function releaseSessionLock(sql: Pick<Sql, 'query'>, name: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_unlock(hashtext($1))`, [name]);
}

/**
 * Runs `work` while this session holds the lock named `name`, and releases it whatever `work`
 * did; false, without running `work`, when another session holds it.
 */
export async function inTurnOfTheFleet(sql: Pick<Sql, 'query'>, name: string, work: () => Promise<void>): Promise<boolean> {
  if (!(await trySessionLock(sql, name))) return false;
  try {
    await work();
  } finally {
    await releaseSessionLock(sql, name);
  }
  return true;
}
