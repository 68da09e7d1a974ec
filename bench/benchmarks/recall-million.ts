import type { INestApplicationContext } from '@nestjs/common';
import { RECALL_ARMS, type RecallStage, timeRecallStages } from '../recall-stages.js';
import { onQuietAppOfItsOwn } from '../quiet-app.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, summarize } from '../harness.js';
import { type PreparedMemory, prepareMemories, seedBanks } from '../seed/bulk-seed.js';
import { type SyntheticMemory, syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 20250618;
const QUERY_SEED = 7;
/** New questions for the measured warm pass, and others still to warm it up: none of them asked before it. */
const WARM_QUERY_SEED = 9;
const WARM_UP_SEED = 10;
const WARM_UP_RECALLS = 150;
const DIMENSION = 384;
const BANK = 'million';
const MEMORIES = 1_000_000;
/** Prepared and loaded a part at a time: the whole corpus as strings would be several GB. */
const PART = 50_000;
const WARM_UP_QUERIES = 3;
const TARGET_FUSED_P50_MS = 50;

const ARMS = RECALL_ARMS;

/**
 * One bank of a million memories on PostgreSQL + pgvector (issue #14, item 4): how long the load
 * and the index builds take, and what recall costs there, arm by arm. Opt-in (`--only
 * recall-million`): it needs some half an hour of a quiet machine and several GB of the server's
 * disk, so a full `npm run bench` leaves it out.
 */
export const recallMillion: Benchmark = {
  id: 'recall-million',
  title: 'Recall in one bank of 1M memories',
  requires: 'pgvector',
  optIn: true,
  run: (context) => onQuietAppOfItsOwn(context, 'million', (app) => measure(context, app)),
};

function* parts(context: BenchmarkContext, total: number): Generator<{ bankId: string; memories: PreparedMemory[] }> {
  const memories: Iterator<SyntheticMemory> = syntheticMemories(CORPUS_SEED);
  for (let loaded = 0; loaded < total; loaded += PART) {
    yield { bankId: BANK, memories: prepareMemories(take(memories, Math.min(PART, total - loaded)), DIMENSION) };
    context.log(`recall-million: ${Math.min(total, loaded + PART)} of ${total} memories loaded`);
  }
}

async function measure(context: BenchmarkContext, app: INestApplicationContext) {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
  const recall = app.get(RecallService);
  const total = scaled(context, MEMORIES);

  // The HNSW graph of a million 384-dimensional embeddings takes some 2 GB while it is built.
  const seeding = await seedBanks(database, vectors, parts(context, total), '4GB');
  const analyzeStartedAt = performance.now();
  await database.query('ANALYZE');
  const analyzeMs = performance.now() - analyzeStartedAt;
  const [{ bytes }] = await database.query<{ bytes: string }>(`SELECT pg_database_size(current_database())::text AS bytes`);
  const hnsw = seeding.indexBuilds.find((build) => build.name.includes('hnsw'));
  context.log(
    `recall-million: loaded in ${fmt(seeding.loadMs / 1000)} s, indexes in ${fmt(seeding.indexMs / 1000)} s ` +
      `(HNSW ${fmt((hnsw?.ms ?? NaN) / 1000)} s)`,
  );

  const queries = syntheticQueries(QUERY_SEED, context.quick ? 13 : 43);
  const warmQueries = syntheticQueries(WARM_QUERY_SEED, queries.length - WARM_UP_QUERIES);
  const warmUp = syntheticQueries(WARM_UP_SEED, context.quick ? 10 : WARM_UP_RECALLS);
  // First right after the load, with the 4.6 GB database mostly outside the server's 1 GB of
  // shared buffers (a restart, a failover); then the same questions with what they read cached;
  // then new questions after more others, on a warm connection: a bank in use (the figure the
  // target is for; a question asked again walks pages the processor still holds, and is faster
  // than any new one).
  const first = await timeRecallStages(recall, BANK, queries, WARM_UP_QUERIES);
  const again = await timeRecallStages(recall, BANK, queries, WARM_UP_QUERIES);
  await timeRecallStages(recall, BANK, warmUp, warmUp.length);
  const inUse = await timeRecallStages(recall, BANK, warmQueries, 0);
  const passes = [
    { name: 'first pass, after the load', samples: first },
    { name: 'second pass, the same questions', samples: again },
    { name: `new questions, after ${warmUp.length} others`, samples: inUse },
  ];
  const p50 = (samples: Record<RecallStage, number[]>, stage: RecallStage) => summarize(samples[stage]).median;
  const [cold, , warm] = passes.map((pass) => summarize(pass.samples.fused));

  const tables: ResultTable[] = [
    {
      caption: `${context.server.label}: ${total.toLocaleString('en')} memories in one bank (HNSW index)`,
      columns: ['questions', 'fused p50', 'fused p95', 'fused p99', ...ARMS.map((arm) => `${arm} p50`), 'rest of recall p50'],
      rows: passes.map(({ name, samples }) => {
        const fused = summarize(samples.fused);
        return [
          name,
          fmt(fused.median),
          fmt(fused.p95),
          fmt(fused.p99),
          ...ARMS.map((arm) => fmt(p50(samples, arm))),
          fmt(p50(samples, 'rest')),
        ];
      }),
    },
    {
      caption: 'Seeding (not part of the latencies; seconds)',
      columns: ['memories', 'prepare and load', 'all indexes', 'of which HNSW', 'ANALYZE', 'database size'],
      rows: [
        [
          total,
          fmt(seeding.loadMs / 1000),
          fmt(seeding.indexMs / 1000),
          fmt((hnsw?.ms ?? NaN) / 1000),
          fmt(analyzeMs / 1000),
          `${fmt(Number(bytes) / 2 ** 30)} GiB`,
        ],
      ],
    },
  ];
  const workload = [
    `One bank of ${total.toLocaleString('en')} memories from the synthetic corpus of seed ${CORPUS_SEED} (the corpus of "Recall ` +
      `latency", continued), prepared and loaded ${PART.toLocaleString('en')} at a time with the secondary indexes dropped, then ` +
      "the indexes rebuilt from their own definitions (maintenance_work_mem 4GB, the server's default parallel workers) and `ANALYZE`.",
    `Queries: ${queries.length} questions from seed ${QUERY_SEED} (the first ${WARM_UP_QUERIES} of each pass warm up), asked in ` +
      "process with the API's defaults and a trace, twice over; then, after " +
      `${warmUp.length} questions of seed ${WARM_UP_SEED} unmeasured, ${warmQueries.length} new questions of seed ${WARM_QUERY_SEED}: ` +
      'a bank in use on a warm connection (docs/ARCHITECTURE.md, "Warm connections"), where no measured question was asked before. ' +
      '"Rest of recall" is the whole recall minus its four arms.',
  ].join('\n\n');
  const findings = [
    `${total.toLocaleString('en')} memories in one bank: fused p50 ${fmt(warm.median)} ms on new questions in a bank in use ` +
      `(target ${TARGET_FUSED_P50_MS}: ${warm.median <= TARGET_FUSED_P50_MS ? 'met' : 'missed'}), p95 ${fmt(warm.p95)} ms; ` +
      `${fmt(cold.median)} ms p50 on the first pass after the load. Loaded in ${fmt(seeding.loadMs / 1000)} s, indexes built in ` +
      `${fmt(seeding.indexMs / 1000)} s (HNSW ${fmt((hnsw?.ms ?? NaN) / 1000)} s).`,
  ];
  return {
    workload,
    tables,
    findings,
    figures: {
      first_fused_p50: cold.median,
      fused_p50: warm.median,
      fused_p95: warm.p95,
      ...Object.fromEntries(ARMS.map((arm) => [`${arm}_p50`, p50(inUse, arm)])),
      rest_p50: p50(inUse, 'rest'),
      load_s: seeding.loadMs / 1000,
      index_s: seeding.indexMs / 1000,
      hnsw_s: (hnsw?.ms ?? NaN) / 1000,
      database_gib: Number(bytes) / 2 ** 30,
    },
  };
}
