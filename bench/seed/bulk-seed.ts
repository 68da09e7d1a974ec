import { hashingVector } from '../../src/external/hashing-embedder.js';
import { canonicalEntityName } from '../../src/entities/entity-names.js';
import { extractFactsBySentence } from '../../src/retain/fact-extraction.js';
import { cl100kStorageCounter, memoryTokens } from '../../src/recall/token-counter.js';
import type { MemoryDatabase } from '../../src/storage/memory-database.js';
import { DEFAULT_BANK_VECTOR_INDEXES } from '../../src/memory.options.js';
import { bankIndexChanges, createBankIndex } from '../../src/storage/bank-vector-indexes.queries.js';
import { type VectorBackend, sharedIndexName, vectorComponents } from '../../src/storage/vector-backend.js';
import type { SyntheticMemory } from './synthetic-memories.js';

/**
 * Writes memories straight into the tables, in multi-row statements, as sync retain without an
 * LLM would have written them one request at a time: one `world` fact per sentence, dated by the
 * item's timestamp (occurred start, occurred end and mention time), its hashing embedding, and
 * links to the entities retain's proper-noun heuristic finds, with their mention counts.
 *
 * Retain itself runs a few statements per fact, which is what the retain benchmark measures;
 * at 100k memories that would take longer than the whole benchmark budget.
 */

/** Rows per INSERT: enough to amortise the round trip, few enough to keep a statement's parameters a few MB. */
const ROWS_PER_STATEMENT = 1000;
const LINKS_PER_STATEMENT = 20_000;

/** A memory with everything retain computes before its write: the fact, its entities, its embedding. */
export interface PreparedMemory {
  id: string;
  text: string;
  timestamp: Date;
  entities: Array<{ canonical: string; name: string }>;
  /** The embedding's components as `vectorComponents` prints them: the body of both back ends' text forms. */
  components: string;
}

/**
 * Extraction and embedding are a third of the cost of a load, and the same for both back ends,
 * so they are done once; `dimension` must be the embedder's.
 */
export function prepareMemories(memories: readonly SyntheticMemory[], dimension: number): PreparedMemory[] {
  return memories.map((memory) => {
    const facts = extractFactsBySentence({ content: memory.text, context: null, timestamp: memory.timestamp, entities: [] });
    if (facts.length !== 1) throw new Error(`a synthetic memory must be one sentence, got ${facts.length}: ${memory.text}`);
    const [fact] = facts;
    return {
      id: memory.id,
      text: fact.text,
      timestamp: memory.timestamp,
      entities: fact.entities.map((entity) => ({ canonical: canonicalEntityName(entity.name), name: entity.name })),
      components: vectorComponents(hashingVector(fact.text, dimension)),
    };
  });
}

export interface LoadTimings {
  /** Rows, entities and links. */
  loadMs: number;
  /** Recreating the secondary indexes of `memory_units` (the HNSW index among them on pgvector). */
  indexMs: number;
  /** Each of those indexes' build, in the order built. */
  indexBuilds: Array<{ name: string; ms: number }>;
}

/**
 * What autovacuum, or on PGlite the watchdog, does within a minute of a bulk load, done at once so
 * that every run measures the same settled database: `VACUUM`, which marks the loaded pages
 * all-visible (until then every index-only scan fetches each row from the table as well), and
 * `ANALYZE`, statistics for the planner.
 */
export async function settleAfterLoad(database: MemoryDatabase): Promise<void> {
  await database.query('VACUUM ANALYZE');
}

/**
 * Appends `memories` to `bankId` (created if needed); entities already in the bank are reused.
 *
 * The secondary indexes of `memory_units` are dropped for the load and recreated from their own
 * definitions afterwards, as pg_restore does: one bulk build is far cheaper than maintaining
 * them row by row, above all the HNSW graph, which PGlite (WebAssembly, one thread) would
 * otherwise extend at several milliseconds a row. Constraint indexes stay, so ids and
 * observation keys are still checked.
 */
export async function seedBank(
  database: MemoryDatabase,
  vectors: VectorBackend,
  bankId: string,
  memories: readonly PreparedMemory[],
): Promise<LoadTimings> {
  return seedBanks(database, vectors, [{ bankId, memories }]);
}

/**
 * `seedBank` for many banks at once: the indexes are dropped and rebuilt once for all of them.
 * On pgvector without the shared HNSW index (the default on PostgreSQL, where the large banks
 * get indexes of their own) each seeded bank of `bankIndexFrom` memories or more then gets the
 * indexes of its own that the maintenance rule gives it (`bankIndexChanges`), built here in bulk
 * as the maintenance round would build them while retains go on: a benchmark measures recall as a running fleet serves it, not the exact scan it makes until then.
 * `banks` may be a generator that prepares each part as it is asked for, and may name a bank more
 * than once: a million memories are loaded a part at a time without ever being held together.
 * `maintenanceWorkMem` is the memory the index builds may use; the HNSW graph of a large load
 * needs more than the default to be built in memory.
 */
