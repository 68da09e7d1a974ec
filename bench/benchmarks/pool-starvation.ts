import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { MEMORY_DATA_SOURCE, MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../../test/helpers/fake-openai-server.js';
import { bootMemory } from '../../test/helpers/memory-app.js';
import { seededRandom } from '../../test/helpers/seeded-random.js';
import { seedRawMemories } from '../seed/raw-memories.js';
import { type Benchmark, type BenchmarkContext, type Summary, fmt, scaled, summarize } from '../harness.js';
import { consolidateHoldingConnections } from './pool-starvation-baseline.js';

const POOL_SIZE = 4;
const PROVIDER_LATENCY_MS = 250;
const WORKERS = 4;
const BATCH_SIZE = 20;
/** The fake LLM folds every this many memories of a batch into one observation. */
const MEMORIES_PER_OBSERVATION = 10;
const RECALLS_PER_SECOND = 10;
/**
 * Recalls read a bank of their own, of fixed size, so that what their latency shows is the wait
 * for a connection, not the cost of scanning a bank that consolidation is growing (benchmark 2).
 */
const READER_BANK = 'reader';
const READER_MEMORIES = 200;
const SEED = 7;
const MODEL = 'bench-llm';

const PEOPLE = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elin', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena'];
const ACTIVITIES = [
  'bakes rye bread',
  'repairs bicycles',
  'plays the cello',
  'grows tomatoes',
  'climbs in the Alps',
  'writes poems',
  'keeps bees',
  'sails on the lake',
  'collects stamps',
  'runs marathons',
];
const WHEN = ['on Sundays', 'every morning', 'after work', 'in the winter', 'with friends', 'since 2019'];

function memoryTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  return Array.from({ length: count }, (_, index) => `${pick(PEOPLE)} ${pick(ACTIVITIES)} ${pick(WHEN)} (note ${index}).`);
}

function recallQueries(seed: number): string[] {
  const random = seededRandom(seed);
  return Array.from({ length: 50 }, () => `Who ${ACTIVITIES[Math.floor(random() * ACTIVITIES.length)]}?`);
}

interface RecallLoad {
  latencies: Summary;
  errors: number;
  sent: number;
}

/**
 * Recalls sent on a fixed schedule (open loop), each timed from when it was due, so a recall that
 * waits for a connection is not hidden by the client slowing down.
 */
