import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { BanksService } from '../../src/banks/banks.service.js';
import { AiClients } from '../../src/external/ai-clients.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { DropKeywordWalkIndexes1766600000000 } from '../../src/storage/migrations/1766600000000-drop-keyword-walk-indexes.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { keywordArm } from '../../src/recall/arms/keyword-arm.js';
import { semanticArm, semanticArmQuery } from '../../src/recall/arms/semantic-arm.js';
import type { RecallScope } from '../../src/recall/arms/visible-memories.js';
import { FACT_TYPES } from '../../src/recall/recall.types.js';
import {
  BANK_INDEX_KINDS,
  type BankIndexKind,
  bankIndexChanges,
  hnswBuildBytes,
  releaseMaintenanceLock,
  tryMaintenanceLock,
  withBuildMemory,
} from '../../src/storage/bank-vector-indexes.queries.js';
import { BankVectorIndexService } from '../../src/storage/bank-vector-indexes.service.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { type VectorBackend, embeddingIndexing, hnswIndexMethod, sharedIndexName } from '../../src/storage/vector-backend.js';
import { eventually } from '../helpers/eventually.js';
import { type BootedMemory, bootMemory, bootStartedMemory, type StartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { planNodes } from '../helpers/query-plan.js';
import { insertRandomMemories } from '../helpers/random-memories.js';
import { seededRandom } from '../helpers/seeded-random.js';

const DIMENSION = 8;
const scope = (bankId: string): RecallScope => ({ bankId, types: FACT_TYPES, tags: [], tagsMatch: 'any' });

/** The banks' own indexes of one kind on `memory_units`, with the predicate each was built with. */
async function bankIndexes(
  database: MemoryDatabase,
  kind: BankIndexKind = 'hnsw',
): Promise<Array<{ name: string; valid: boolean; predicate: string }>> {
  return database.query(
    `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_expr(i.indpred, i.indrelid) AS predicate
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = 'memory_units'::regclass AND i.indpred IS NOT NULL AND c.relname LIKE $1
      ORDER BY predicate`,
    [`${BANK_INDEX_KINDS[kind].prefix(DIMENSION)}%`],
  );
}

/** A PGlite app that builds bank indexes from `minMemories`, each round run by the test itself. */
async function bootWithBankIndexes(minMemories: number): Promise<BootedMemory & { app: INestApplicationContext }> {
  const booted = await bootStartedMemory({
    databaseUrl: `pglite://memory/bank-indexes-${randomUUID()}`,
    watchdogIntervalMs: 60_000,
    embedder: { dimension: DIMENSION },
    bankVectorIndexes: { minMemories, onPglite: true, intervalMs: 3_600_000 },
  });
  return booted as BootedMemory & { app: INestApplicationContext };
}

describe('HNSW indexes of their own for large banks (pgvector on PGlite)', () => {
  const random = seededRandom(29);
  const vectorOf = () => Array.from({ length: DIMENSION }, () => random() * 2 - 1);
  let booted: StartedMemory;
  let app: INestApplicationContext;
  let database: MemoryDatabase;
  let vectors: VectorBackend;
  let indexes: BankVectorIndexService;

  async function addMemories(bankId: string, count: number): Promise<void> {
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING`, [bankId]);
      await sql.query(
        `INSERT INTO memory_units (bank_id, text, embedding)
         SELECT $1, 'memory ' || i, e::vector FROM unnest($2::text[]) WITH ORDINALITY AS t(e, i)`,
        [bankId, Array.from({ length: count }, () => vectors.serialize(vectorOf()))],
      );
      await sql.query('ANALYZE memory_units');
    });
  }

  beforeAll(async () => {
    booted = await bootStartedMemory({
      databaseUrl: `pglite://memory/bank-indexes-${randomUUID()}`,
      watchdogIntervalMs: 60_000,
      embedder: { dimension: DIMENSION },
      // No schedule to speak of: each round is run here, so what it changes is this test's doing.
      bankVectorIndexes: { minMemories: 1000, onPglite: true, intervalMs: 3_600_000 },
    });
    app = booted.app;
    database = app.get(MemoryDatabase);
    vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
    indexes = app.get(BankVectorIndexService);
    // The round startup runs in the background has found nothing to do on the empty database.
    expect(await indexes.maintain()).toEqual({ created: [], dropped: [], failed: [] });

    // Banks of a size where the planner walks an index rather than sorting the bank.
    await addMemories('large-a', 2000);
    await addMemories('large-b', 1500);
    await addMemories('small', 200);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('builds one for each bank from the size on, none for a small bank, and none twice', async () => {
    const first = await indexes.maintain();
    // A full-text index of its own only for a bank that is not most of the database: large-a
    // holds 2000 of the 3700 memories, and the shared index would be mostly its own postings.
    expect(first.created.map(({ bankId, kind, memories }) => ({ bankId, kind, memories }))).toEqual([
      { bankId: 'large-a', kind: 'hnsw', memories: 2000 },
      { bankId: 'large-b', kind: 'hnsw', memories: 1500 },
      { bankId: 'large-b', kind: 'full-text', memories: 1500 },
    ]);
    expect(first.dropped).toEqual([]);
    const built = await bankIndexes(database);
    expect(built.map(({ valid, predicate }) => ({ valid, predicate }))).toEqual([
      { valid: true, predicate: "(bank_id = 'large-a'::text)" },
      { valid: true, predicate: "(bank_id = 'large-b'::text)" },
    ]);
    const fullText = await bankIndexes(database, 'full-text');
    expect(fullText).toEqual([{ name: first.created[2].indexName, valid: true, predicate: "(bank_id = 'large-b'::text)" }]);
    expect(booted.logs.lines).toContain(
      `Built HNSW index ${first.created[0].indexName} for bank large-a (2000 memories) in ${first.created[0].durationMs}ms`,
    );
    expect(booted.logs.lines).toContain(
      `Built full-text index ${first.created[2].indexName} for bank large-b (1500 memories) in ${first.created[2].durationMs}ms`,
    );

    expect(await indexes.maintain()).toEqual({ created: [], dropped: [], failed: [] });
    expect(await bankIndexes(database)).toEqual(built);
    expect(await bankIndexes(database, 'full-text')).toEqual(fullText);
  });

  it("searches a large bank's words in its own full-text index, with the keyword arm's statement unchanged", async () => {
    const [own] = await bankIndexes(database, 'full-text');
    // The arm's own statement, as it would run it: recorded, then planned with its parameters.
    const statementOf = async (bankId: string) => {
      let statement = { text: '', values: [] as unknown[] };
      const recording = {
        query: async <T>(text: string, values: unknown[] = []) => {
          statement = { text, values };
          return [] as T[];
        },
      } as unknown as Sql;
      await keywordArm(recording, scope(bankId), 'Which memory is number 1234?', 10, new Set(), 'index');
      return statement;
    };
    const indexesOf = async (bankId: string) =>
      (await planNodes(database, await statementOf(bankId))).map((node) => node['Index Name']).filter(Boolean);
    expect(await indexesOf('large-b')).toContain(own.name);
    expect(await indexesOf('large-a')).not.toContain(own.name);

    const found = await database.withConnection((sql) => keywordArm(sql, scope('large-b'), 'Which memory is number 1234?', 10));
    expect(found).toHaveLength(10);
    const [{ others }] = await database.query<{ others: number }>(
      `SELECT count(*)::int AS others FROM memory_units WHERE id = ANY($1::uuid[]) AND bank_id <> 'large-b'`,
      [found.map((candidate) => candidate.id)],
    );
    expect(others).toBe(0);
  });

  it("walks a large bank's own index, which no other bank's recall takes, with the arm's statement unchanged", async () => {
    const [own] = (await bankIndexes(database)).filter((index) => index.predicate.includes('large-a'));
    const planOf = async (bankId: string) =>
      (await planNodes(database, semanticArmQuery(vectors, scope(bankId), vectorOf(), 10, 'index')))
        .map((node) => node['Index Name'])
        .filter(Boolean);
    expect(await planOf('large-a')).toEqual([own.name]);
    expect(await planOf('small')).not.toContain(own.name);

    const found = await database.transaction((sql) => semanticArm(sql, vectors, scope('large-a'), vectorOf(), 10, 'index'));
    expect(found).toHaveLength(10);
    const [{ others }] = await database.query<{ others: number }>(
      `SELECT count(*)::int AS others FROM memory_units WHERE id = ANY($1::uuid[]) AND bank_id <> 'large-a'`,
      [found.map((candidate) => candidate.id)],
    );
    expect(others).toBe(0);
  });

  it('builds an HNSW index for every bank from the size on, whatever its share of the database', async () => {
    expect(await database.withConnection((sql) => bankIndexChanges(sql, { ...embeddingIndexing(DIMENSION), minMemories: 1000 }))).toEqual(
      [],
    );
    // large-a holds 2000 of 3700 memories: most of the database, and its own HNSW index all the same.
    const lower = await database.withConnection((sql) => bankIndexChanges(sql, { ...embeddingIndexing(DIMENSION), minMemories: 100 }));
    expect(lower.map(({ bankId, kind, action }) => ({ bankId, kind, action }))).toEqual([
      { bankId: 'small', kind: 'hnsw', action: 'create' },
      { bankId: 'small', kind: 'full-text', action: 'create' },
    ]);
  });

  it('drops an index left invalid by an interrupted build, and builds it again', async () => {
    const [own] = (await bankIndexes(database)).filter((index) => index.predicate.includes('large-b'));
    // What a build cancelled by shutdown, or lost with its instance, leaves in the catalog.
    await database.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = $1::regclass`, [own.name]);

    const report = await indexes.maintain();
    expect(report.dropped).toEqual([{ bankId: 'large-b', kind: 'hnsw', indexName: own.name, reason: 'left-invalid' }]);
    expect(report.created.map(({ bankId, indexName }) => ({ bankId, indexName }))).toEqual([{ bankId: 'large-b', indexName: own.name }]);
    expect((await bankIndexes(database)).find((index) => index.name === own.name)?.valid).toBe(true);
  });

  it("drops a deleted bank's indexes, and keeps the others", async () => {
    const before = await bankIndexes(database);
    const [fullText] = await bankIndexes(database, 'full-text');
    await app.get(BanksService).delete('large-b');

    const report = await indexes.maintain();
    const gone = before.find((index) => index.predicate.includes('large-b'))!;
    expect(report.dropped).toEqual([
      { bankId: null, kind: 'hnsw', indexName: gone.name, reason: 'bank-gone-or-shrunk' },
      { bankId: null, kind: 'full-text', indexName: fullText.name, reason: 'bank-gone-or-shrunk' },
    ]);
    expect(report.created).toEqual([]);
    expect(await bankIndexes(database)).toEqual(before.filter((index) => index.name !== gone.name));
    expect(await bankIndexes(database, 'full-text')).toEqual([]);
    expect(booted.logs.lines).toContain(`Dropped HNSW index ${gone.name}: its bank is gone`);
    expect(booted.logs.lines).toContain(`Dropped full-text index ${fullText.name}: its bank is gone`);
  });
});

describe('no shared HNSW index where banks get their own', () => {
  it('creates none at startup, scans a large bank exactly until its index is built, then drops one left from before', async () => {
    const booted = await bootWithBankIndexes(500);
    const app = booted.app;
    try {
      const database = app.get(MemoryDatabase);
      const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
      const indexes = app.get(BankVectorIndexService);
      const random = seededRandom(37);
      const vectorOf = () => Array.from({ length: DIMENSION }, () => random() * 2 - 1);
      const hnswIndexes = async () =>
        (
          await database.query<{ name: string }>(
            `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE i.indrelid = 'memory_units'::regclass AND c.relname LIKE '%hnsw%' ORDER BY name`,
          )
        ).map((row) => row.name);
      await indexes.maintain();
      expect(await hnswIndexes()).toEqual([]);

      await insertRandomMemories(app, 'large', 600, random);
      await database.query('ANALYZE memory_units');
      // Asked through an index that is not there yet, the arm reads the bank exactly: the right ten.
      const query = vectorOf();
      const found = await database.transaction((sql) => semanticArm(sql, vectors, scope('large'), query, 10, 'index'));
      const exact = await database.transaction((sql) => semanticArm(sql, vectors, scope('large'), query, 10, 'exact'));
      expect(found).toEqual(exact);
      expect(found).toHaveLength(10);

      // A database from before, or from an instance configured without bank indexes.
      await database.query(`CREATE INDEX ${sharedIndexName(DIMENSION)} ON memory_units USING ${hnswIndexMethod(vectors)}`);
      const report = await indexes.maintain();
      // The bank is the whole database: no full-text index of its own, the shared one is its own.
      expect(report.created.map(({ bankId, kind }) => ({ bankId, kind }))).toEqual([{ bankId: 'large', kind: 'hnsw' }]);
      expect(report.dropped).toEqual([
        { bankId: null, kind: 'hnsw', indexName: `memory_units_embedding_hnsw_${DIMENSION}`, reason: 'shared-index-unused' },
      ]);
      expect(await hnswIndexes()).toEqual([report.created[0].indexName]);
      expect(booted.logs.lines).toContain(
        `Dropped the shared HNSW index memory_units_embedding_hnsw_${DIMENSION}: every bank of 500 memories or more has its own, and recall scans smaller banks exactly`,
      );
      expect(await indexes.maintain()).toEqual({ created: [], dropped: [], failed: [] });
    } finally {
      await app.close();
    }
  });
});

/**
 * What the version before built for the keyword arm's walk, in every large bank: a btree whose
 * entries carried each memory's words, tags and sources (`RETIRED_BANK_INDEXES`).
 */
const LEFT_WALK_INDEX = 'memory_units_mentioned_bank_0123456789abcdef';
const leaveWalkIndex = (database: MemoryDatabase, bankId: string) =>
  database.query(
    `CREATE INDEX ${LEFT_WALK_INDEX} ON memory_units USING btree (mentioned_at DESC, id)
       INCLUDE (state, fact_type, tags, source_memory_ids, search_vector) WHERE bank_id = '${bankId}'`,
  );

/** `count` words that share little (three consonants and a number), so their text compresses badly. */
function scatteredWords(random: () => number, count: number): string {
  const letters = 'bcdfghjklmnpqrstvwxz';
  const word = () => Array.from({ length: 3 }, () => letters[Math.floor(random() * letters.length)]).join('') + Math.floor(random() * 100);
  return Array.from({ length: count }, word).join(' ') + '.';
}

describe('a bank with indexes of its own takes memories of any size', () => {
  it('writes a long memory and an observation of many sources, once a walk index of the version before is dropped', async () => {
    const booted = await bootWithBankIndexes(100);
    const app = booted.app;
    try {
      const database = app.get(MemoryDatabase);
      const indexes = app.get(BankVectorIndexService);
      const retain = app.get(RetainService);
      const random = seededRandom(43);
      // 'large' is under half the database, so it gets every kind of index there is.
      await insertRandomMemories(app, 'large', 150, random);
      await insertRandomMemories(app, 'other', 200, random);
      expect((await indexes.maintain()).failed).toEqual([]);
      const long = { content: scatteredWords(random, 300), context: scatteredWords(random, 300) };

      await leaveWalkIndex(database, 'large');
      // What a bank with one refused: the entry is larger than a btree takes.
      await expect(retain.retain('large', { items: [long] })).rejects.toThrow(/index row/);

      const report = await indexes.maintain();
      expect(report.dropped).toEqual([{ bankId: null, kind: 'keyword-walk', indexName: LEFT_WALK_INDEX, reason: 'retired-kind' }]);
      expect(booted.logs.lines).toContain(`Dropped keyword walk index ${LEFT_WALK_INDEX}: this version builds no index of that kind`);

      await retain.retain('large', { items: [long] });
      // An observation of a few hundred sources, as consolidation keeps adding them to one.
      await database.query(
        `INSERT INTO memory_units (bank_id, text, fact_type, source_memory_ids, tags)
         SELECT 'large', $1, 'observation', array_agg(gen_random_uuid()), ARRAY['project:long-running'] FROM generate_series(1, 300)`,
        [scatteredWords(random, 200)],
      );
      const [{ written }] = await database.query<{ written: number }>(
        `SELECT count(*)::int AS written FROM memory_units
          WHERE bank_id = 'large' AND (context = $1 OR cardinality(source_memory_ids) = 300)`,
        [long.context],
      );
      expect(written).toBeGreaterThanOrEqual(2);
      // Every index the bank has took them, and the next round has nothing to mend.
      expect(await indexes.maintain()).toEqual({ created: [], dropped: [], failed: [] });
    } finally {
      await app.close();
    }
  });

  it('loses a walk index of the version before to the migration, where no round of maintenance runs', async () => {
    const { app } = await bootStartedMemory({ databaseUrl: `pglite://memory/walk-index-${randomUUID()}`, watchdogIntervalMs: 60_000 });
    try {
      const database = app.get(MemoryDatabase);
      await leaveWalkIndex(database, 'large');
      await database.withConnection((sql) =>
        new DropKeywordWalkIndexes1766600000000().up({ query: (text: string) => sql.query(text) } as QueryRunner),
      );
      const [{ present }] = await database.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [LEFT_WALK_INDEX]);
      expect(present).toBe(false);
    } finally {
      await app.close();
    }
  });
});

