import { Logger } from '@nestjs/common';
import type { Sql } from './memory-database.js';

export type VectorBackendKind = 'pgvector' | 'real-array';

/**
 * How embeddings are stored and compared. The kind was chosen once, by the initial migration,
 * from whether the server could create the `vector` extension; every instance reads it back
 * from `memory_settings`.
 */
export interface VectorBackend {
  readonly kind: VectorBackendKind;
  readonly dimension: number;
  /** The value to bind for a vector parameter. */
  serialize(vector: number[]): unknown;
  /** SQL for a bound vector parameter, e.g. `$2`, with the cast the back end needs. */
  param(placeholder: string): string;
  /** Cosine distance (0 = same direction) between the `embedding` column of `alias` and a parameter. */
  distance(alias: string, placeholder: string): string;
}

class PgvectorBackend implements VectorBackend {
  readonly kind = 'pgvector';
  constructor(readonly dimension: number) {}
  serialize(vector: number[]): string {
    return `[${vector.join(',')}]`;
  }
  param(placeholder: string): string {
    return `${placeholder}::vector(${this.dimension})`;
  }
  distance(alias: string, placeholder: string): string {
    // The column is a dimensionless `vector`; the cast matches the HNSW expression index.
    return `(${alias}.embedding::vector(${this.dimension}) <=> ${this.param(placeholder)})`;
  }
}

class RealArrayBackend implements VectorBackend {
  readonly kind = 'real-array';
  constructor(readonly dimension: number) {}
  serialize(vector: number[]): number[] {
    return vector;
  }
  param(placeholder: string): string {
    return `${placeholder}::real[]`;
  }
  distance(alias: string, placeholder: string): string {
    return `memory_cosine_distance(${alias}.embedding, ${this.param(placeholder)})`;
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

/**
 * Reads the back end the migration chose, pins the embedding dimension on first use, and makes
 * sure the HNSW index for that dimension exists (pgvector only: an index needs a fixed
 * dimension, which migrations cannot know).
 */
export async function prepareVectorBackend(sql: Sql, dimension: number): Promise<VectorBackend> {
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
    await sql.query(
      `CREATE INDEX IF NOT EXISTS memory_units_embedding_hnsw_${dimension}
         ON memory_units USING hnsw ((embedding::vector(${dimension})) vector_cosine_ops)`,
    );
    return new PgvectorBackend(dimension);
  }
  const [{ major }] = await sql.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
  logger.warn(realArrayWarning(major));
  return new RealArrayBackend(dimension);
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
