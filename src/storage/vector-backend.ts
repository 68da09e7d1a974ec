import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Sql } from './memory-database.js';
import { isPgliteDataSource } from './pglite/pglite-statistics.js';

export type VectorBackendKind = 'pgvector' | 'real-array';

/**
 * The type an HNSW index reads the embeddings as. pgvector's HNSW takes `vector` up to 2,000
 * dimensions, which leaves out common models (3,072 for OpenAI's text-embedding-3-large and
 * Gemini's), and `halfvec`, half the bytes at half precision, up to 4,000. The column stays
 * `vector`, so only the index and the distances that walk it are at half precision; an exact scan
 * compares at full precision.
 */
export type HnswOperand = 'vector' | 'halfvec';

/** The most dimensions pgvector's HNSW index takes of each type. */
export const HNSW_MAX_DIMENSIONS: Readonly<Record<HnswOperand, number>> = { vector: 2000, halfvec: 4000 };

/**
 * What an HNSW index can read embeddings of `dimension` as: `vector` where it fits, `halfvec`
 * (pgvector 0.7 or later) up to its own limit, otherwise none, and recall scans every bank exactly.
 */
export function hnswOperandFor(dimension: number, { halfvec = true } = {}): HnswOperand | null {
  if (dimension <= HNSW_MAX_DIMENSIONS.vector) return 'vector';
  return halfvec && dimension <= HNSW_MAX_DIMENSIONS.halfvec ? 'halfvec' : null;
}

/** What an HNSW index over the embeddings is built on: their dimension and the type it reads them as. */
export interface EmbeddingIndexing {
  readonly dimension: number;
  /** `null`: no HNSW index can hold them (no pgvector, or too many dimensions). */
  readonly hnswOperand: HnswOperand | null;
}

/** The indexing of embeddings of `dimension` on a pgvector with `halfvec` (0.7 or later). */
export const embeddingIndexing = (dimension: number): EmbeddingIndexing => ({ dimension, hnswOperand: hnswOperandFor(dimension) });

/**
 * The access method, expression and operator class of every HNSW index on the embeddings, the
 * shared one and the banks' own alike, so that the same distance expression matches them all.
 */
export function hnswIndexMethod({ dimension, hnswOperand }: EmbeddingIndexing): string {
  if (hnswOperand === null) throw new Error(`Embeddings of ${dimension} dimensions cannot have an HNSW index`);
  return `hnsw ((embedding::${hnswOperand}(${dimension})) ${hnswOperand}_cosine_ops)`;
}

/**
 * How embeddings are stored and compared. The kind was chosen once, by the initial migration,
 * from whether the server could create the `vector` extension; every instance reads it back
 * from `memory_settings`.
 */
export interface VectorBackend extends EmbeddingIndexing {
  readonly kind: VectorBackendKind;
  /** The text to bind for a vector parameter (`vectorComponents` in the back end's brackets). */
  serialize(vector: readonly number[]): string;
  /**
   * Many vectors as one bound array, for a multi-row write that `unnest`s its columns: the value
   * to bind, and the array type to cast its parameter to. `param` then casts each element.
   */
  serializeColumn(vectors: ReadonlyArray<readonly number[]>): VectorColumn;
  /** SQL for a bound vector parameter, e.g. `$2`, with the cast the back end needs. */
  param(placeholder: string): string;
  /**
   * Cosine distance (0 = same direction) between the `embedding` column of `alias` and a
   * parameter, in the form the HNSW indexes are built on where there are any.
   */
  distance(alias: string, placeholder: string): string;
  /**
   * The same distance at the column's own precision, which no HNSW index matches: what an exact
   * scan computes, so that the planner cannot take the index instead.
   */
  exactDistance(alias: string, placeholder: string): string;
}

/**
 * A column of vectors as bound: PostgreSQL's binary array of `vector`s where the driver sends a
 * Buffer as a binary parameter (node-postgres), otherwise the vectors' text in a `text[]`.
 */
export type VectorColumn = { value: Buffer; arrayType: 'vector[]' } | { value: string[]; arrayType: 'text[]' };

/**
 * A vector's components as text, each at float4 precision, which is what both back ends store
 * (pgvector's `vector` and `real[]`), in the 9 significant digits a float4 needs to be read back
 * unchanged. JavaScript prints a double's shortest form instead, up to 17 digits: for embeddings
 * of 384 dimensions, 782 against 511 KB of statement per retain of 100 memories, and 11–12
 * against 8–9 ms of the event loop to print them (measured on normalised random vectors).
 */
export function vectorComponents(vector: readonly number[]): string {
  // Joined, not appended with `+=`: appending builds a rope of one node per piece, about 32 KB
  // for 384 components until something flattens it, where the joined text is one flat 4 KB
  // string. A benchmark that held 100k of them in ropes had a 3.8 GB heap.
  const components = new Array<string>(vector.length);
  for (let index = 0; index < vector.length; index += 1) components[index] = Math.fround(vector[index]).toPrecision(9);
  return components.join(',');
}