async function recallsAtFixedRate(
  app: INestApplicationContext,
  bankId: string,
  queries: string[],
  until: () => boolean,
): Promise<RecallLoad> {
  const recall = app.get(RecallService);
  const periodMs = 1000 / RECALLS_PER_SECOND;
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  let errors = 0;
  const start = performance.now();
  for (let index = 0; !until(); index += 1) {
    const due = start + index * periodMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      recall.recall({ bankId, query: queries[index % queries.length] }).then(
        () => void latencies.push(performance.now() - due),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies: summarize(latencies), errors, sent: inFlight.length };
}

interface PoolSample {
  maxWaiting: number;
  meanWaiting: number;
  /** Share of samples with at least one acquirer waiting. */
  waitingShare: number;
  longestAcquireWaitMs: number;
}

function samplePool(database: MemoryDatabase): () => PoolSample {
  database.takeLongestWaitMs();
  const waiting: number[] = [];
  const timer = setInterval(() => waiting.push(database.poolStats()?.waiting ?? 0), 20);
  return () => {
    clearInterval(timer);
    return {
      maxWaiting: Math.max(0, ...waiting),
      meanWaiting: waiting.reduce((sum, value) => sum + value, 0) / Math.max(1, waiting.length),
      waitingShare: waiting.filter((value) => value > 0).length / Math.max(1, waiting.length),
      longestAcquireWaitMs: database.takeLongestWaitMs(),
    };
  };
}

interface Phase {
  name: string;
  recall: RecallLoad;
  pool: PoolSample;
  consolidated?: number;
  seconds?: number;
}

/** Runs `work` while recalls go on at the fixed rate; the phase ends when the work does. */
async function phase(
  context: BenchmarkContext,
  app: INestApplicationContext,
  name: string,
  bankId: string,
  queries: string[],
  work: () => Promise<number>,
): Promise<Phase> {
  const stopSampling = samplePool(app.get(MemoryDatabase));
  let done = false;
  const started = performance.now();
  const consolidation = work().finally(() => (done = true));
  const recall = recallsAtFixedRate(app, bankId, queries, () => done);
  const consolidated = await consolidation;
  context.log(`pool-starvation: ${name}: ${consolidated} memories in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const seconds = (performance.now() - started) / 1000;
  return { name, recall: await recall, pool: stopSampling(), consolidated, seconds };
}

async function idlePhase(app: INestApplicationContext, bankId: string, queries: string[], durationMs: number): Promise<Phase> {
  const stopSampling = samplePool(app.get(MemoryDatabase));
  const endAt = performance.now() + durationMs;
  const recall = await recallsAtFixedRate(app, bankId, queries, () => performance.now() >= endAt);
  return { name: 'idle (no consolidation)', recall, pool: stopSampling() };
}

async function countDone(app: INestApplicationContext, bankId: string): Promise<number> {
  const [row] = await app
    .get(MemoryDatabase)
    .query<{ n: number }>(
      `SELECT count(*)::int AS n FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation' AND consolidation_status = 'done'`,
      [bankId],
    );
  return row.n;
}

export const poolStarvation: Benchmark = {
  id: 'pool-starvation',
  title: 'Pool starvation: recall during consolidation, ours against a connection-holding baseline',
  async run(context: BenchmarkContext) {
    const memories = scaled(context, 2000, BATCH_SIZE * WORKERS);
    const idleMs = context.quick ? 2000 : 10_000;
    const database = await context.createDatabase('starvation');
    const fake = await FakeOpenAiServer.start({ latencyMs: { chat: PROVIDER_LATENCY_MS, embeddings: PROVIDER_LATENCY_MS } });
    fake.onChat((body: ChatRequestBody) => {
      const prompt = JSON.parse(String(body.messages.at(-1)!.content)) as { memories: Array<{ id: string; text: string }> };
      const create = [];
      for (let index = 0; index < prompt.memories.length; index += MEMORIES_PER_OBSERVATION) {
        const sources = prompt.memories.slice(index, index + MEMORIES_PER_OBSERVATION);
        create.push({
          text: `Observed together: ${sources.map((memory) => memory.text).join(' ')}`,
          source_ids: sources.map((memory) => memory.id),
        });
      }
      return { create };
    });
    const booted = await bootMemory({
      databaseUrl: database.url,
      poolSize: POOL_SIZE,
      watchdogIntervalMs: 60_000,
      embedder: { provider: 'openai', baseUrl: fake.baseUrl, apiKey: 'bench', maxRetries: 0 },
      llm: { provider: 'openai', baseUrl: fake.baseUrl, apiKey: 'bench', maxRetries: 0, model: MODEL },
      consolidation: { cron: null, concurrency: WORKERS, batchSize: BATCH_SIZE },
    });
    try {
      if (!booted.app) throw booted.startupError;
      const app = booted.app;
      const texts = memoryTexts(memories, SEED);
      await seedRawMemories(app, 'ours', texts);
      await seedRawMemories(app, 'baseline', texts);
      await seedRawMemories(app, READER_BANK, memoryTexts(READER_MEMORIES, SEED + 2));
      const queries = recallQueries(SEED + 1);
      context.log(`pool-starvation: ${memories} memories per bank seeded`);

      // Connections opened, plans cached and code warmed before anything is timed.
      for (const query of queries.slice(0, 10)) await app.get(RecallService).recall({ bankId: READER_BANK, query });
      const idle = await idlePhase(app, READER_BANK, queries, idleMs);
      const guard = app.get(ExternalCallGuard);
      const violationsBefore = guard.violations;
      const consolidation = app.get(ConsolidationService);
      const ours = await phase(context, app, 'ours: connection released across LLM and embedder', READER_BANK, queries, async () => {
        // Four workers on the bank, as four queued operations or instances would run.
        await Promise.all(Array.from({ length: WORKERS }, () => consolidation.consolidateBank('ours')));
        return countDone(app, 'ours');
      });
      const violations = guard.violations - violationsBefore;
      const baseline = await phase(context, app, 'baseline: QueryRunner held across LLM and embedder', READER_BANK, queries, () =>
        consolidateHoldingConnections({
          dataSource: app.get<DataSource>(MEMORY_DATA_SOURCE, { strict: false }),
          vectors: app.get<VectorBackend>(MEMORY_VECTOR_BACKEND, { strict: false }),
          baseUrl: fake.baseUrl,
          bankId: 'baseline',
          batchSize: BATCH_SIZE,
          workers: WORKERS,
          model: MODEL,
        }),
      );
      return report(memories, idleMs, [idle, ours, baseline], violations);
    } finally {
      await booted.app?.close();
      await fake.close();
      await database.drop();
    }
  },
};

function report(memories: number, idleMs: number, phases: Phase[], violations: number) {
  const [idle, ours, baseline] = phases;
  const observationsPerBatch = BATCH_SIZE / MEMORIES_PER_OBSERVATION;
  const llmBound = (WORKERS * BATCH_SIZE) / (PROVIDER_LATENCY_MS / 1000);
  const callsBound = (WORKERS * BATCH_SIZE) / (((1 + observationsPerBatch) * PROVIDER_LATENCY_MS) / 1000);
  const throughput = (each: Phase) => (each.consolidated ?? 0) / (each.seconds ?? Number.NaN);
  const oursRatio = ours.recall.latencies.p99 / idle.recall.latencies.p99;
  const baselineGrowth = baseline.recall.latencies.p99 - idle.recall.latencies.p99;
  const workload = [
    `Real PostgreSQL, pool of ${POOL_SIZE}. Fake OpenAI-compatible LLM and embedder on 127.0.0.1, each answering after`,
    `${PROVIDER_LATENCY_MS} ms, called through the real \`openai\` client. Two banks seeded with the same ${memories} raw`,
    `memories (texts from seed ${SEED}); ${WORKERS} consolidation workers, batches of ${BATCH_SIZE}; the fake LLM makes one`,
    `observation of every ${MEMORIES_PER_OBSERVATION} memories, so each batch costs one LLM call and ${observationsPerBatch} embedding calls.`,
    `A client sends ${RECALLS_PER_SECOND} recalls/s on a fixed schedule to a third bank of ${READER_MEMORIES} memories (seed ${SEED + 2})`,
    `(open loop, 50 queries from seed ${SEED + 1},`,
    `each timed from when it was due; the query embedding itself takes ${PROVIDER_LATENCY_MS} ms). After 10 warm-up recalls: ${idleMs / 1000} s with nothing`,
    'else running, then while our `ConsolidationService` consolidates bank `ours`, then while the benchmark-only',
    'baseline (`bench/benchmarks/pool-starvation-baseline.ts`: same SQL and calls, connection and transaction held',
    'across the LLM and embedder) consolidates bank `baseline`, all in one process on one pool.',
  ].join('\n');
  const figures = {
    idle_recall_p99_ms: idle.recall.latencies.p99,
    ours_recall_p99_ms: ours.recall.latencies.p99,
    baseline_recall_p99_ms: baseline.recall.latencies.p99,
    ours_p99_over_idle: oursRatio,
    baseline_p99_over_idle: baseline.recall.latencies.p99 / idle.recall.latencies.p99,
    ours_memories_per_s: throughput(ours),
    baseline_memories_per_s: throughput(baseline),
    guard_violations: violations,
  };
  return {
    workload,
    tables: [
      {
        caption: 'Recall latency (ms) while each runs',
        columns: ['phase', 'recalls', 'errors', 'p50', 'p95', 'p99', 'max'],
        rows: phases.map((each) => [
          each.name,
          each.recall.sent,
          each.recall.errors,
          fmt(each.recall.latencies.median),
          fmt(each.recall.latencies.p95),
          fmt(each.recall.latencies.p99),
          fmt(each.recall.latencies.max),
        ]),
      },
      {
        caption: `Consolidation and pool (${POOL_SIZE} connections, sampled every 20 ms)`,
        columns: [
          'phase',
          'memories consolidated',
          'seconds',
          'memories/s',
          'pool waiters max',
          'pool waiters mean',
          'time with waiters',
          'longest recall acquire wait (ms)',
        ],
        rows: phases.map((each) => [
          each.name,
          each.consolidated ?? '–',
          each.seconds === undefined ? '–' : fmt(each.seconds),
          each.consolidated === undefined ? '–' : fmt(throughput(each)),
          each.pool.maxWaiting,
          fmt(each.pool.meanWaiting),
          `${fmt(each.pool.waitingShare * 100)} %`,
          fmt(each.pool.longestAcquireWaitMs),
        ]),
      },
    ],
    findings: [
      `Ours: recall p99 during consolidation is ${fmt(oursRatio)}× the idle p99 (target ≤ 1.5×: ${oursRatio <= 1.5 ? 'met' : 'missed'}).`,
      `Baseline: recall p99 grows by ${fmt(baselineGrowth)} ms over idle, ${fmt(baselineGrowth / PROVIDER_LATENCY_MS)}× the LLM latency (expected ≥ 1×: ${baselineGrowth >= PROVIDER_LATENCY_MS ? 'yes' : 'no'}).`,
      `Throughput bound: ${WORKERS} workers × ${BATCH_SIZE} memories / ${PROVIDER_LATENCY_MS} ms LLM latency = ${fmt(llmBound)} memories/s; counting the ${observationsPerBatch} embedding calls each batch also waits for, ${fmt(callsBound)} memories/s. Ours reaches ${fmt(throughput(ours))} (${fmt((throughput(ours) / callsBound) * 100)} % of the latter), the baseline ${fmt(throughput(baseline))}.`,
      `External-call guard violations during our consolidation: ${violations} (a held connection across an LLM or embedder call would count one).`,
    ],
    figures,
  };
}