describe("a bank's own index wanted by recall", () => {
  it('is built soon after recall first finds the bank large, not at the next interval', async () => {
    const booted = await bootWithBankIndexes(500);
    const app = booted.app;
    try {
      const database = app.get(MemoryDatabase);
      const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
      const indexes = app.get(BankVectorIndexService);
      await indexes.maintain();
      await insertRandomMemories(app, 'growing', 600, seededRandom(41));
      expect(await bankIndexes(database)).toEqual([]);

      // Recall's own line set at the bank index line, as the defaults set both at 10,000.
      const recall = new RecallService(database, vectors, app.get(AiClients).embedder, null, { exactScanBelow: 500 }, indexes);
      await recall.recall({ bankId: 'growing', query: 'memory 7' });

      const built = await eventually(
        () => bankIndexes(database),
        (found) => found.some((index) => index.valid && index.predicate === "(bank_id = 'growing'::text)"),
      );
      expect(built).toHaveLength(1);
      expect(booted.logs.lines.some((line) => line.startsWith(`Built HNSW index ${built[0].name} for bank growing (600 memories)`))).toBe(
        true,
      );
    } finally {
      await app.close();
    }
  });
});

describe('shutdown during a round of bank index maintenance', () => {
  it('waits for the round, stops the schedule, and leaves no further round to run', async () => {
    const booted = await bootMemory({
      databaseUrl: `pglite://memory/bank-indexes-${randomUUID()}`,
      watchdogIntervalMs: 60_000,
      embedder: { dimension: DIMENSION },
      bankVectorIndexes: { minMemories: 500, onPglite: true, intervalMs: 3_600_000 },
    });
    const app = booted.app!;
    const database = app.get(MemoryDatabase);
    const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
    const random = seededRandom(31);
    const indexes = app.get(BankVectorIndexService);
    // The round startup began on the empty database is over before there is anything to build.
    await indexes.maintain();
    await database.query(`INSERT INTO banks (id, name) VALUES ('big', 'big')`);
    await database.query(
      `INSERT INTO memory_units (bank_id, text, embedding) SELECT 'big', 'memory ' || i, e::vector FROM unnest($1::text[]) WITH ORDINALITY AS t(e, i)`,
      [Array.from({ length: 600 }, () => vectors.serialize(Array.from({ length: DIMENSION }, () => random() * 2 - 1)))],
    );

    const round = indexes.maintain();
    await app.close();
    // Shutdown came either before the build began, which then never starts, or during it, which
    // on PGlite (its one session cannot be cancelled) the teardown step waits out.
    const report = await round;
    expect([
      { skipped: 'stopped', created: [], dropped: [], failed: [] },
      { created: [expect.objectContaining({ bankId: 'big', memories: 600 })], dropped: [], failed: [] },
    ]).toContainEqual(report);
    expect(booted.reports.filter((report) => report.name === 'bank-vector-indexes')).toEqual([
      expect.objectContaining({ stage: 'watchdog', outcome: 'done' }),
    ]);
    expect(await indexes.maintain()).toEqual({ skipped: 'stopped', created: [], dropped: [], failed: [] });
  });
});