/**
 * Vectors in the binary form of a one-dimensional `vector[]` (what `array_send` writes, and so
 * what the server's `array_recv` reads): a header naming the element type, then each element as
 * pgvector's `vector_send` writes it, its dimension and its components as big-endian float4.
 *
 * Written by hand because it is the whole reason for binding binary: a retain of 100 memories of
 * 384 dimensions bound as text is 400 KB the event loop prints and escapes and the server parses
 * back, twice (as a `text[]`, then each element as a `vector`), about a quarter of a batch's CPU
 * on both sides (docs/SCALING.md, "Retain throughput").
 */
export function binaryVectorArray(vectorTypeOid: number, vectors: ReadonlyArray<readonly number[]>): Buffer {
  const header = vectors.length === 0 ? 12 : 20;
  let size = header;
  for (const vector of vectors) size += 8 + 4 * vector.length;
  const buffer = Buffer.allocUnsafe(size);
  let at = buffer.writeInt32BE(vectors.length === 0 ? 0 : 1, 0);
  at = buffer.writeInt32BE(0, at); // no NULL elements
  at = buffer.writeUInt32BE(vectorTypeOid, at);
  if (vectors.length > 0) {
    at = buffer.writeInt32BE(vectors.length, at);
    at = buffer.writeInt32BE(1, at); // the lower bound
  }
  for (const vector of vectors) {
    at = buffer.writeInt32BE(4 + 4 * vector.length, at);
    at = buffer.writeInt16BE(vector.length, at);
    at = buffer.writeInt16BE(0, at); // pgvector's unused field
    for (const component of vector) at = buffer.writeFloatBE(component, at);
  }
  return buffer;
}

/** Each vector's text in a `text[]`, cast back per element by the back end's `param`. */
function textColumn(backend: Pick<VectorBackend, 'serialize'>, vectors: ReadonlyArray<readonly number[]>): VectorColumn {
  return { value: vectors.map((vector) => backend.serialize(vector)), arrayType: 'text[]' };
}

/** node-postgres binds a Buffer as a binary parameter; PGlite, and pg-native through libpq, bind it as text. */
export function bindsBuffersAsBinary(dataSource: DataSource): boolean {
  return !isPgliteDataSource(dataSource) && (dataSource.options as { native?: boolean }).native !== true;
}

class PgvectorBackend implements VectorBackend {
  readonly kind = 'pgvector';
  constructor(
    readonly dimension: number,
    readonly hnswOperand: HnswOperand | null,
    /** The `vector` type's OID where parameters may be bound binary; `null` binds text. */
    private readonly binaryTypeOid: number | null,
  ) {}
  serialize(vector: readonly number[]): string {
    return `[${vectorComponents(vector)}]`;
  }
  serializeColumn(vectors: ReadonlyArray<readonly number[]>): VectorColumn {
    if (this.binaryTypeOid === null) return textColumn(this, vectors);
    return { value: binaryVectorArray(this.binaryTypeOid, vectors), arrayType: 'vector[]' };
  }
  param(placeholder: string): string {
    return `${placeholder}::vector(${this.dimension})`;
  }
  distance(alias: string, placeholder: string): string {
    // The column is a dimensionless `vector`; the cast matches the HNSW expression index.
    if (this.hnswOperand === null) return this.exactDistance(alias, placeholder);
    const typed = `${this.hnswOperand}(${this.dimension})`;
    return `(${alias}.embedding::${typed} <=> ${placeholder}::${typed})`;
  }
  exactDistance(alias: string, placeholder: string): string {
    return `(${alias}.embedding <=> ${this.param(placeholder)})`;
  }
}

class RealArrayBackend implements VectorBackend {
  readonly kind = 'real-array';
  readonly hnswOperand = null;
  constructor(readonly dimension: number) {}
  serialize(vector: readonly number[]): string {
    return `{${vectorComponents(vector)}}`;
  }
  serializeColumn(vectors: ReadonlyArray<readonly number[]>): VectorColumn {
    // Text: `unnest` of a two-dimensional `real[]` would flatten it into components.
    return textColumn(this, vectors);
  }
  param(placeholder: string): string {
    return `${placeholder}::real[]`;
  }
  distance(alias: string, placeholder: string): string {
    return `memory_cosine_distance(${alias}.embedding, ${this.param(placeholder)})`;
  }
  exactDistance(alias: string, placeholder: string): string {
    return this.distance(alias, placeholder);
  }
}

