import { bankHoldsFewerThan } from '../../src/storage/bank-size.queries.js';
import { semanticArm, semanticArmQuery } from '../../src/recall/arms/semantic-arm.js';
import type { RecallScope } from '../../src/recall/arms/visible-memories.js';
import { FACT_TYPES } from '../../src/recall/recall.types.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type VectorBackend, prepareVectorBackend } from '../../src/storage/vector-backend.js';
import { planNodes } from '../helpers/query-plan.js';
import { seededRandom } from '../helpers/seeded-random.js';

const DIMENSION = 8;
const scope = (bankId: string): RecallScope => ({ bankId, types: FACT_TYPES, tags: [], tagsMatch: 'any' });

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(na * nb);
}

describe('the semantic arm on pgvector (PGlite), a small bank beside a large one', () => {
  const registry = new DataSourceRegistry();
  let database: MemoryDatabase;
  let vectors: VectorBackend;
  const random = seededRandom(11);
  const vectorOf = () => Array.from({ length: DIMENSION }, () => random() * 2 - 1);
  const small = new Map<string, number[]>();

  beforeAll(async () => {
    database = new MemoryDatabase(await registry.acquire('pglite://memory/semantic-arm'));
    vectors = await database.withConnection((sql) => prepareVectorBackend(sql, DIMENSION));
    expect(vectors.kind).toBe('pgvector');
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('large', 'large'), ('small', 'small')`);
      for (const [bank, count] of [
        ['large', 2000],
        ['small', 40],
      ] as const) {
        const embeddings = Array.from({ length: count }, vectorOf);
        const rows = await sql.query<{ id: string }>(
          `INSERT INTO memory_units (bank_id, text, embedding)
           SELECT $1, 'memory ' || i, e::vector FROM unnest($2::text[]) WITH ORDINALITY AS t(e, i) RETURNING id`,
          [bank, embeddings.map((embedding) => vectors.serialize(embedding))],
        );
        if (bank === 'small') rows.forEach((row, index) => small.set(row.id, embeddings[index]));
      }
      await sql.query('ANALYZE memory_units');
    });
  });

  afterAll(async () => {
    await registry.closeAll();
  });

  it('scans a small bank exactly: the nearest ten are the true nearest ten, without the shared index', async () => {
    const query = vectorOf();
    const found = await database.transaction((sql) => semanticArm(sql, vectors, scope('small'), query, 10, 'exact'));
    const truth = [...small].sort((a, b) => cosineDistance(a[1], query) - cosineDistance(b[1], query)).slice(0, 10);
    expect(found.map((candidate) => candidate.id)).toEqual(truth.map(([id]) => id));

    const nodes = await planNodes(database, semanticArmQuery(vectors, scope('small'), query, 10, 'exact'));
    expect(nodes.some((node) => node['Index Name']?.includes('hnsw'))).toBe(false);
  });

  it('returns memories at the same distance in the order of their ids, whatever order they were written in', async () => {
    const same = vectorOf();
    const ids = Array.from({ length: 12 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('ties', 'ties')`);
      // Written in a shuffled order, so that the table's order is not the ids'.
      await sql.query(
        `INSERT INTO memory_units (id, bank_id, text, embedding)
         SELECT id, 'ties', 'the same memory', $2::vector FROM unnest($1::uuid[]) AS t(id)`,
        [[5, 11, 0, 7, 2, 9, 4, 1, 10, 3, 8, 6].map((index) => ids[index]), vectors.serialize(same)],
      );
    });
    // Once as planned (the bank's rows through its primary key, which yields them in id order) and
    // once read from the table, the plan statistics that see a bank as most of the table choose.
    const planned = await database.withConnection((sql) => semanticArm(sql, vectors, scope('ties'), same, 8, 'exact'));
    const scanned = await database.transaction(async (sql) => {
      await sql.query(`SET LOCAL enable_indexscan = off`);
      await sql.query(`SET LOCAL enable_bitmapscan = off`);
      return semanticArm(sql, vectors, scope('ties'), same, 8, 'exact');
    });
    expect(planned.map((candidate) => candidate.id)).toEqual(ids.slice(0, 8));
    expect(scanned.map((candidate) => candidate.id)).toEqual(ids.slice(0, 8));
  });

  it('walks the index for as many neighbours as asked, with no transaction open, and leaves the connection as it was', async () => {
    const query = vectorOf();
    await database.withConnection(async (sql) => {
      // At the default ef_search (40) and without iterative scans the walk stops at 40 rows.
      const large = await semanticArm(sql, vectors, scope('large'), query, 120, 'index');
      expect(large).toHaveLength(120);
      // The small bank is 2 % of the shared index: only an iterative scan finds ten of its rows.
      const fromSmall = await semanticArm(sql, vectors, scope('small'), query, 10, 'index');
      expect(fromSmall).toHaveLength(10);
      expect(fromSmall.every((candidate) => small.has(candidate.id))).toBe(true);

      const [settings] = await sql.query<{ ef_search: string; iterative_scan: string }>(
        `SELECT current_setting('hnsw.ef_search') AS ef_search, current_setting('hnsw.iterative_scan') AS iterative_scan`,
      );
      expect(settings).toEqual({ ef_search: '40', iterative_scan: 'off' });
    });

    const nodes = await planNodes(database, semanticArmQuery(vectors, scope('large'), query, 120, 'index'));
    expect(nodes.some((node) => node['Index Name']?.includes('hnsw'))).toBe(true);
  });

  it('tells a bank below the line from one above it, reading no more than the line', async () => {
    await database.withConnection(async (sql) => {
      expect(await bankHoldsFewerThan(sql, 'small', 41)).toBe(true);
      expect(await bankHoldsFewerThan(sql, 'small', 40)).toBe(false);
      expect(await bankHoldsFewerThan(sql, 'large', 100)).toBe(false);
      expect(await bankHoldsFewerThan(sql, 'nobody', 1)).toBe(true);
    });
  });
});
