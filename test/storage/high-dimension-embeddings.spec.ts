import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { semanticArm, semanticArmQuery } from '../../src/recall/arms/semantic-arm.js';
import type { RecallScope } from '../../src/recall/arms/visible-memories.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { FACT_TYPES } from '../../src/recall/recall.types.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { BankVectorIndexService } from '../../src/storage/bank-vector-indexes.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { MemoryModuleOptions } from '../../src/memory.options.js';
import { type VectorBackend, hnswOperandFor, sharedIndexName, unindexedWarning } from '../../src/storage/vector-backend.js';
import { bootStartedMemory, type StartedMemory } from '../helpers/memory-app.js';
import { planNodes } from '../helpers/query-plan.js';
import { insertRandomMemories } from '../helpers/random-memories.js';
import { seededRandom } from '../helpers/seeded-random.js';

const scope = (bankId: string): RecallScope => ({ bankId, types: FACT_TYPES, tags: [], tagsMatch: 'any' });

/** A started PGlite app whose embedder gives vectors of `dimension`. */
function bootWithDimension(dimension: number, options: Partial<MemoryModuleOptions> = {}): Promise<StartedMemory> {
  return bootStartedMemory({
    databaseUrl: `pglite://memory/dimension-${dimension}-${randomUUID()}`,
    watchdogIntervalMs: 60_000,
    embedder: { dimension },
    ...options,
  });
}

/** The definitions of the HNSW indexes on `memory_units`, by name. */
async function hnswIndexes(database: MemoryDatabase): Promise<Array<{ name: string; definition: string }>> {
  return database.query(
    `SELECT c.relname AS name, pg_get_indexdef(c.oid) AS definition
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'memory_units'::regclass AND pg_get_indexdef(c.oid) LIKE '%USING hnsw%'
      ORDER BY name`,
  );
}

/** `count` memories with random embeddings in a new bank (seeded by `seed`), then `ANALYZE`: their embeddings in order. */
async function insertAnalysedMemories(app: INestApplicationContext, bankId: string, count: number, seed: number): Promise<number[][]> {
  const embeddings = await insertRandomMemories(app, bankId, count, seededRandom(seed));
  await app.get(MemoryDatabase).query('ANALYZE memory_units');
  return embeddings;
}

async function textOf(database: MemoryDatabase, id: string): Promise<string> {
  const [{ text }] = await database.query<{ text: string }>(`SELECT text FROM memory_units WHERE id = $1`, [id]);
  return text;
}

/** Retains two facts and recalls one of them by its words and meaning, through the services. */
async function retainAndRecall(app: INestApplicationContext): Promise<string[]> {
  await app.get(RetainService).retain('notes', {
    items: [{ content: 'Alice adopted a grey cat named Miso.' }, { content: 'The quarterly budget review moved to Thursday.' }],
  });
  const { results } = await app.get(RecallService).recall({ bankId: 'notes', query: 'What is the name of the cat Alice adopted?' });
  return results.map((memory) => memory.text);
}

describe('the HNSW index embeddings of each dimension get', () => {
  it('reads them as vector up to 2,000 dimensions, as halfvec up to 4,000 where pgvector has it, and not at all beyond', () => {
    expect(hnswOperandFor(384)).toBe('vector');
    expect(hnswOperandFor(2000)).toBe('vector');
    expect(hnswOperandFor(2001)).toBe('halfvec');
    expect(hnswOperandFor(3072)).toBe('halfvec');
    expect(hnswOperandFor(4000)).toBe('halfvec');
    expect(hnswOperandFor(4001)).toBeNull();
    // pgvector before 0.7 has no halfvec.
    expect(hnswOperandFor(2000, { halfvec: false })).toBe('vector');
    expect(hnswOperandFor(3072, { halfvec: false })).toBeNull();
  });

  it('is named, with the limit that left it out and what an exact scan costs, in the startup warning', () => {
    expect(unindexedWarning(4096, true)).toContain("pgvector's HNSW index takes at most 4,000 (as halfvec)");
    expect(unindexedWarning(3072, false)).toContain('has no halfvec, which takes up to 4,000 (pgvector 0.7 or later)');
    expect(unindexedWarning(4096, true)).toContain('about 9 ms per 1,000 memories at 4,096 dimensions');
  });
});