export class EmbeddingDimensionMismatchError extends Error {
  constructor(stored: number, configured: number) {
    super(
      `The database holds ${stored}-dimensional embeddings but the embedder is configured for ${configured}: ` +
        're-embed into a new database or configure the same dimension',
    );
  }
}

const logger = new Logger('VectorBackend');

/** The HNSW index every bank shares, where banks get no indexes of their own. */
export function sharedIndexName(dimension: number): string {
  return `memory_units_embedding_hnsw_${dimension}`;
}

/**
 * Whether this instance wants the HNSW index every bank shares (pgvector only):
 * - `create`: it serves every bank (bank indexes turned off, or PGlite without them);
 * - `none`: this instance maintains the large banks' own indexes
 *   (src/storage/bank-vector-indexes.service.ts), so no bank needs one: recall scans a smaller
 *   bank exactly, so a shared graph would hold rows that no recall walks, and every retain would
 *   still pay to insert them, the larger part of a retained memory's cost on PostgreSQL
 *   (docs/SCALING.md, "Retain throughput"); one left from before is dropped by that maintenance
 *   once every large bank has its own;
 * - `unless-banks-have-their-own`: this instance builds no bank indexes only because its pool is
 *   too small to hold a connection for a build, so it follows the fleet: where other instances
 *   maintain them, creating the shared index would only have them drop it again.
 */
export type SharedIndexPolicy = 'create' | 'none' | 'unless-banks-have-their-own';

/** `memory_settings` key recording which HNSW indexes the fleet keeps: `per-bank` or `shared`. */
const VECTOR_INDEXES_SETTING = 'vector_indexes';

/**
 * Reads the back end the migration chose, pins the embedding dimension on first use, and on
 * pgvector applies `sharedIndex` to the HNSW index every bank shares (an index needs a fixed
 * dimension, which migrations cannot know), recording in `memory_settings` which indexes the
 * fleet keeps.
 */
export async function prepareVectorBackend(
  sql: Sql,
  dimension: number,
  {
    sharedIndex = 'create',
    binaryParameters = false,
  }: {
    sharedIndex?: SharedIndexPolicy;
    /** The driver sends a Buffer as a binary parameter (node-postgres does; PGlite sends it as text). */
    binaryParameters?: boolean;
  } = {},
): Promise<VectorBackend> {
  const settings = await sql.query<{ key: string; value: string }>(
    `SELECT key, value FROM memory_settings WHERE key IN ('vector_backend', 'embedding_dimension')`,
  );
  const kind = (settings.find((row) => row.key === 'vector_backend')?.value ?? 'real-array') as VectorBackendKind;
  await sql.query(`INSERT INTO memory_settings (key, value) VALUES ('embedding_dimension', $1) ON CONFLICT (key) DO NOTHING`, [
    String(dimension),
  ]);
  const [{ value: stored }] = await sql.query<{ value: string }>(`SELECT value FROM memory_settings WHERE key = 'embedding_dimension'`);
  if (Number(stored) !== dimension) throw new EmbeddingDimensionMismatchError(Number(stored), dimension);

  if (kind === 'pgvector') {
    const indexing = await indexingOf(sql, dimension);
    await applySharedIndexPolicy(sql, indexing, sharedIndex);
    if (!binaryParameters) return new PgvectorBackend(dimension, indexing.hnswOperand, null);
    // Resolved as every statement's `::vector` casts resolve it, through the search path.
    const [{ oid }] = await sql.query<{ oid: number }>(`SELECT 'vector'::regtype::oid AS oid`);
    return new PgvectorBackend(dimension, indexing.hnswOperand, Number(oid));
  }
  const [{ major }] = await sql.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
  logger.warn(realArrayWarning(major));
  return new RealArrayBackend(dimension);
}

/** Records which HNSW indexes the fleet keeps, for the instances that follow it (`unless-banks-have-their-own`). */
export async function recordVectorIndexes(sql: Sql, kept: 'per-bank' | 'shared'): Promise<void> {
  await sql.query(`INSERT INTO memory_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [
    VECTOR_INDEXES_SETTING,
    kept,
  ]);
}

/**
 * How this server's pgvector can index embeddings of `dimension`, said once at startup where it is
 * not the plain `vector` index: at half precision, or not at all.
 */
async function indexingOf(sql: Sql, dimension: number): Promise<EmbeddingIndexing> {
  if (dimension <= HNSW_MAX_DIMENSIONS.vector) return { dimension, hnswOperand: 'vector' };
  // `halfvec` came with pgvector 0.7; resolved through the search path as `vector` is.
  const [{ halfvec }] = await sql.query<{ halfvec: boolean }>(`SELECT to_regtype('halfvec') IS NOT NULL AS halfvec`);
  const hnswOperand = hnswOperandFor(dimension, { halfvec });
  if (hnswOperand === 'halfvec') {
    logger.log(
      `Embeddings of ${dimension} dimensions are more than pgvector's HNSW index takes as vector ` +
        `(${HNSW_MAX_DIMENSIONS.vector.toLocaleString('en-US')}): they are indexed as halfvec, at half precision, ` +
        'and exact scans still compare them at full precision',
    );
  } else {
    logger.warn(unindexedWarning(dimension, halfvec));
  }
  return { dimension, hnswOperand };
}

