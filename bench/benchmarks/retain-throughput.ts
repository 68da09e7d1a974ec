import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { bootStartedMemory } from '../../test/helpers/memory-app.js';
import { MEMORY_OPTIONS } from '../../src/memory.constants.js';
import type { ResolvedMemoryOptions } from '../../src/memory.options.js';
import { MemoryMetrics } from '../../src/metrics/memory-metrics.js';
import { RetainService } from '../../src/retain/retain.service.js';
import type { RetainItem } from '../../src/retain/retain.types.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, summarize } from '../harness.js';
import { type SyntheticMemory, syntheticMemories, take } from '../seed/synthetic-memories.js';

const CONTENT_SEED = 4242;
const BATCH_SIZES = [1, 10, 100] as const;
const MODES = ['sync', 'async'] as const;
type Mode = (typeof MODES)[number];
/** `postgres-shared`: the same server with the bank indexes off, so one HNSW graph holds every bank's rows (pgvector only). */
type BackendName = 'postgres' | 'postgres-shared' | 'pglite';

/**
 * Memories retained per run, by batch size (items per request); a tenth in quick mode. At batch
 * 100 a run is 10 requests, 5 per caller: with 4 (2 per caller, about 85 ms on PostgreSQL) a run
 * was mostly its start, both callers preparing on the one event loop and then writing at once
 * into the same entity rows, and measured 3,800 to 4,500 memories/s where the same requests sent
 * 10 or 20 a run measured 5,000 to 5,400 (a probe, one bank). Eight runs of 1,000 keep the bank
 * below 10,000 memories, the size from which a bank gets an HNSW index of its own.
 */
const MEMORIES_PER_RUN: Record<(typeof BATCH_SIZES)[number], number> = { 1: 100, 10: 200, 100: 1_000 };
/** An async run that has not finished by then has a failing operation, not a slow one. */
const ASYNC_DEADLINE_MS = 60_000;
/** Issue 14, item 6a: sync retain at batch 100 on PostgreSQL, once each request is a few multi-row statements. */
const TARGET_BATCH100_PER_S = 5_000;

interface Cell {
  mode: Mode;
  batch: number;
  requests: number;
  /** Milliseconds per run, the warm-up excluded. */
  runs: number[];
}

/**
 * Memories per second through `RetainService.retain`, the service behind `POST …/memories`:
 * synchronous requests, and queued ones timed until the operations worker has completed them all.
 */
export const retainThroughput: Benchmark = {
  id: 'retain-throughput',
  title: 'Retain throughput, sync and async, batches of 1, 10 and 100',
  async run(context) {
    // PGlite writes two to four times slower (one connection, and the HNSW index is maintained
    // row by row in WebAssembly), so it gets fewer runs to stay cheap.
    const runs: Record<BackendName, number> = {
      postgres: context.quick ? 3 : 7,
      'postgres-shared': context.quick ? 3 : 7,
      pglite: context.quick ? 3 : 4,
    };
    const content = syntheticMemories(CONTENT_SEED);
    const results = {} as Partial<Record<BackendName, Cell[]>>;
    let options: ResolvedMemoryOptions | undefined;
    const backends: BackendName[] = context.server.pgvector ? ['postgres', 'postgres-shared', 'pglite'] : ['postgres', 'pglite'];
    for (const backend of backends) {
      const database = backend === 'pglite' ? undefined : await context.createDatabase('retain');
      try {
        const booted = await bootStartedMemory({
          databaseUrl: database?.url ?? 'pglite://memory/bench-retain',
          // What a fleet configured without bank indexes keeps, and every database kept before
          // them: one HNSW index that every retain extends, whatever the size of its bank.
          ...(backend === 'postgres-shared' && { bankVectorIndexes: { minMemories: null } }),
        });
        try {
          options = booted.app.get<symbol, ResolvedMemoryOptions>(MEMORY_OPTIONS);
          results[backend] = await measureBackend(context, backend, booted.app, content, runs[backend]);
        } finally {
          await booted.app.close();
        }
      } finally {
        await database?.drop();
      }
    }
    return report(context, results, runs, options!);
  },
};