describe('when bank indexes are not built', () => {
  it('on PGlite unless asked for, where a build would stop the one thread', async () => {
    const booted = await bootMemory({ databaseUrl: `pglite://memory/bank-indexes-${randomUUID()}`, watchdogIntervalMs: 60_000 });
    try {
      expect(await booted.app!.get(BankVectorIndexService).maintain()).toEqual({ skipped: 'pglite', created: [], dropped: [], failed: [] });
      // Then one index serves every bank, created at startup.
      const [{ shared }] = await booted
        .app!.get(MemoryDatabase)
        .query<{ shared: string | null }>(`SELECT to_regclass('memory_units_embedding_hnsw_384')::text AS shared`);
      expect(shared).toBe('memory_units_embedding_hnsw_384');
    } finally {
      await booted.app?.close();
    }
  });

  it('without pgvector (real[] embeddings on PostgreSQL), and when turned off', async () => {
    const { name, url } = await createTestDatabase('bank_indexes');
    try {
      for (const [minMemories, skipped] of [
        [10_000, 'no-pgvector'],
        [null, 'disabled'],
      ] as const) {
        const booted = await bootMemory({ databaseUrl: url, watchdogIntervalMs: 60_000, bankVectorIndexes: { minMemories } });
        try {
          expect(await booted.app!.get(BankVectorIndexService).maintain()).toEqual({ skipped, created: [], dropped: [], failed: [] });
        } finally {
          await booted.app?.close();
        }
      }
    } finally {
      await dropTestDatabase(name);
    }
  });
});