/**
 * What an exact scan of pgvector embeddings costs with no index, measured on PostgreSQL 15 and
 * pgvector 0.8 on 2 cores, 10,000 memories in one bank: 87 ms at 4,096 dimensions and 134 ms at
 * 8,192 (most of a memory's cost is reading its vector out of TOAST, not the arithmetic).
 */
const UNINDEXED_SCAN_MS_PER_1000_MEMORIES = { 4096: 9, 8192: 13 } as const;

/** The startup warning of pgvector embeddings that no HNSW index can hold. */
export function unindexedWarning(dimension: number, halfvec: boolean): string {
  const limit = halfvec
    ? `pgvector's HNSW index takes at most ${HNSW_MAX_DIMENSIONS.halfvec.toLocaleString('en-US')} (as halfvec)`
    : `pgvector's HNSW index takes at most ${HNSW_MAX_DIMENSIONS.vector.toLocaleString('en-US')} as vector, and this ` +
      `server's pgvector has no halfvec, which takes up to ${HNSW_MAX_DIMENSIONS.halfvec.toLocaleString('en-US')} (pgvector 0.7 or later)`;
  return (
    `Embeddings of ${dimension} dimensions have no HNSW index: ${limit}. The semantic arm of recall compares the ` +
    `question with every memory of the bank, about ${UNINDEXED_SCAN_MS_PER_1000_MEMORIES[4096]} ms per 1,000 memories ` +
    `at 4,096 dimensions and ${UNINDEXED_SCAN_MS_PER_1000_MEMORIES[8192]} at 8,192 on 2 cores, so a bank of about ` +
    '10,000 memories takes some 0.1 s. An embedding model or setting of fewer dimensions gets the index.'
  );
}

async function applySharedIndexPolicy(sql: Sql, indexing: EmbeddingIndexing, policy: SharedIndexPolicy): Promise<void> {
  // Nothing to create, and nothing for the fleet to follow.
  if (indexing.hnswOperand === null) return;
  if (policy === 'none') {
    await recordVectorIndexes(sql, 'per-bank');
    return;
  }
  if (policy === 'unless-banks-have-their-own') {
    const [kept] = await sql.query<{ value: string }>(`SELECT value FROM memory_settings WHERE key = $1`, [VECTOR_INDEXES_SETTING]);
    if (kept?.value === 'per-bank') {
      logger.log(
        'The large banks of this database have HNSW indexes of their own, maintained by other instances: this one, whose ' +
          'pool is too small to build them, creates no shared index either',
      );
      return;
    }
  }
  await sql.query(`CREATE INDEX IF NOT EXISTS ${sharedIndexName(indexing.dimension)} ON memory_units USING ${hnswIndexMethod(indexing)}`);
  await recordVectorIndexes(sql, 'shared');
}

/**
 * What the exact scan of `real[]` embeddings costs, from BENCHMARKS.md ("Recall latency", 2 cores):
 * the semantic arm takes about 0.32 s at 10,000 memories and 3.5 s at 100,000, linear in the bank.
 */
const EXACT_SCAN_MS_PER_1000_MEMORIES = 32;
/** Memories per bank whose exact scan stays under 100 ms, at that rate (rounded down). */
export const EXACT_SCAN_MEMORIES_UNDER_100_MS = Math.floor(100 / EXACT_SCAN_MS_PER_1000_MEMORIES) * 1000;

/** The startup warning of a database without pgvector: what it costs, and how to get the index. */
export function realArrayWarning(serverMajorVersion: number): string {
  return (
    'The pgvector extension is not available on this server: embeddings are stored as real[] and the semantic ' +
    `arm of recall compares the query with every memory of the bank, about ${EXACT_SCAN_MS_PER_1000_MEMORIES} ms per ` +
    `1,000 memories on 2 cores: up to about ${EXACT_SCAN_MEMORIES_UNDER_100_MS.toLocaleString('en-US')} memories per bank ` +
    'stay under 100 ms, 10,000 take some 0.3 s and 100,000 some 3.5 s. For an HNSW index, install pgvector on the server ' +
    `(Debian/Ubuntu: apt install postgresql-${serverMajorVersion}-pgvector; or the pgvector/pgvector Docker image), ` +
    'run CREATE EXTENSION vector in the database as a superuser, and start on a new database: the vector back end is ' +
    'chosen once, when a database is first migrated.'
  );
}