async function measureBackend(
  context: BenchmarkContext,
  backend: BackendName,
  app: INestApplicationContext,
  content: Iterator<SyntheticMemory>,
  runCount: number,
): Promise<Cell[]> {
  const retainer = new Retainer(app, content);
  const cells: Cell[] = [];
  for (const mode of MODES) {
    for (const batch of BATCH_SIZES) {
      const requests = Math.ceil(scaled(context, MEMORIES_PER_RUN[batch]) / batch);
      // A bank per cell, so each cell starts from the same empty bank; the first run warms the
      // code paths of this cell and is not counted, and the tables are analysed after it.
      const bankId = `${mode}-batch${batch}`;
      const runs: number[] = [];
      for (let run = 0; run <= runCount; run++) {
        const ms = await retainer.run(mode, bankId, batch, requests);
        if (run > 0) runs.push(ms);
        else await retainer.analyze();
      }
      cells.push({ mode, batch, requests, runs });
      const median = summarize(runs.map((ms) => (batch * requests * 1000) / ms)).median;
      context.log(`retain-throughput: ${backend} ${mode} batch ${batch}: ${fmt(median)} memories/s`);
    }
  }
  return cells;
}

/** Sends one run's requests and times it: sync until the last response, async until the last operation completes. */
class Retainer {
  private readonly retain: RetainService;
  private readonly metrics: MemoryMetrics;
  private readonly database: MemoryDatabase;
  private readonly concurrency: number;

  constructor(
    app: INestApplicationContext,
    private readonly content: Iterator<SyntheticMemory>,
  ) {
    this.retain = app.get(RetainService);
    this.metrics = app.get(MemoryMetrics);
    this.database = app.get(MemoryDatabase);
    this.concurrency = app.get<symbol, ResolvedMemoryOptions>(MEMORY_OPTIONS).operations.concurrency;
  }

  async run(mode: Mode, bankId: string, batch: number, requests: number): Promise<number> {
    // Content is drawn before the clock starts: generating it is not retain's work.
    const bodies = Array.from({ length: requests }, () => take(this.content, batch).map(toItem));
    return mode === 'sync' ? this.runSync(bankId, bodies) : this.runAsync(bankId, bodies);
  }

  /**
   * As many callers as the worker has loops, each sending its share back to back, so that the
   * two modes differ by the queue and not by their parallelism.
   */
  private async runSync(bankId: string, bodies: RetainItem[][]): Promise<number> {
    const startedAt = performance.now();
    let next = 0;
    const caller = async () => {
      while (next < bodies.length) await this.retain.retain(bankId, { items: bodies[next++] });
    };
    await Promise.all(Array.from({ length: this.concurrency }, caller));
    return performance.now() - startedAt;
  }

  /** Enqueues every request, then waits for the worker; the metric is read in process, so waiting adds no queries. */
  private async runAsync(bankId: string, bodies: RetainItem[][]): Promise<number> {
    const target = (await this.asyncRetained()) + bodies.reduce((sum, items) => sum + items.length, 0);
    const startedAt = performance.now();
    for (const items of bodies) await this.retain.retain(bankId, { items, async: true });
    while ((await this.asyncRetained()) < target) {
      if (performance.now() - startedAt > ASYNC_DEADLINE_MS) throw new Error(await this.stuckOperations(bankId));
      await sleep(2);
    }
    return performance.now() - startedAt;
  }

  /**
   * Statistics, as autovacuum (PostgreSQL) or the watchdog (PGlite) gathers them within a minute
   * of a new database's first writes. Without them, each pooled connection keeps the plans it made
   * for the first retains into empty tables: the foreign-key check and the link-time trigger of
   * every entity link then read `memory_units` sequentially, which more than doubled the link
   * statement's time at a few thousand memories, a state no running database stays in.
   */
  async analyze(): Promise<void> {
    await this.database.query('ANALYZE');
  }

  /** Memories written by completed async retains; incremented only after their transaction commits. */
  private async asyncRetained(): Promise<number> {
    const { values } = await this.metrics.retainedMemories.get();
    return values.find((value) => value.labels.mode === 'async')?.value ?? 0;
  }