describe('one instance of a fleet maintains the bank indexes at a time (PostgreSQL)', () => {
  // Two instances: a registry, and so a pool, each, on one database.
  const registries = [new DataSourceRegistry(), new DataSourceRegistry()];
  let name: string;

  afterAll(async () => {
    for (const registry of registries) await registry.closeAll();
    if (name) await dropTestDatabase(name);
  });

  it('the maintenance lock is held by one session until it is released', async () => {
    const created = await createTestDatabase('bank_index_lock');
    name = created.name;
    const [first, second] = [
      new MemoryDatabase(await registries[0].acquire(created.url)),
      new MemoryDatabase(await registries[1].acquire(created.url)),
    ];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstLocked!: (locked: boolean) => void;
    const firstResult = new Promise<boolean>((resolve) => (firstLocked = resolve));
    const holder = first.withConnection(async (sql) => {
      firstLocked(await tryMaintenanceLock(sql));
      await firstHolds;
      await releaseMaintenanceLock(sql);
    });
    expect(await firstResult).toBe(true);
    expect(await second.withConnection((sql) => tryMaintenanceLock(sql))).toBe(false);
    releaseFirst();
    await holder;
    await second.withConnection(async (sql) => {
      expect(await tryMaintenanceLock(sql)).toBe(true);
      await releaseMaintenanceLock(sql);
    });
  });
});

