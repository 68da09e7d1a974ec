import type { Sql } from './memory-database.js';
import { releaseSessionLock, trySessionLock } from './session-lock.queries.js';
import { type EmbeddingIndexing, hnswIndexMethod, sharedIndexName } from './vector-backend.js';

/**
 * The lock of the bank index maintenance (src/storage/session-lock.queries.ts): one instance of a
 * fleet counts the banks and builds, the others skip their turn.
 */
export const MAINTENANCE_LOCK = 'nestjs-memory:bank-vector-indexes';

/**
 * What a large bank gets of its own: its HNSW graph and its share of the full-text index. The
 * shared `memory_units_search` holds every bank's memories, so a large bank's keyword search read
 * the posting lists of every bank that uses a word (measured in BENCHMARKS.md, "Recall with 1,000
 * banks"); a partial GIN index holds the bank's postings alone, and the planner takes it for a
 * statement whose bound bank id proves its predicate, as it does the HNSW one.
 *
 * Only indexes whose entries have a bounded size: a btree entry holds at most 2,704 bytes, and a
 * memory's words, tags and an observation's sources have no bound (see `RETIRED_BANK_INDEXES`).
 */
export type BankIndexKind = 'hnsw' | 'full-text';

/** Everything that differs between the kinds, in one place. */
export const BANK_INDEX_KINDS: Readonly<
  Record<
    BankIndexKind,
    {
      /** What the logs call it. */
      label: string;
      /** Every bank index of this kind (and dimension) starts with this; the rest of the name is the bank's. */
      prefix: (dimension: number) => string;
      /** The access method and expression: the shared index's, so that the same statements match it. */
      method: (embeddings: EmbeddingIndexing) => string;
      /**
       * The largest share of the database's memories a bank may hold and still get one. A full-text
       * index of its own is for a bank the shared index holds mostly other banks' postings for: for
       * a bank that is most of the database it would be a second copy, written twice by every
       * retain. The HNSW one replaces the shared graph, so every large bank gets one.
       */
      maxShare: number;
    }
  >
> = {
  hnsw: {
    label: 'HNSW',
    prefix: (dimension) => `memory_units_embedding_hnsw_${dimension}_bank_`,
    method: hnswIndexMethod,
    maxShare: 1,
  },
  'full-text': { label: 'full-text', prefix: () => 'memory_units_search_bank_', method: () => 'gin (search_vector)', maxShare: 0.5 },
};

/**
 * Kinds of bank index that earlier versions built, by the prefix of their names, which every round
 * drops wherever it finds them (instances of an earlier version, during a rolling upgrade, build
 * them again; migration 1766600000000 drops them where no round runs).
 *
 * `keyword-walk` was a btree on `(mentioned_at DESC, id)` that carried what the keyword arm's walk
 * of the newest memories tests (state, type, tags, sources, words), so the walk read no table
 * page. Its entries were as large as those columns, and a btree entry holds at most 2,704 bytes: a
 * memory with a long context, or an observation of a few dozen sources, could not be written to
 * the bank at all, nor the index built where one such memory was. Measured without it, on the
 * same databases, fused recall did not change (BENCHMARKS.md, "Recall with 1,000 banks"): the
 * keyword arm runs on the second connection beside the entity arm, which is the longer.
 */
export const RETIRED_BANK_INDEXES = {
  'keyword-walk': { label: 'keyword walk', prefix: 'memory_units_mentioned_bank_' },
} as const;
export type RetiredBankIndexKind = keyof typeof RETIRED_BANK_INDEXES;
/** The kinds a bank gets: both, or full-text alone where no HNSW index can hold the embeddings. */
const kindsFor = ({ hnswOperand }: EmbeddingIndexing) =>
  (Object.keys(BANK_INDEX_KINDS) as BankIndexKind[]).filter((kind) => kind !== 'hnsw' || hnswOperand !== null);

/**
 * The name of a bank's own index: the prefix and 16 hex digits of the md5 of its id, so that the
 * catalog itself says which bank an index is for (no table of our own to keep in step with it)
 * and the name stays within PostgreSQL's 63 characters whatever the bank id.
 */
const indexNameOf = (prefix: string, bankId: string) => `${prefix} || left(md5(${bankId}), 16)`;

