import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { RECALL_ARMS, RECALL_STAGES, type RecallStage, timeRecallStages } from '../recall-stages.js';
import { bootQuietApp } from '../quiet-app.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, summarize } from '../harness.js';
import { type LoadTimings, type PreparedMemory, prepareMemories, seedBank, settleAfterLoad } from '../seed/bulk-seed.js';
import { CORPUS_NOW, syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 20250618;
const QUERY_SEED = 7;
const DIMENSION = 384;
const BANK = 'bench';
/** Questions of their own for the warm-up, so that no measured question has been asked before. */
const WARM_UP_SEED = 8;
/**
 * Recalls after each load before the measured ones. A new PostgreSQL session, and one whose bank
 * has just been loaded, is slow for its first recalls, about a hundred at 100k memories
 * (docs/ARCHITECTURE.md, "Warm connections"); a server in use is not, and that is what the
 * table measures. The first of them are timed too, and reported as the cold figure.
 */
const WARM_UP_QUERIES = 150;

const ARMS = RECALL_ARMS;
const STAGES = RECALL_STAGES;
type Stage = RecallStage;

type BackendName = 'pglite' | 'postgres';

interface Step {
  size: number;
  /** Measured queries at this size (after the warm-up). */
  queries: number;
}

interface StepResult extends Step {
  seeding: LoadTimings;
  samples: Record<Stage, number[]>;
  /** The first recalls after the load, as many as are measured: the warm-up's start, timed. */
  cold: Record<Stage, number[]>;
}

/**
 * Recall latency per arm and fused, on a bank grown in steps (10k, then 100k memories), on
 * PGlite with pgvector's HNSW index and on a PostgreSQL server without pgvector, where the
 * semantic arm scans every `real[]` embedding of the bank.
 */
export const recallLatency: Benchmark = {
  id: 'recall-latency',
  title: 'Recall latency at 10k and 100k memories per bank',
  async run(context) {
    const [small, large] = [scaled(context, 10_000), scaled(context, 100_000)];
    const queryCount = context.quick ? 10 : 40;
    // Without pgvector the exact scan costs about 0.3 s per 10k memories on this machine, some 3 s
    // a query at 100k: that PostgreSQL gets fewer queries so that the benchmark stays within its
    // share of the run.
    const plans: Record<BackendName, Step[]> = {
      pglite: [
        { size: small, queries: queryCount },
        { size: large, queries: queryCount },
      ],
      postgres: context.server.pgvector
        ? [
            { size: small, queries: queryCount },
            { size: large, queries: queryCount },
          ]
        : [
            { size: small, queries: context.quick ? 10 : 20 },
            { size: large, queries: context.quick ? 3 : 8 },
          ],
    };

    const startedAt = performance.now();
    const corpus = prepareMemories(take(syntheticMemories(CORPUS_SEED), large), DIMENSION);
    const queries = syntheticQueries(QUERY_SEED, queryCount);
    const warmUp = syntheticQueries(WARM_UP_SEED, context.quick ? queryCount : WARM_UP_QUERIES);
    context.log(`recall-latency: corpus of ${large} memories prepared in ${seconds(performance.now() - startedAt)}`);

    const results = {} as Record<BackendName, StepResult[]>;
    for (const backend of ['pglite', 'postgres'] as const) {
      results[backend] = await measureBackend(context, backend, plans[backend], corpus, queries, warmUp);
    }
    return report(context, plans, results, queries, warmUp);
  },
};

async function measureBackend(
  context: BenchmarkContext,
  backend: BackendName,
  plan: Step[],
  corpus: PreparedMemory[],
  queries: string[],
  warmUp: string[],
): Promise<StepResult[]> {
  const database = backend === 'postgres' ? await context.createDatabase('recall') : undefined;
  // PGlite in a data directory on disk, as the server's default `pglite://./.data/memory` is:
  // an in-memory database starts with a smaller buffer pool (src/storage/pglite/pglite-instances.ts).
  const dataDir = backend === 'pglite' ? await mkdtemp(path.join(tmpdir(), 'memory-bench-recall-')) : undefined;
  try {
    const app = await bootQuietApp(database?.url ?? `pglite://${dataDir}`);
    try {
      return await measureSteps(context, backend, app, plan, corpus, queries, warmUp);
    } finally {
      await app.close();
    }
  } finally {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureSteps(
  context: BenchmarkContext,
  backend: BackendName,
  app: INestApplicationContext,
  plan: Step[],
  corpus: PreparedMemory[],
  queries: string[],
  warmUp: string[],
): Promise<StepResult[]> {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
  const recall = app.get(RecallService);
  const expected: VectorBackend['kind'] = backend === 'pglite' || context.server.pgvector ? 'pgvector' : 'real-array';
  if (vectors.kind !== expected) throw new Error(`${backend} came up with the ${vectors.kind} back end, expected ${expected}`);

  const results: StepResult[] = [];
  let seeded = 0;
  for (const step of plan) {
    // The bank grows: the larger size holds the smaller one's memories and more.
    const seeding = await seedBank(database, vectors, BANK, corpus.slice(seeded, step.size));
    seeded = step.size;
    await settleAfterLoad(database);
    context.log(
      `recall-latency: ${backend} ${step.size} memories: loaded in ${seconds(seeding.loadMs)}, indexes built in ${seconds(seeding.indexMs)}`,
    );

    const cold = await timeRecallStages(recall, BANK, warmUp.slice(0, step.queries), 0);
    await timeRecallStages(recall, BANK, warmUp.slice(step.queries), warmUp.length);
    const samples = await timeRecallStages(recall, BANK, queries.slice(0, step.queries), 0);
    context.log(
      `recall-latency: ${backend} ${step.size} memories: fused p50 ${fmt(summarize(samples.fused).median, 'ms')} ` +
        `(the first ${step.queries} after the load: ${fmt(summarize(cold.fused).median, 'ms')})`,
    );
    results.push({ ...step, seeding, samples, cold });
  }
  return results;
}

function backendLabel(context: BenchmarkContext, backend: BackendName): string {
  if (backend === 'pglite') return 'PGlite + pgvector (HNSW index), on disk';
  return context.server.pgvector ? `${context.server.label} (HNSW index)` : `${context.server.label} (exact scan of real[] embeddings)`;
}

const STAGE_LABELS: Record<Stage, string> = {
  semantic: 'semantic arm',
  keyword: 'keyword arm',
  entity: 'entity arm',
  temporal: 'temporal arm',
  rest: 'rest of recall',
  fused: 'fused (whole recall)',
};

function report(
  context: BenchmarkContext,
  plans: Record<BackendName, Step[]>,
  results: Record<BackendName, StepResult[]>,
  queries: string[],
  warmUp: string[],
) {
  const p50 = (backend: BackendName, step: number, stage: Stage) => summarize(results[backend][step].samples[stage]).median;
  const label = (size: number) => (size >= 1000 ? `${size / 1000}k` : String(size));
  const [small, large] = plans.pglite.map((step) => step.size);

  const tables: ResultTable[] = (['pglite', 'postgres'] as const).map((backend) => ({
    caption: backendLabel(context, backend),
    columns: ['stage', 'memories', 'p50 (ms)', 'p95 (ms)', 'n'],
    rows: results[backend].flatMap((step) =>
      STAGES.map((stage) => {
        const summary = summarize(step.samples[stage]);
        return [STAGE_LABELS[stage], step.size, fmt(summary.median), fmt(summary.p95), summary.n];
      }).concat(
        [summarize(step.cold.fused)].map((cold) => [
          'fused, the first recalls after the load (cold)',
          step.size,
          fmt(cold.median),
          fmt(cold.p95),
          cold.n,
        ]),
      ),
    ),
  }));
  tables.push({
    caption: 'Seeding (not part of the latencies): bulk load, then the bulk build of the dropped indexes',
    columns: ['back end', 'memories', 'load (s)', 'index build (s)'],
    rows: (['pglite', 'postgres'] as const).flatMap((backend) =>
      results[backend].map((step) => [backend, step.size, fmt(step.seeding.loadMs / 1000), fmt(step.seeding.indexMs / 1000)]),
    ),
  });

  const ratio = (a: number, b: number) => `${fmt(a / b)}x`;
  const findings: string[] = [];
  for (const backend of ['pglite', 'postgres'] as const) {
    findings.push(
      `${backendLabel(context, backend)}: ${label(large)}/${label(small)} p50 ratio ${ratio(p50(backend, 1, 'fused'), p50(backend, 0, 'fused'))} fused, ` +
        ARMS.map((arm) => `${ratio(p50(backend, 1, arm), p50(backend, 0, arm))} ${arm}`).join(', ') +
        ` for ${fmt(large / small)}x the memories.`,
    );
  }
  if (!context.server.pgvector) {
    for (const [step, size] of [small, large].entries()) {
      findings.push(
        `At ${label(size)} memories the real[] fallback's semantic arm takes ${fmt(p50('postgres', step, 'semantic'))} ms at p50, ` +
          `${ratio(p50('postgres', step, 'semantic'), p50('pglite', step, 'semantic'))} pgvector's ${fmt(p50('pglite', step, 'semantic'))} ms; ` +
          `whole recall ${ratio(p50('postgres', step, 'fused'), p50('pglite', step, 'fused'))} (${fmt(p50('postgres', step, 'fused'))} against ${fmt(p50('pglite', step, 'fused'))} ms). ` +
          `The semantic arm is ${fmt((100 * p50('postgres', step, 'semantic')) / p50('postgres', step, 'fused'))}% of the fallback's recall.`,
      );
    }
  } else {
    const p95 = (backend: BackendName, step: number, stage: Stage) => summarize(results[backend][step].samples[stage]).p95;
    const met = (value: number, target: number) => (value <= target ? 'met' : 'missed');
    findings.push(
      `Targets at ${label(large)} memories on ${context.server.label}: fused p50 ${fmt(p50('postgres', 1, 'fused'))} ms (target 20: ` +
        `${met(p50('postgres', 1, 'fused'), 20)}), p95 ${fmt(p95('postgres', 1, 'fused'))} ms (target 40: ${met(p95('postgres', 1, 'fused'), 40)}), ` +
        `rest of recall p50 ${fmt(p50('postgres', 1, 'rest'))} ms (target 5: ${met(p50('postgres', 1, 'rest'), 5)}); ` +
        `PGlite fused p50 ${fmt(p50('pglite', 1, 'fused'))} ms (target 60: ${met(p50('pglite', 1, 'fused'), 60)}). ` +
        `The first ${results.postgres[1].cold.fused.length} recalls after the ${label(large)} load, on a connection that had not yet ` +
        `read the new pages, took ${fmt(summarize(results.postgres[1].cold.fused).median)} ms at p50 ` +
        `(${ratio(summarize(results.postgres[1].cold.fused).median, p50('postgres', 1, 'fused'))} the warm figure).`,
    );
  }
  const slowestPgliteArm = ARMS.reduce((slowest, arm) => (p50('pglite', 1, arm) > p50('pglite', 1, slowest) ? arm : slowest));
  findings.push(
    `With HNSW the semantic arm is no longer the cost: at ${label(large)} on PGlite the ${slowestPgliteArm} arm is the slowest ` +
      `(${fmt(p50('pglite', 1, slowestPgliteArm))} ms p50) and the rest of recall (candidate rows, fusion, token budget, entities) ` +
      `takes ${fmt(p50('pglite', 1, 'rest'))} ms.`,
  );
  const linear = (['keyword', 'entity', 'temporal'] as const).filter(
    (arm) => p50('pglite', 1, arm) / p50('pglite', 0, arm) >= large / small / 2,
  );
  if (linear.length > 0) {
    findings.push(
      `The ${linear.join(', ')} arm${linear.length > 1 ? 's grow' : ' grows'} about linearly with the bank: ` +
        'their plans read every memory of it (or every one sharing a word with the question) rather than an index range.',
    );
  }
  const pgliteBuild = results.pglite[1].seeding.indexMs / 1000;
  findings.push(
    `Building PGlite's indexes over ${label(large)} memories in one go took ${fmt(pgliteBuild)} s, almost all of it the HNSW graph ` +
      `(single-threaded WebAssembly); ${context.server.label} took ${fmt(results.postgres[1].seeding.indexMs / 1000)} s.`,
  );

  const figures: Record<string, number> = {};
  for (const backend of ['pglite', 'postgres'] as const) {
    for (const [step, size] of [small, large].entries()) {
      for (const stage of ['fused', 'semantic'] as const) {
        figures[`${backend}_${label(size)}_${stage}_p50`] = p50(backend, step, stage);
        figures[`${backend}_${label(size)}_${stage}_p95`] = summarize(results[backend][step].samples[stage]).p95;
      }
      figures[`${backend}_${label(size)}_fused_cold_p50`] = summarize(results[backend][step].cold.fused).median;
    }
  }

  const workload = [
    `One bank grown in two steps, ${small.toLocaleString('en')} then ${large.toLocaleString('en')} memories, on each back end: PGlite in a new data directory on disk, as the server's default is, with its 512MB ` +
      'buffer pool (pgvector, HNSW index with the default m = 16 and ef_construction = 64) and a database on ' +
      (context.server.pgvector
        ? `${context.server.label}, with the same HNSW index on the bank's own rows (the partial index a bank of 10,000 memories or ` +
          'more gets there, built with the load; PGlite keeps one index for all banks).'
        : `${context.server.label}, so embeddings are \`real[]\` and the semantic arm computes the cosine distance of every one of them.`),
    `Memories: a synthetic corpus from seed ${CORPUS_SEED} (\`bench/seed/synthetic-memories.ts\`), one sentence each naming one or two of ` +
      '1,000 people (skewed: the most mentioned is in about 3% of the memories) and often one of 120 places, dated uniformly over the year ' +
      `before ${CORPUS_NOW.toISOString()}. They are written in bulk (\`bench/seed/bulk-seed.ts\`) as sync retain without an LLM would ` +
      'write them: one world fact per sentence, occurred and mentioned at the item timestamp, the hashing embedding (dimension 384) of ' +
      'the text, entities from the proper-noun heuristic with their links and mention counts. The secondary indexes are dropped for ' +
      'the load and rebuilt from their own definitions after it; then `VACUUM ANALYZE`, what autovacuum (PostgreSQL) or the ' +
      'watchdog (PGlite) does within a minute of such a load: the vacuum marks the pages all-visible, so that index-only scans ' +
      'do not fetch each row from the table too.',
    `Queries: ${queries.length} questions from seed ${QUERY_SEED}, each naming a person, a thing and a time ("What did … buy at the ` +
      'flea market last month?"), so every arm does work; asked at the corpus\'s "now" with the defaults of the HTTP API (budget ' +
      `\`mid\`: 50 candidates per arm, 4,096 tokens, entities on), hashing embedder, no reranker. After each load, ` +
      `${warmUp.length} questions of seed ${WARM_UP_SEED} warm up first: a PostgreSQL session is slow for its first recalls after a ` +
      'load or when new (docs/ARCHITECTURE.md, "Warm connections"), and a server in use is not. The first of them, as many as are ' +
      `measured, are timed as the cold row of each table. Then ${plans.pglite[0].queries} are measured one after another on PGlite at both sizes, and on PostgreSQL ` +
      (context.server.pgvector
        ? `${plans.postgres[0].queries} at both sizes.`
        : `${plans.postgres[0].queries} at ${label(small)} and only ${plans.postgres[1].queries} at ${label(large)}, where each exact scan ` +
          'takes seconds (so p95 there is close to the maximum).'),
    'Arm times are the `durationMs` of the recall trace (the semantic arm sets the HNSW settings inside its own statement; the entity ' +
      'arm includes the lookup of the names the question gives, its first step); "fused" is ' +
      'the whole `RecallService.recall` call measured around it; "rest of recall" is fused minus the arms\' wall time (`armsMs`): the ' +
      "query embedding, loading the candidates' rows, fusion, the token budget and the entities. On PostgreSQL a lone recall runs " +
      'two arms on a second pooled connection beside the other two (docs/ARCHITECTURE.md, "A second connection for a lone recall"), ' +
      "so there the arms' own times add up to more than their wall time.",
    context.quick ? 'Quick mode: a tenth of the memories and fewer queries.' : '',
  ]
    .filter(Boolean)
    .join('\n\n');

  return { workload, tables, findings, figures };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