describe("an HNSW build's memory (PostgreSQL)", () => {
  const registry = new DataSourceRegistry();
  let database: MemoryDatabase;
  let name: string;
  const setting = (sql: Pick<Sql, 'query'>) =>
    sql
      .query<{ bytes: string }>(`SELECT pg_size_bytes(current_setting('maintenance_work_mem'))::text AS bytes`)
      .then(([row]) => Number(row.bytes));

  beforeAll(async () => {
    const created = await createTestDatabase('bank_index_memory');
    name = created.name;
    database = new MemoryDatabase(await registry.acquire(created.url));
  });

  afterAll(async () => {
    await registry.closeAll();
    if (name) await dropTestDatabase(name);
  });

  it("is raised for the build's session only, and put back after it, even when the build fails", async () => {
    await database.withConnection(async (sql) => {
      const before = await setting(sql);
      const wanted = before + 256 * 1024 * 1024;
      expect(await withBuildMemory(sql, wanted, () => setting(sql))).toBe(wanted);
      expect(await setting(sql)).toBe(before);

      await expect(
        withBuildMemory(sql, wanted, async () => {
          await sql.query(`SELECT 1 / 0`);
        }),
      ).rejects.toThrow(/division by zero/);
      expect(await setting(sql)).toBe(before);

      // Never lowered below what the server gives the session.
      expect(await withBuildMemory(sql, 1024 * 1024, () => setting(sql))).toBe(before);
    });
  });

  it('is asked for as the graph of the bank needs, at least what a measured build needed', () => {
    // Measured: PostgreSQL's 64 MB held 28,362 memories of dimension 384 before pgvector went on
    // disk, so asking for that bank must ask for at least 64 MB, and for twice the bank, twice that.
    const bytes = (memories: number, dimension: number) => hnswBuildBytes(memories, embeddingIndexing(dimension));
    expect(bytes(28_362, 384)).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(bytes(56_724, 384)).toBe(2 * bytes(28_362, 384));
    expect(bytes(10_000, 1536)).toBeGreaterThan(bytes(10_000, 384));
    // Above 2,000 dimensions the graph holds each vector as halfvec, at two bytes a component.
    expect(bytes(10_000, 3072)).toBe(bytes(10_000, 1536));
  });
});