  private async stuckOperations(bankId: string): Promise<string> {
    const rows = await this.database.query<{ status: string; count: number; error: string | null }>(
      `SELECT status, count(*)::int AS count, max(error) AS error FROM operations WHERE bank_id = $1 GROUP BY status`,
      [bankId],
    );
    return `async retain did not finish within ${ASYNC_DEADLINE_MS} ms: ${JSON.stringify(rows)}`;
  }
}

function toItem(memory: SyntheticMemory): RetainItem {
  return { content: memory.text, timestamp: memory.timestamp };
}

function report(
  context: BenchmarkContext,
  results: Partial<Record<BackendName, Cell[]>>,
  runs: Record<BackendName, number>,
  options: ResolvedMemoryOptions,
) {
  const concurrency = options.operations.concurrency;
  const embeddings = context.server.pgvector
    ? 'pgvector; the bank indexes on, the default, so these banks, below their 10,000 memories, are in no HNSW graph'
    : 'real[] embeddings';
  const backendLabels: Record<BackendName, string> = {
    postgres: `${context.server.label} (pool of ${options.poolSize}, ${embeddings})`,
    'postgres-shared': `${context.server.label} (pool of ${options.poolSize}, pgvector; the bank indexes off, so one HNSW index holds every bank's memories)`,
    pglite: 'PGlite in memory (one connection, pgvector with the one HNSW index every bank shares)',
  };
  const measured = (['postgres', 'postgres-shared', 'pglite'] as const).filter((backend) => results[backend]);
  const rates = (cell: Cell) => {
    const memories = cell.batch * cell.requests;
    // The p95 of run time, as a rate: what the slow runs achieved.
    const times = summarize(cell.runs);
    return { memories, median: (memories * 1000) / times.median, p95: (memories * 1000) / times.p95 };
  };
  const cellOf = (backend: BackendName, mode: Mode, batch: number) =>
    results[backend]!.find((cell) => cell.mode === mode && cell.batch === batch)!;
  const median = (backend: BackendName, mode: Mode, batch: number) => rates(cellOf(backend, mode, batch)).median;

  const tables: ResultTable[] = measured.map((backend) => ({
    caption: backendLabels[backend],
    columns: ['mode', 'batch size', 'requests per run', 'memories per run', 'median (memories/s)', 'p95 run (memories/s)', 'runs'],
    rows: results[backend]!.map((cell) => {
      const rate = rates(cell);
      return [cell.mode, cell.batch, cell.requests, rate.memories, fmt(rate.median), fmt(rate.p95), cell.runs.length];
    }),
  }));

  const ratio = (a: number, b: number) => `${fmt(a / b)}x`;
  const batch100 = median('postgres', 'sync', 100);
  const findings: string[] = [
    `Target: at least ${fmt(TARGET_BATCH100_PER_S)} memories/s, sync, at batch 100 on PostgreSQL: ` +
      `${batch100 >= TARGET_BATCH100_PER_S ? 'met' : 'missed'}, ${fmt(batch100)} memories/s (${context.server.label}). ` +
      `PGlite at batch 100: ${fmt(median('pglite', 'sync', 100))} memories/s sync, ${fmt(median('pglite', 'async', 100))} async (no target).`,
  ];
  for (const backend of ['postgres', 'pglite'] as const) {
    for (const mode of MODES) {
      findings.push(
        `${backend}, ${mode}: batches of 100 retain ${ratio(median(backend, mode, 100), median(backend, mode, 1))} as many memories/s ` +
          `as single-item requests (${fmt(median(backend, mode, 100))} against ${fmt(median(backend, mode, 1))}); batches of 10 ` +
          `${ratio(median(backend, mode, 10), median(backend, mode, 1))}.`,
      );
    }
    findings.push(
      `${backend}: async throughput relative to sync, batch 1/10/100: ` +
        BATCH_SIZES.map((batch) => ratio(median(backend, 'async', batch), median(backend, 'sync', batch))).join(' / ') +
        ' (the queue adds an operation row, a claim, a completion and lease heartbeats per request).',
    );
  }
  if (results['postgres-shared']) {
    findings.push(
      'postgres without an HNSW graph for banks below 10,000 memories against the same server with one graph for all banks, ' +
        `sync, batch 1/10/100: ` +
        BATCH_SIZES.map((batch) => ratio(median('postgres', 'sync', batch), median('postgres-shared', 'sync', batch))).join(' / ') +
        `; async: ` +
        BATCH_SIZES.map((batch) => ratio(median('postgres', 'async', batch), median('postgres-shared', 'async', batch))).join(' / ') +
        ` (${fmt(median('postgres', 'sync', 100))} against ${fmt(median('postgres-shared', 'sync', 100))} memories/s sync at batch 100): ` +
        "extending the graph was most of a retained memory's cost, for rows that recall scans exactly.",
    );
  }
  findings.push(
    `On PostgreSQL a memory costs ${fmt(1000 / batch100)} ms at batch 100. A request writes its facts, entities and links with ` +
      'one multi-row statement each, about a dozen statements whatever its size, so a batch pays the round trips once; what is ' +
      "left per memory is extraction and embedding in Node and the rows' index and foreign-key work in the database. PGlite " +
      'also extends the HNSW graph one row at a time, in WebAssembly.',
  );
  findings.push(
    `PGlite against PostgreSQL, sync, batch 1/10/100: ` +
      BATCH_SIZES.map((batch) => ratio(median('pglite', 'sync', batch), median('postgres', 'sync', batch))).join(' / ') +
      '.',
  );

  const figures: Record<string, number> = {};
  const figurePrefix: Record<BackendName, string> = { postgres: '', 'postgres-shared': 'shared_index_', pglite: 'pglite_' };
  for (const backend of measured) {
    for (const cell of results[backend]!) {
      figures[`${figurePrefix[backend]}${cell.mode}_batch${cell.batch}_per_s`] = rates(cell).median;
    }
  }

  const perRun = results
    .postgres!.map((cell) => `${cell.requests * cell.batch} at batch ${cell.batch}`)
    .slice(0, BATCH_SIZES.length)
    .join(', ');
  const workload = [
    '`RetainService.retain` called in process (what `POST /v1/default/banks/{bank}/memories` calls), hashing embedder (dimension ' +
      '384), no LLM: one fact per sentence, entities by the proper-noun heuristic, no reranker, no webhooks registered.',
    `Content: one-sentence memories from seed ${CONTENT_SEED} (\`bench/seed/synthetic-memories.ts\`), each naming one or two people and ` +
      `often a place, with an event timestamp; each item is one memory. Memories per run: ${perRun}. Each (mode, batch size) cell ` +
      'writes to a bank of its own and starts with one uncounted warm-up run, after which the database is analysed, as autovacuum ' +
      "or PGlite's watchdog would within a minute of a new database's first writes (without statistics, the plans each pooled " +
      'connection made for empty tables stay, and read `memory_units` sequentially for every entity link); ' +
      `then ${runs.postgres} runs on PostgreSQL and ` +
      `${runs.pglite} on PGlite (fewer: it is two to four times slower, and this benchmark keeps to its share of the run).`,
    `Sync: ${concurrency} concurrent callers (the async worker's default concurrency) sending their requests back to back; a run lasts ` +
      `until the last response. Async: the run's requests are enqueued one after another (\`async: true\`) and the run lasts until the ` +
      `operations worker (${concurrency} loops, the default) has completed the last of them, watched through the in-process ` +
      '`memory_retained_memories_total` counter, which is incremented after the write commits.',
    results['postgres-shared']
      ? 'On PostgreSQL with pgvector every cell runs twice, on a database of its own each time: with the defaults, where the ' +
        'banks of 10,000 memories or more get HNSW indexes of their own and no index holds the smaller ones (which recall scans ' +
        'exactly), and with the bank indexes off (`bankVectorIndexes.minMemories: null`), where one HNSW index holds every ' +
        "bank's memories, as every database did before."
      : '',
    'Median and p95 are over runs: the p95 column is the 95th percentile of run time expressed as memories/s, the rate of the slow runs.',
  ]
    .filter(Boolean)
    .join('\n\n');

  return { workload, tables, findings, figures };
}