/** Another instance's turn, as the tests take it. */
export const tryMaintenanceLock = (sql: Sql) => trySessionLock(sql, MAINTENANCE_LOCK);
export const releaseMaintenanceLock = (sql: Sql) => releaseSessionLock(sql, MAINTENANCE_LOCK);

export interface BankIndexRule extends EmbeddingIndexing {
  /** A bank gets its own index from this many memories (counted as recall counts them, embedded or not). */
  minMemories: number;
}

export interface BankIndexState {
  bankId: string | null;
  kind: BankIndexKind;
  indexName: string;
  memories: number;
  /** False for an index left half-built by a build that was cancelled or died with its instance. */
  valid: boolean | null;
  action: 'create' | 'drop' | 'rebuild';
}

/**
 * What must change, for each kind of index: banks that have reached the rule, within the kind's
 * `maxShare`, without an index of their own (`create`), indexes whose bank is gone or has fallen
 * under half the rule (`drop`: the half keeps a bank near the line from being built and dropped
 * over and over), and indexes left invalid by an interrupted build (`rebuild`).
 */
export async function bankIndexChanges(sql: Sql, rule: BankIndexRule): Promise<BankIndexState[]> {
  const kinds = kindsFor(rule);
  const rows = await sql.query<{
    bank_id: string | null;
    kind: BankIndexKind;
    index_name: string;
    memories: string | number;
    valid: boolean | null;
    action: BankIndexState['action'];
  }>(
    `WITH kinds AS (
       SELECT * FROM unnest($1::text[], $2::text[], $4::float8[]) AS k(kind, prefix, max_share)
     ), sizes AS (
       -- Every memory, as recall's size checks count them (src/storage/bank-size.queries.ts): a
       -- count of the embedded ones read the whole table every round, 0.2 to 0.4 s at 100,000
       -- memories and growing with the database, where this one reads a bank-led index.
       SELECT bank_id, count(*) AS memories, sum(count(*)) OVER () AS everyone
         FROM memory_units GROUP BY bank_id
     ), banks_of_size AS (
       SELECT s.bank_id, s.memories, s.everyone, k.kind, k.max_share, ${indexNameOf('k.prefix', 's.bank_id')} AS index_name
         FROM sizes s CROSS JOIN kinds k
     ), existing AS (
       SELECT c.relname::text AS index_name, i.indisvalid AS valid, k.kind
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN kinds k ON starts_with(c.relname::text, k.prefix)
        WHERE i.indrelid = 'memory_units'::regclass
     )
     SELECT * FROM (
       SELECT b.bank_id, coalesce(e.kind, b.kind) AS kind, coalesce(e.index_name, b.index_name) AS index_name,
              coalesce(b.memories, 0) AS memories, e.valid,
              CASE WHEN e.index_name IS NULL THEN 'create'
                   WHEN b.bank_id IS NULL OR b.memories < $3 / 2 THEN 'drop'
                   ELSE 'rebuild' END AS action
         FROM banks_of_size b
         FULL JOIN existing e ON e.index_name = b.index_name
        WHERE (e.index_name IS NULL AND b.memories >= $3 AND b.memories <= b.everyone * b.max_share)
           OR (e.index_name IS NOT NULL AND (b.bank_id IS NULL OR b.memories < $3 / 2 OR NOT e.valid))
     ) AS changes
     -- What frees the server first, then the largest banks, whose exact scans cost most; a bank's
     -- HNSW graph before its other indexes, whose work the shared ones do meanwhile.
     ORDER BY CASE action WHEN 'drop' THEN 0 WHEN 'rebuild' THEN 1 ELSE 2 END, memories DESC, bank_id,
              array_position($1::text[], kind)`,
    [
      kinds,
      kinds.map((kind) => BANK_INDEX_KINDS[kind].prefix(rule.dimension)),
      rule.minMemories,
      kinds.map((kind) => BANK_INDEX_KINDS[kind].maxShare),
    ],
  );
  return rows.map((row) => ({
    bankId: row.bank_id,
    kind: row.kind,
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
 * Builds a bank's own index of one kind, by default without blocking its writes (`concurrently:
 * false` is for a bulk load that owns the table, which builds faster without the two passes).
 * DDL takes no bound parameters, so the server quotes the bank id into the statement itself
 * (`format`'s `%L` and `%I`), and the expression and operator class are the shared index's
 * (src/storage/vector-backend.ts, the initial migration): the arms' statements match it, and the
 * planner takes the index whose predicate their bound bank id proves.
 */
export async function createBankIndex(
  sql: Pick<Sql, 'query'>,
  embeddings: EmbeddingIndexing,
  bankId: string,
  { concurrently = true, kind = 'hnsw' as BankIndexKind } = {},
): Promise<string> {
  const name = indexNameOf('$2::text', '$1::text');
  const [{ index, ddl }] = await sql.query<{ index: string; ddl: string }>(
    `SELECT ${name} AS index,
            format('CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF NOT EXISTS %I ON memory_units USING ${BANK_INDEX_KINDS[kind].method(embeddings)} WHERE bank_id = %L',
                   ${name}, $1::text) AS ddl`,
    [bankId, BANK_INDEX_KINDS[kind].prefix(embeddings.dimension)],
  );
  await sql.query(ddl);
  return index;
}

/**
 * What pgvector needs to build a bank's HNSW graph in memory: its vector (4 bytes a component, 2
 * as `halfvec`) and about a kilobyte of neighbour lists and bookkeeping per memory, plus a fifth.
 * Measured: at dimension 384 the server's default 64 MB held 28,362 memories (2.4 KB each) before
 * pgvector said the graph no longer fit and went on tuple by tuple on disk, 90 s for a bank of
 * 100,000 against 36 s with room for the whole graph.
 */
export function hnswBuildBytes(memories: number, { dimension, hnswOperand }: EmbeddingIndexing): number {
  const componentBytes = hnswOperand === 'halfvec' ? 2 : 4;
  return Math.ceil(memories * (componentBytes * dimension + 1024) * 1.2);
}

/**
 * Runs `build` with `maintenance_work_mem` raised to `bytes` for this session (never lowered
 * below what it is), and puts the session's own value back afterwards, whatever `build` did: the
 * connection goes back to a pool that others share. A build that failed is reported as it
 * failed, not as the reset that may then fail on the same broken connection.
 */
export async function withBuildMemory<T>(sql: Pick<Sql, 'query'>, bytes: number, build: () => Promise<T>): Promise<T> {
  const reset = () => sql.query(`RESET maintenance_work_mem`);
  await sql.query(
    `SELECT set_config('maintenance_work_mem',
                       (greatest(pg_size_bytes(current_setting('maintenance_work_mem')), $1::bigint) / 1024)::text || 'kB', false)`,
    [bytes],
  );
  let built: T;
  try {
    built = await build();
  } catch (error) {
    await reset().catch(() => undefined);
    throw error;
  }
  await reset();
  return built;
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

/**
 * Whether the bank has a valid HNSW index of its own (an invalid one is a build cut short): what
 * recall, which scans a large bank exactly until then, waits for. Its full-text index is only
 * faster than the shared one, and comes with the next scheduled round.
 */
export async function bankHasOwnIndex(sql: Pick<Sql, 'query'>, dimension: number, bankId: string): Promise<boolean> {
  const [{ present }] = await sql.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE c.relname = ${indexNameOf('$2::text', '$1::text')} AND i.indisvalid) AS present`,
    [bankId, BANK_INDEX_KINDS.hnsw.prefix(dimension)],
  );
  return present;
}

/** The banks' indexes of a retired kind. */
export async function retiredBankIndexes(sql: Pick<Sql, 'query'>): Promise<Array<{ indexName: string; kind: RetiredBankIndexKind }>> {
  const kinds = Object.keys(RETIRED_BANK_INDEXES) as RetiredBankIndexKind[];
  return sql.query(
    `SELECT c.relname AS "indexName", k.kind
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN unnest($1::text[], $2::text[]) AS k(kind, prefix) ON starts_with(c.relname::text, k.prefix)
      WHERE i.indrelid = 'memory_units'::regclass
      ORDER BY 1`,
    [kinds, kinds.map((kind) => RETIRED_BANK_INDEXES[kind].prefix)],
  );
}

export async function dropBankIndex(sql: Sql, indexName: string): Promise<void> {
  const [{ ddl }] = await sql.query<{ ddl: string }>(`SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I', $1::text) AS ddl`, [indexName]);
  await sql.query(ddl);
}