describe('embeddings of 3,072 dimensions, more than an HNSW index takes as vector (pgvector on PGlite)', () => {
  it('start with the shared index on halfvec, which the semantic arm walks to the nearest memory', async () => {
    const { app, logs } = await bootWithDimension(3072);
    try {
      expect(logs.lines).toContain(
        "Embeddings of 3072 dimensions are more than pgvector's HNSW index takes as vector (2,000): they are indexed as " +
          'halfvec, at half precision, and exact scans still compare them at full precision',
      );
      const database = app.get(MemoryDatabase);
      const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
      const [shared] = await hnswIndexes(database);
      expect(shared.name).toBe(sharedIndexName(3072));
      expect(shared.definition).toContain('(embedding)::halfvec(3072)) halfvec_cosine_ops');

      const embeddings = await insertAnalysedMemories(app, 'wide', 100, 53);
      const query = embeddings[17];
      // The statement can walk the index only where its distance is the index's own expression:
      // with scans and sorts priced out, a plan without it would be one that cannot use it.
      const walked = await database.transaction(async (sql) => {
        await sql.query('SET LOCAL enable_seqscan = off');
        await sql.query('SET LOCAL enable_sort = off');
        return (await planNodes(sql, semanticArmQuery(vectors, scope('wide'), query, 10, 'index'))).map((node) => node['Index Name']);
      });
      expect(walked).toContain(sharedIndexName(3072));

      const found = await database.transaction((sql) => semanticArm(sql, vectors, scope('wide'), query, 10, 'index'));
      const exact = await database.transaction((sql) => semanticArm(sql, vectors, scope('wide'), query, 10, 'exact'));
      expect(found).toHaveLength(10);
      expect(await textOf(database, found[0].id)).toBe('memory 18');
      expect(found[0].id).toBe(exact[0].id);
      // Half precision in the index, full precision in the exact scan: the same memory, about the same score.
      expect(found[0].score).toBeCloseTo(1, 3);

      expect(await retainAndRecall(app)).toContain('Alice adopted a grey cat named Miso.');
    } finally {
      await app.close();
    }
  });

  it('give a large bank its own HNSW index on halfvec', async () => {
    const { app } = await bootWithDimension(3072, { bankVectorIndexes: { minMemories: 100, onPglite: true, intervalMs: 3_600_000 } });
    try {
      const database = app.get(MemoryDatabase);
      const indexes = app.get(BankVectorIndexService);
      await indexes.maintain();
      expect(await hnswIndexes(database)).toEqual([]);

      await insertAnalysedMemories(app, 'wide', 120, 59);
      const report = await indexes.maintain();
      expect(report.failed).toEqual([]);
      expect(report.created.map(({ bankId, kind }) => ({ bankId, kind }))).toEqual([{ bankId: 'wide', kind: 'hnsw' }]);
      const [own] = await hnswIndexes(database);
      expect(own.name).toBe(report.created[0].indexName);
      expect(own.definition).toContain('(embedding)::halfvec(3072)) halfvec_cosine_ops');
      expect(own.definition).toContain("WHERE (bank_id = 'wide'::text)");
    } finally {
      await app.close();
    }
  });
});

describe('embeddings of 4,096 dimensions, more than any HNSW index takes (pgvector on PGlite)', () => {
  it('start with a warning that says so, and recall compares the question with every memory of the bank', async () => {
    const { app, logs } = await bootWithDimension(4096);
    try {
      expect(logs.lines).toContain(unindexedWarning(4096, true));
      const database = app.get(MemoryDatabase);
      const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
      expect(await hnswIndexes(database)).toEqual([]);

      const embeddings = await insertAnalysedMemories(app, 'wider', 50, 61);
      // Asked to walk an index, the arm scans exactly, ties broken by id as every exact scan breaks them.
      const statement = semanticArmQuery(vectors, scope('wider'), embeddings[4], 10, 'index');
      expect(statement.text).not.toContain('hnsw.ef_search');
      const found = await database.transaction((sql) => semanticArm(sql, vectors, scope('wider'), embeddings[4], 10, 'index'));
      const exact = await database.transaction((sql) => semanticArm(sql, vectors, scope('wider'), embeddings[4], 10, 'exact'));
      expect(found).toEqual(exact);
      expect(await textOf(database, found[0].id)).toBe('memory 5');

      expect(await retainAndRecall(app)).toContain('Alice adopted a grey cat named Miso.');
    } finally {
      await app.close();
    }
  });

  it('give a large bank its full-text index, and no HNSW one to fail on every round', async () => {
    const { app } = await bootWithDimension(4096, { bankVectorIndexes: { minMemories: 40, onPglite: true, intervalMs: 3_600_000 } });
    try {
      // 'wider' holds less than half the database's memories, so it gets a full-text index of its own.
      await insertAnalysedMemories(app, 'wider', 50, 67);
      await insertAnalysedMemories(app, 'widest', 60, 71);
      const report = await app.get(BankVectorIndexService).maintain();
      expect(report.failed).toEqual([]);
      expect(report.created.map(({ bankId, kind }) => ({ bankId, kind }))).toEqual([{ bankId: 'wider', kind: 'full-text' }]);
      expect(await hnswIndexes(app.get(MemoryDatabase))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