export async function seedBanks(
  database: MemoryDatabase,
  vectors: VectorBackend,
  banks: Iterable<{ bankId: string; memories: readonly PreparedMemory[] }>,
  maintenanceWorkMem = '1GB',
  bankIndexFrom = DEFAULT_BANK_VECTOR_INDEXES.minMemories ?? Infinity,
): Promise<LoadTimings> {
  const indexes = await database.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
      WHERE i.indrelid = 'memory_units'::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
  );
  for (const { name } of indexes) await database.query(`DROP INDEX ${name}`);

  const loadStartedAt = performance.now();
  const seeded = new Set<string>();
  for (const { bankId, memories } of banks) {
    await loadBank(database, vectors, bankId, memories);
    seeded.add(bankId);
  }
  const loadMs = performance.now() - loadStartedAt;

  const indexStartedAt = performance.now();
  const indexBuilds: LoadTimings['indexBuilds'] = [];
  await database.transaction(async (sql) => {
    // pgvector builds the HNSW graph in memory only while it fits in maintenance_work_mem (64 MB
    // by default, about 30k embeddings of dimension 384); past that it inserts tuple by tuple
    // into the on-disk graph, several times slower.
    await sql.query(`SELECT set_config('maintenance_work_mem', $1, true)`, [maintenanceWorkMem]);
    for (const { name, definition } of indexes) {
      const startedAt = performance.now();
      await sql.query(definition);
      indexBuilds.push({ name, ms: performance.now() - startedAt });
    }
    if (vectors.kind !== 'pgvector' || !Number.isFinite(bankIndexFrom)) return;
    if (indexes.some(({ name }) => name === sharedIndexName(vectors.dimension))) return;
    // The indexes a maintenance round would build now, for the banks seeded here.
    const wanted = await bankIndexChanges(sql, {
      dimension: vectors.dimension,
      hnswOperand: vectors.hnswOperand,
      minMemories: bankIndexFrom,
    });
    for (const { bankId, kind, action } of wanted) {
      if (action !== 'create' || !seeded.has(bankId!)) continue;
      const startedAt = performance.now();
      const name = await createBankIndex(sql, vectors, bankId!, { concurrently: false, kind });
      indexBuilds.push({ name, ms: performance.now() - startedAt });
    }
  });
  return { loadMs, indexMs: performance.now() - indexStartedAt, indexBuilds };
}

async function loadBank(
  database: MemoryDatabase,
  vectors: VectorBackend,
  bankId: string,
  memories: readonly PreparedMemory[],
): Promise<void> {
  await database.query(`INSERT INTO banks (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING`, [bankId]);
  // Resolved first, as retain does, so that each row is written with its entities' ids.
  const entityIds = await createEntities(database, bankId, memories);
  const idsOf = (memory: PreparedMemory) => [...new Set(memory.entities.map(({ canonical }) => entityIds.get(canonical)!))];
  // Counted as retain counts them (`memoryTokens`), so that recall reads the stored count.
  const counter = await cl100kStorageCounter();
  for (let offset = 0; offset < memories.length; offset += ROWS_PER_STATEMENT) {
    const chunk = memories.slice(offset, offset + ROWS_PER_STATEMENT);
    // Each vector is cast from its text form, exactly as retain's bound parameter is.
    const [open, close] = vectors.kind === 'pgvector' ? ['[', ']'] : ['{', '}'];
    await database.query(
      `INSERT INTO memory_units
         (id, bank_id, text, fact_type, occurred_start, occurred_end, mentioned_at, metadata, tags, embedding, tokens_cl100k, entity_ids)
       SELECT r.id, $1, r.text, 'world', r.at, r.at, r.at, '{}'::jsonb, '{}'::text[], ${vectors.param('r.embedding')}, r.tokens, r.entity_ids::uuid[]
         FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::text[], $6::int[], $7::text[]) AS r(id, text, at, embedding, tokens, entity_ids)`,
      [
        bankId,
        chunk.map((memory) => memory.id),
        chunk.map((memory) => memory.text),
        chunk.map((memory) => memory.timestamp),
        chunk.map((memory) => `${open}${memory.components}${close}`),
        chunk.map((memory) => memoryTokens(counter, { text: memory.text, context: null })),
        chunk.map((memory) => `{${idsOf(memory).join(',')}}`),
      ],
    );
  }
  await linkEntities(
    database,
    bankId,
    memories.flatMap((memory) => idsOf(memory).map((entityId) => [memory.id, entityId])),
  );
}

async function createEntities(database: MemoryDatabase, bankId: string, memories: readonly PreparedMemory[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const memory of memories) {
    for (const { canonical, name } of memory.entities) if (!names.has(canonical)) names.set(canonical, name);
  }
  const entities = await database.query<{ id: string; canonical_name: string }>(
    `INSERT INTO entities (bank_id, name, canonical_name)
     SELECT $1, name, canonical FROM unnest($2::text[], $3::text[]) AS e(canonical, name)
     ON CONFLICT (bank_id, canonical_name) DO UPDATE SET last_seen = now()
     RETURNING id, canonical_name`,
    [bankId, [...names.keys()], [...names.values()]],
  );
  return new Map(entities.map((entity) => [entity.canonical_name, entity.id]));
}

async function linkEntities(database: MemoryDatabase, bankId: string, links: string[][]): Promise<void> {
  for (let offset = 0; offset < links.length; offset += LINKS_PER_STATEMENT) {
    const chunk = links.slice(offset, offset + LINKS_PER_STATEMENT);
    await database.query(
      `INSERT INTO unit_entities (bank_id, unit_id, entity_id)
       SELECT $1, * FROM unnest($2::uuid[], $3::uuid[]) ON CONFLICT DO NOTHING`,
      [bankId, chunk.map((link) => link[0]), chunk.map((link) => link[1])],
    );
  }
  // What retain's orphan sweep leaves behind: every entity counts the memories linked to it.
  await database.query(
    `UPDATE entities e SET mention_count = (SELECT count(*) FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id)
      WHERE e.bank_id = $1`,
    [bankId],
  );
}
