import type { Sql } from './memory-database.js';
import { sharedIndexName } from './vector-backend.js';

/**
 * `pg_try_advisory_lock` key of the bank index maintenance: one instance of a fleet counts the
 * banks and builds, the others skip their turn. A session lock, not a transaction's: the builds
 * it covers (`CREATE INDEX CONCURRENTLY`) cannot run inside a transaction.
 */
const MAINTENANCE_LOCK = `hashtext('nestjs-memory:bank-vector-indexes')`;

/** Every bank index of one dimension starts with this; the rest of the name is the bank's. */
export function bankIndexPrefix(dimension: number): string {
  return `memory_units_embedding_hnsw_${dimension}_bank_`;
}

/**
 * The name of a bank's own index: the prefix and 16 hex digits of the md5 of its id, so that the
 * catalog itself says which bank an index is for (no table of our own to keep in step with it)
 * and the name stays within PostgreSQL's 63 characters whatever the bank id.
 */
const indexNameOf = (dimension: number, bankId: string) => `'${bankIndexPrefix(dimension)}' || left(md5(${bankId}), 16)`;

export async function tryMaintenanceLock(sql: Sql): Promise<boolean> {
  const [{ locked }] = await sql.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${MAINTENANCE_LOCK}) AS locked`);
  return locked;
}

export async function releaseMaintenanceLock(sql: Sql): Promise<void> {
  await sql.query(`SELECT pg_advisory_unlock(${MAINTENANCE_LOCK})`);
}

export interface BankIndexRule {
  dimension: number;
  /** A bank gets its own index from this many memories with an embedding. */
  minMemories: number;
}

export interface BankIndexState {
  bankId: string | null;
  indexName: string;
  memories: number;
  /** False for an index left half-built by a build that was cancelled or died with its instance. */
  valid: boolean | null;
  action: 'create' | 'drop' | 'rebuild';
}

/**
 * What must change: banks that have reached the rule without an index of their own (`create`),
 * indexes whose bank is gone or has fallen under half the rule (`drop`: the half keeps a bank
 * near the line from being built and dropped over and over), and indexes left invalid by an
 * interrupted build (`rebuild`).
 */
export async function bankIndexChanges(sql: Sql, rule: BankIndexRule): Promise<BankIndexState[]> {
  const rows = await sql.query<{
    bank_id: string | null;
    index_name: string;
    memories: string | number;
    valid: boolean | null;
    action: BankIndexState['action'];
  }>(
    `WITH sizes AS (
       SELECT bank_id, count(*) AS memories FROM memory_units WHERE embedding IS NOT NULL GROUP BY bank_id
     ), banks_of_size AS (
       SELECT bank_id, memories, ${indexNameOf(rule.dimension, 'bank_id')} AS index_name FROM sizes
     ), existing AS (
       SELECT c.relname::text AS index_name, i.indisvalid AS valid
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'memory_units'::regclass AND starts_with(c.relname::text, $1)
     )
     SELECT * FROM (
       SELECT b.bank_id, coalesce(e.index_name, b.index_name) AS index_name, coalesce(b.memories, 0) AS memories, e.valid,
              CASE WHEN e.index_name IS NULL THEN 'create'
                   WHEN b.bank_id IS NULL OR b.memories < $2 / 2 THEN 'drop'
                   ELSE 'rebuild' END AS action
         FROM banks_of_size b
         FULL JOIN existing e ON e.index_name = b.index_name
        WHERE (e.index_name IS NULL AND b.memories >= $2)
           OR (e.index_name IS NOT NULL AND (b.bank_id IS NULL OR b.memories < $2 / 2 OR NOT e.valid))
     ) AS changes
     -- What frees the server first, then the largest banks, whose exact scans cost most.
     ORDER BY CASE action WHEN 'drop' THEN 0 WHEN 'rebuild' THEN 1 ELSE 2 END, memories DESC`,
    [bankIndexPrefix(rule.dimension), rule.minMemories],
  );
  return rows.map((row) => ({
    bankId: row.bank_id,
    indexName: row.index_name,
    memories: Number(row.memories),
    valid: row.valid,
    action: row.action,
  }));
}

/** The connection's backend, which another connection can cancel while this one builds. */
export async function backendPid(sql: Sql): Promise<number> {
  const [{ pid }] = await sql.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
  return Number(pid);
}

export async function cancelBackend(sql: Sql, pid: number): Promise<void> {
  await sql.query(`SELECT pg_cancel_backend($1)`, [pid]);
}

/**
 * Builds a bank's own HNSW index, by default without blocking its writes (`concurrently: false`
 * is for a bulk load that owns the table, which builds faster without the two passes). DDL takes
 * no bound parameters, so the server quotes the bank id into the statement itself (`format`'s
 * `%L` and `%I`), and the expression and operator class are the shared index's
 * (src/storage/vector-backend.ts): the semantic arm's statement matches it, and the planner
 * takes the index whose predicate its bound bank id proves.
 */
export async function createBankIndex(
  sql: Pick<Sql, 'query'>,
  dimension: number,
  bankId: string,
  { concurrently = true } = {},
): Promise<string> {
  const [{ name, ddl }] = await sql.query<{ name: string; ddl: string }>(
    `SELECT ${indexNameOf(dimension, '$1::text')} AS name,
            format('CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF NOT EXISTS %I ON memory_units USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WHERE bank_id = %L',
                   ${indexNameOf(dimension, '$1::text')}, $2::int, $1::text) AS ddl`,
    [bankId, dimension],
  );
  await sql.query(ddl);
  return name;
}

/**
 * Drops the index every bank shared (src/storage/vector-backend.ts) if it is there: a database
 * that had it before its banks got indexes of their own. True when there was one to drop.
 */
export async function dropSharedIndex(sql: Sql, dimension: number): Promise<boolean> {
  const name = sharedIndexName(dimension);
  const [{ present }] = await sql.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [name]);
  if (present) await sql.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  return present;
}

/** Whether the bank has a valid index of its own (an invalid one is a build cut short). */
export async function bankHasOwnIndex(sql: Pick<Sql, 'query'>, dimension: number, bankId: string): Promise<boolean> {
  const [{ present }] = await sql.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE c.relname = ${indexNameOf(dimension, '$1::text')} AND i.indisvalid) AS present`,
    [bankId],
  );
  return present;
}

export async function dropBankIndex(sql: Sql, indexName: string): Promise<void> {
  const [{ ddl }] = await sql.query<{ ddl: string }>(`SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I', $1::text) AS ddl`, [indexName]);
  await sql.query(ddl);
}
