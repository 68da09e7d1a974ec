import type { INestApplicationContext } from '@nestjs/common';
import { RECALL_ARMS, timeRecallStages } from '../recall-stages.js';
import { onQuietAppOfItsOwn } from '../quiet-app.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { semanticArm } from '../../src/recall/arms/semantic-arm.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { BankVectorIndexService } from '../../src/storage/bank-vector-indexes.service.js';
import { FACT_TYPES, type RecallArmName } from '../../src/recall/recall.types.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type VectorBackend, hnswIndexMethod, sharedIndexName } from '../../src/storage/vector-backend.js';
import { hashingVector } from '../../src/external/hashing-embedder.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, summarize } from '../harness.js';
import { type PreparedMemory, prepareMemories, seedBanks, settleAfterLoad } from '../seed/bulk-seed.js';
import { syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 424242;
const QUERY_SEED = 13;
/** Questions of their own for the unmeasured pass, so that no measured question has been asked before. */
const WARM_UP_SEED = 14;
const DIMENSION = 384;
const BANK_COUNT = 1000;

/** The shape of one database: a few large banks and many small ones, about 1M memories in all at full scale. */
function bankSizes(context: BenchmarkContext): Array<{ bankId: string; size: number }> {
  const banks: Array<{ bankId: string; size: number }> = [];
  const add = (count: number, size: number, prefix: string) => {
    for (let index = 0; index < count; index += 1) banks.push({ bankId: `${prefix}-${index}`, size: scaled(context, size) });
  };
  add(2, 100_000, 'largest');
  add(8, 50_000, 'large');
  // The bank recall is timed in keeps its 1,000 memories at every scale: fewer of them instead.
  for (let index = 0; index < Math.max(10, Math.round(400 * context.scale)); index += 1) {
    banks.push({ bankId: `thousand-${index}`, size: 1_000 });
  }
  add(BANK_COUNT - banks.length, 100, 'small');
  return banks;
}

/**
 * Many banks in one database of PostgreSQL + pgvector: recall latency in a 1,000-memory bank and in
 * the largest bank, and whether the small bank's nearest ten are the exact nearest ten.
 */
export const recallScale: Benchmark = {
  id: 'recall-scale',
  title: 'Recall with 1,000 banks in one database',
  requires: 'pgvector',
  async run(context) {
    const banks = bankSizes(context);
    const total = banks.reduce((sum, bank) => sum + bank.size, 0);
    // The banks' own indexes are built when the benchmark says, between two measurements.
    return onQuietAppOfItsOwn(context, 'scale', (app) => measure(context, app, banks, total));
  },
};

async function measure(
  context: BenchmarkContext,
  app: INestApplicationContext,
  banks: Array<{ bankId: string; size: number }>,
  total: number,
) {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
  const memories = syntheticMemories(CORPUS_SEED);
  // Each bank is prepared as the load asks for it and dropped once written: held all at once, a
  // million prepared memories are gigabytes of heap, and recall measured in a process whose
  // collector works near its limit is measured slow.
  function* prepared(): Generator<{ bankId: string; memories: PreparedMemory[] }> {
    for (const { bankId, size } of banks) yield { bankId, memories: prepareMemories(take(memories, size), DIMENSION) };
  }
  context.log(`recall-scale: ${total} memories in ${banks.length} banks to load`);
  // Where banks get indexes of their own there is no shared one; it is built here to measure
  // what the large banks' own indexes replace (and what a database upgraded from it starts with).
  await database.query(`CREATE INDEX IF NOT EXISTS ${sharedIndexName(DIMENSION)} ON memory_units USING ${hnswIndexMethod(vectors)}`);
  // The shared graph of a million embeddings outgrows 1 GB while it is built, and past that
  // pgvector inserts tuple by tuple into the on-disk graph: half an hour instead of minutes.
  const seeding = await seedBanks(database, vectors, prepared(), '4GB');
  await settleAfterLoad(database);
  context.log(`recall-scale: loaded in ${fmt(seeding.loadMs / 1000)} s, indexes in ${fmt(seeding.indexMs / 1000)} s`);

  const recall = app.get(RecallService);
  const queries = syntheticQueries(QUERY_SEED, context.quick ? 10 : 40);
  const warmUp = syntheticQueries(WARM_UP_SEED, queries.length);
  const rows: Array<Array<string | number>> = [];
  const figures: Record<string, number> = {};
  const findings: string[] = [];
  const measureBank = async (kind: string, bankId: string, key: string) => {
    const size = banks.find((bank) => bank.bankId === bankId)!.size;
    // A pass of other questions unmeasured, then the measured one: a 5 GB database does not fit
    // the server's buffers, and the maintenance round that precedes the own indexes' measurement
    // reads the whole table to build them, so a single pass measured what the round left in the
    // cache (the arms whose code had not changed ran up to twice as slow after a round of 20
    // builds as after one of 10). The second pass is a bank in use, whose pages recall keeps
    // warm; its questions are new to it, as a bank in use gets new questions (the same question
    // asked again walks pages the processor still holds, and is faster than any new one).
    await timeRecallStages(recall, bankId, warmUp, warmUp.length);
    const stages = await timeRecallStages(recall, bankId, queries, 0);
    let sameTopTen = 0;
    let sharedWithExact = 0;
    for (const query of queries) {
      // The semantic arm as recall runs it against the exact nearest ten of the bank.
      const vector = hashingVector(query, DIMENSION);
      const scope = { bankId, types: FACT_TYPES, tags: [], tagsMatch: 'any' as const };
      const [asRun, exact] = await database.transaction(async (sql) => [
        await semanticArm(sql, vectors, scope, vector, 10, size < 10_000 ? 'exact' : 'index'),
        await semanticArm(sql, vectors, scope, vector, 10, 'exact'),
      ]);
      if (asRun.map((candidate) => candidate.id).join() === exact.map((candidate) => candidate.id).join()) sameTopTen += 1;
      sharedWithExact += sharedIds(asRun, exact);
    }
    const summary = summarize(stages.fused);
    const armP50 = (arm: RecallArmName) => (stages[arm].length > 0 ? fmt(summarize(stages[arm]).median) : '–');
    rows.push([
      kind,
      size,
      fmt(summary.median),
      fmt(summary.p95),
      ...RECALL_ARMS.map(armP50),
      `${sameTopTen} of ${queries.length}`,
      fmt(sharedWithExact / queries.length / 10),
    ]);
    figures[`${key}_fused_p50`] = summary.median;
    figures[`${key}_fused_p95`] = summary.p95;
    figures[`${key}_same_top10`] = sameTopTen / queries.length;
    figures[`${key}_recall_at_10`] = sharedWithExact / queries.length / 10;
    for (const arm of RECALL_ARMS) if (stages[arm].length > 0) figures[`${key}_${arm}_p50`] = summarize(stages[arm]).median;
    findings.push(
      `${kind} (${size} memories) of ${total.toLocaleString('en')} in ${banks.length} banks: fused p50 ${fmt(summary.median)} ms, ` +
        `p95 ${fmt(summary.p95)} ms, semantic arm p50 ${armP50('semantic')} ms; the semantic arm's nearest ten equal the exact ` +
        `scan's for ${sameTopTen} of ${queries.length} questions (recall@10 ${fmt(sharedWithExact / queries.length / 10)}).`,
    );
  };
  await measureBank('a 1,000-memory bank', 'thousand-7', 'thousand');
  await measureBank('the largest bank, shared index', 'largest-0', 'largest');
  const unfiltered = await unfilteredIndexRecall(database, vectors, queries);
  // Then what a running fleet does on its own: one round of bank index maintenance, which builds
  // the large banks' own indexes (HNSW, full-text) and then drops the shared HNSW index.
  const maintenance = await app.get(BankVectorIndexService).maintain();
  if (maintenance.failed.length > 0 || maintenance.skipped) throw new Error(`bank index maintenance: ${JSON.stringify(maintenance)}`);
  if (!maintenance.dropped.some((drop) => drop.reason === 'shared-index-unused')) throw new Error('the shared index was not dropped');
  const ownIndexesMs = maintenance.created.reduce((sum, build) => sum + build.durationMs, 0);
  figures.own_indexes = maintenance.created.length;
  figures.own_indexes_s = ownIndexesMs / 1000;
  context.log(`recall-scale: ${maintenance.created.length} indexes of the large banks' own built in ${fmt(ownIndexesMs / 1000)} s`);
  await measureBank('the largest bank, its own indexes', 'largest-0', 'largest_own');
  figures.unfiltered_recall_at_10 = unfiltered.recallAtTen;
  findings.push(
    `Control: the same HNSW index walked without a bank filter (every bank's memories, ef_search 40) shares ` +
      `${fmt(unfiltered.recallAtTen)} of the exact nearest ten over the whole table, and equals them for ${unfiltered.same} of ` +
      `${queries.length} questions: how far the largest bank's walk is from exact is the index's own recall on this corpus, ` +
      'not a cost of filtering by bank.',
  );
  figures.load_s = seeding.loadMs / 1000;
  figures.index_s = seeding.indexMs / 1000;
  const tables: ResultTable[] = [
    {
      caption: `${context.server.label}: ${total.toLocaleString('en')} memories in ${banks.length} banks`,
      columns: [
        'recall in',
        'memories',
        'fused p50 (ms)',
        'fused p95 (ms)',
        ...RECALL_ARMS.map((arm) => `${arm} p50`),
        'semantic top 10 = exact top 10',
        'recall@10 vs exact',
      ],
      rows,
    },
    {
      caption: 'Seeding and index builds (not part of the latencies)',
      columns: ['memories', 'banks', 'load (s)', 'index build (s)', "banks' own indexes", 'their builds (s, one after another)'],
      rows: [
        [
          total,
          banks.length,
          fmt(seeding.loadMs / 1000),
          fmt(seeding.indexMs / 1000),
          maintenance.created.length,
          fmt(ownIndexesMs / 1000),
        ],
      ],
    },
  ];
  const workload = [
    `One database of ${context.server.label} with ${banks.length} banks: 2 of ${scaled(context, 100_000)} memories, 8 of ` +
      `${scaled(context, 50_000)}, ${banks.filter((bank) => bank.bankId.startsWith('thousand')).length} of 1,000 and the rest of ${scaled(context, 100)} ` +
      `(${total.toLocaleString('en')} in all), from the synthetic corpus of seed ${CORPUS_SEED}, loaded in bulk (each bank prepared, its facts ` +
      'extracted, embedded and counted, as the load reaches it, so the load time includes that) with one HNSW index for all banks (what a fleet without bank indexes keeps, and what one upgraded from it starts with), then `VACUUM ANALYZE`.',
    `Queries: ${queries.length} questions from seed ${QUERY_SEED}, asked with the API's defaults in a ` +
      `1,000-memory bank and in the largest, each after as many questions of seed ${WARM_UP_SEED} unmeasured, so that the ` +
      'figures are a bank in use (on a warm connection) rather than what the previous step left in the cache, and no measured ' +
      'question has been asked before; for each, the semantic arm as recall runs it (an exact scan below `exactScanBelow`, ' +
      '10,000, the HNSW index above) is compared with an exact scan of the same bank: the same ten in the same order, and ' +
      'the share of the exact ten it found (recall@10). As a control, the index is walked without a bank filter and ' +
      'compared with an exact scan of the whole table. The largest bank is measured twice: walking the index all banks share, ' +
      'then, after one round of the bank index maintenance (`BankVectorIndexService.maintain()`, the defaults: every bank of ' +
      '10,000 memories or more gets an HNSW index of its own and a ' +
      "full-text index of its own if it holds at most half the database's memories, and the round then drops the shared HNSW " +
      'index), with its own indexes.',
    context.scale < 1
      ? `Scale ${context.scale}: the large banks and the small ones at that share of their size, fewer 1,000-memory banks.`
      : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return { workload, tables, findings, figures };
}

function sharedIds(found: ReadonlyArray<{ id: string }>, exact: ReadonlyArray<{ id: string }>): number {
  const ids = new Set(found.map((candidate) => candidate.id));
  return exact.filter((candidate) => ids.has(candidate.id)).length;
}

/**
 * The HNSW index's recall on this corpus with no filter at all: its ten nearest over the whole
 * table (the arm's settings, ef_search 40 for ten) against the exact ten of an uncast scan.
 */
async function unfilteredIndexRecall(
  database: MemoryDatabase,
  vectors: VectorBackend,
  queries: string[],
): Promise<{ recallAtTen: number; same: number }> {
  let shared = 0;
  let same = 0;
  for (const query of queries) {
    const vector = vectors.serialize(hashingVector(query, DIMENSION));
    const [walked, exact] = await database.transaction(async (sql) => {
      await sql.query(`SELECT set_config('hnsw.ef_search', '40', true), set_config('hnsw.iterative_scan', 'strict_order', true)`);
      return [
        await sql.query<{ id: string }>(`SELECT id FROM memory_units ORDER BY ${vectors.distance('memory_units', '$1')} LIMIT 10`, [
          vector,
        ]),
        await sql.query<{ id: string }>(`SELECT id FROM memory_units ORDER BY embedding <=> $1::vector(${DIMENSION}) LIMIT 10`, [vector]),
      ];
    });
    shared += sharedIds(walked, exact);
    if (walked.map((row) => row.id).join() === exact.map((row) => row.id).join()) same += 1;
  }
  return { recallAtTen: shared / queries.length / 10, same };
}
