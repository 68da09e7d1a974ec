import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import type { MemoryModuleOptions } from '../../src/memory.options.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../../test/helpers/fake-openai-server.js';
import { bootStartedMemory } from '../../test/helpers/memory-app.js';
import { seededRandom } from '../../test/helpers/seeded-random.js';
import { seedRawMemories } from '../seed/raw-memories.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled } from '../harness.js';

/** LLM calls each instance's consolidation makes at once (`consolidation.concurrency`): C in the bound C / LLM latency. */
const CONCURRENCY = 4;
const BATCH_SIZE = 10;
/** The fake LLM makes one observation of every this many memories of a batch. */
const MEMORIES_PER_OBSERVATION = 5;
const SEED = 11;
/**
 * Small vectors: without pgvector (the embedded server) every nearest-neighbour read of a batch is
 * an exact scan computing a distance per row in SQL, and this measures the LLM's concurrency, not
 * that scan.
 */
const EMBEDDING_DIMENSION = 64;
const TARGET_RATIO = 0.8;
/** A run that has not finished by then has a stuck batch, not a slow one. */
const DEADLINE_MS = 120_000;

const PEOPLE = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elin', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena'];
const ACTIVITIES = ['bakes rye bread', 'repairs bicycles', 'plays the cello', 'grows tomatoes', 'keeps bees', 'sails on the lake'];
const WHEN = ['on Sundays', 'every morning', 'after work', 'in the winter', 'with friends', 'since 2019'];

/**
 * A slow LLM with a fixed latency, counting the calls it holds at once: the time-weighted mean of
 * that count is how many of the C slots the run kept busy.
 */
class SlowLlm {
  private inFlight = 0;
  private maxInFlight = 0;
  private busySince = 0;
  /** Integral of the in-flight count over time (call-milliseconds). */
  private callMs = 0;
  calls = 0;

  constructor(private readonly latencyMs: number) {}

  readonly handler = async (body: ChatRequestBody): Promise<object> => {
    const prompt = JSON.parse(String(body.messages.at(-1)!.content)) as { memories: Array<{ id: string; text: string }> };
    this.change(+1);
    this.calls += 1;
    try {
      await sleep(this.latencyMs);
    } finally {
      this.change(-1);
    }
    const create = [];
    for (let index = 0; index < prompt.memories.length; index += MEMORIES_PER_OBSERVATION) {
      const sources = prompt.memories.slice(index, index + MEMORIES_PER_OBSERVATION);
      create.push({ text: `Observed together: ${sources.map((memory) => memory.text).join(' ')}`, source_ids: sources.map((m) => m.id) });
    }
    return { create };
  };

  reset(): void {
    this.maxInFlight = this.inFlight;
    this.callMs = 0;
    this.calls = 0;
    this.busySince = performance.now();
  }

  /** Max and time-weighted mean of the calls in flight since `reset()`, over `elapsedMs`. */
  inFlightOver(elapsedMs: number): { max: number; mean: number } {
    this.change(0);
    return { max: this.maxInFlight, mean: this.callMs / elapsedMs };
  }

  private change(delta: number): void {
    const now = performance.now();
    this.callMs += this.inFlight * (now - this.busySince);
    this.busySince = now;
    this.inFlight += delta;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }
}

interface Scenario {
  key: string;
  name: string;
  /** Instances that run batches of the bank: the bound is this × C / latency. */
  runners: number;
  seconds: number;
  batches: number;
  memories: number;
  maxInFlight: number;
  meanInFlight: number;
  violations: number;
}

/**
 * Batches per second on one bank against the bound C / LLM latency: with a slow LLM, a run of one
 * bank keeps its C slots busy (issue #14 item 6b).
 */
export const consolidationThroughput: Benchmark = {
  id: 'consolidation-throughput',
  title: 'Consolidation throughput on one bank against the LLM-concurrency bound',
  async run(context) {
    // Quick mode (run by every `npm test`) only checks that the figures come out: a shorter LLM
    // and fewer waves, where the fixed costs of a batch weigh more in the ratio.
    const latencyMs = context.quick ? 250 : 1000;
    const waves = context.quick ? 3 : scaled(context, 15, 6);
    const batches = waves * CONCURRENCY;
    const llm = new SlowLlm(latencyMs);
    const fake = await FakeOpenAiServer.start();
    fake.onChat(llm.handler);
    const scenarios: Scenario[] = [];
    try {
      const database = await context.createDatabase('consolidation_throughput');
      try {
        const options: MemoryModuleOptions = { databaseUrl: database.url, poolSize: 10 };
        scenarios.push(await measure(context, llm, fake, [{ ...options, instanceId: 'one' }], 'queued', batches, 'pg-one'));
        const pair = [
          { ...options, instanceId: 'a' },
          { ...options, instanceId: 'b' },
        ];
        scenarios.push(await measure(context, llm, fake, pair, 'queued', batches, 'pg-two-queued'));
        scenarios.push(await measure(context, llm, fake, pair, 'direct-on-each', batches * 2, 'pg-two-direct'));
      } finally {
        await database.drop();
      }
      const pglite = { databaseUrl: `pglite://memory/bench-consolidation-throughput-${process.pid}` };
      scenarios.push(await measure(context, llm, fake, [pglite], 'queued', batches, 'pglite-one'));
    } finally {
      await fake.close();
    }
    return report(scenarios, latencyMs, context.server.label);
  },
};

const SCENARIO_NAMES: Record<string, string> = {
  'pg-one': 'PostgreSQL, one instance, the queued operation',
  'pg-two-queued': 'PostgreSQL, two instances, the queued operation (runs on one of them)',
  'pg-two-direct': 'PostgreSQL, two instances, each running `consolidateBank` on the bank',
  'pglite-one': 'PGlite (one connection), one instance, the queued operation',
};

async function measure(
  context: BenchmarkContext,
  llm: SlowLlm,
  fake: FakeOpenAiServer,
  instances: MemoryModuleOptions[],
  mode: 'queued' | 'direct-on-each',
  batches: number,
  key: string,
): Promise<Scenario> {
  const apps: INestApplicationContext[] = [];
  try {
    for (const options of instances) {
      const booted = await bootStartedMemory({
        watchdogIntervalMs: 60_000,
        operations: { pollIntervalMs: 50 },
        embedder: { provider: 'hashing', dimension: EMBEDDING_DIMENSION },
        llm: { provider: 'openai', baseUrl: fake.baseUrl, apiKey: 'bench', maxRetries: 0, model: 'bench-llm', timeoutMs: 60_000 },
        consolidation: { cron: null, batchSize: BATCH_SIZE, concurrency: CONCURRENCY },
        ...options,
      });
      apps.push(booted.app);
    }
    const [first] = apps;
    const bankId = `bank-${key}`;
    const memories = batches * BATCH_SIZE;
    await seedRawMemories(first, bankId, memoryTexts(memories, SEED));
    // A small bank first, so that connections, statement plans and code are warm when the clock starts.
    await seedRawMemories(first, `${bankId}-warm`, memoryTexts(BATCH_SIZE * CONCURRENCY, SEED + 1));
    await first.get(ConsolidationService).consolidateBank(`${bankId}-warm`);
    const violationsBefore = apps.reduce((sum, app) => sum + app.get(ExternalCallGuard).violations, 0);

    llm.reset();
    const startedAt = performance.now();
    if (mode === 'queued') {
      const { operationId } = await first.get(ConsolidationService).requestConsolidation(bankId);
      await completed(first, bankId, operationId, startedAt);
    } else {
      await Promise.all(apps.map((app) => app.get(ConsolidationService).consolidateBank(bankId)));
    }
    const elapsedMs = performance.now() - startedAt;
    const inFlight = llm.inFlightOver(elapsedMs);
    const done = await first
      .get(MemoryDatabase)
      .query<{ count: number }>(
        `SELECT count(*)::int AS count FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation' AND consolidation_status = 'done'`,
        [bankId],
      );
    if (done[0].count !== memories) throw new Error(`${key}: ${done[0].count} of ${memories} memories consolidated`);
    const scenario: Scenario = {
      key,
      name: SCENARIO_NAMES[key],
      runners: mode === 'queued' ? 1 : apps.length,
      seconds: elapsedMs / 1000,
      batches: llm.calls,
      memories,
      maxInFlight: inFlight.max,
      meanInFlight: inFlight.mean,
      violations: apps.reduce((sum, app) => sum + app.get(ExternalCallGuard).violations, 0) - violationsBefore,
    };
    context.log(
      `consolidation-throughput: ${key}: ${scenario.batches} batches in ${fmt(scenario.seconds)} s, ` +
        `${fmt(scenario.meanInFlight)} LLM calls in flight on average (max ${scenario.maxInFlight})`,
    );
    return scenario;
  } finally {
    for (const app of apps.reverse()) await app.close();
  }
}

/** Waits for the operation; its status is read every 10 ms, a negligible load beside the run. */
async function completed(app: INestApplicationContext, bankId: string, operationId: string, startedAt: number): Promise<void> {
  const operations = app.get(OperationsService);
  for (;;) {
    const operation = await operations.get(bankId, operationId);
    if (operation?.status === 'completed') return;
    if (operation?.status === 'failed') throw new Error(`consolidation failed: ${operation.error}`);
    if (performance.now() - startedAt > DEADLINE_MS) throw new Error(`consolidation not done within ${DEADLINE_MS} ms`);
    await sleep(10);
  }
}

function memoryTexts(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  return Array.from({ length: count }, (_, index) => `${pick(PEOPLE)} ${pick(ACTIVITIES)} ${pick(WHEN)} (note ${index}).`);
}

function report(scenarios: Scenario[], latencyMs: number, server: string) {
  const boundOf = (scenario: Scenario) => (scenario.runners * CONCURRENCY * 1000) / latencyMs;
  const rateOf = (scenario: Scenario) => scenario.batches / scenario.seconds;
  const ratioOf = (scenario: Scenario) => rateOf(scenario) / boundOf(scenario);
  const table: ResultTable = {
    caption: `Batches of ${BATCH_SIZE} memories, C = ${CONCURRENCY} per instance, LLM latency ${latencyMs} ms`,
    columns: [
      'scenario',
      'batches',
      'seconds',
      'batches/s',
      'bound (runners × C / latency)',
      'ratio',
      'LLM calls in flight, mean',
      'max',
      'guard violations',
    ],
    rows: scenarios.map((scenario) => [
      scenario.name,
      scenario.batches,
      fmt(scenario.seconds),
      fmt(rateOf(scenario)),
      fmt(boundOf(scenario)),
      fmt(ratioOf(scenario)),
      fmt(scenario.meanInFlight),
      scenario.maxInFlight,
      scenario.violations,
    ]),
  };
  const workload = [
    `One bank of raw memories (texts from seed ${SEED}), inserted straight into the table with ${EMBEDDING_DIMENSION}-dimension hashing`,
    `embeddings (small, so that the exact vector scans of a server without pgvector do not stand in for the LLM), consolidated in`,
    `batches of ${BATCH_SIZE} with \`consolidation.concurrency\` ${CONCURRENCY} on each instance. A fake OpenAI-compatible LLM on`,
    `127.0.0.1 answers every call after ${latencyMs} ms, through the real \`openai\` client, with one observation per`,
    `${MEMORIES_PER_OBSERVATION} memories (so each batch also writes ${BATCH_SIZE / MEMORIES_PER_OBSERVATION} observations, embedded by the hashing embedder).`,
    'Timed from the request to the operation completed (queued) or to every run returned (direct), after a warm-up bank, so',
    'the first claims and reads and the last writes are in the time. The bound is the runs of the bank × C / LLM latency: a',
    `run keeps at most C batches at the LLM. PostgreSQL: ${server}, pool of 10 per instance; PGlite in memory.`,
  ].join('\n');
  const findings = scenarios.map(
    (scenario) =>
      `${scenario.name}: ${fmt(rateOf(scenario))} batches/s against a bound of ${fmt(boundOf(scenario))}, ratio ${fmt(ratioOf(scenario))} ` +
      `(target ≥ ${TARGET_RATIO}: ${ratioOf(scenario) >= TARGET_RATIO ? 'met' : 'missed'}); ${fmt(scenario.meanInFlight)} LLM calls in flight on average, ` +
      `at most ${scenario.maxInFlight}.`,
  );
  findings.push(
    `Before issue #14 item 6b a run claimed its next batch only when the last one was written, so one bank had one LLM call in flight ` +
      `whatever C was: at most ${fmt(1000 / latencyMs)} batches/s here, ${fmt(1 / CONCURRENCY)} of the one-instance bound.`,
    'The queue keeps one consolidation operation per bank, so the queued operation runs on one instance even in a fleet; a second ' +
      "instance adds its C slots to a bank only when it runs a consolidation of that bank too (a host's direct `consolidateBank`).",
    'PGlite runs every statement of every batch on its one connection, one after another: when the work per batch grows (a ' +
      'bigger bank, a busy machine) that connection, not the LLM slots, is what runs out first.',
  );
  const figures: Record<string, number> = {};
  for (const scenario of scenarios) {
    const key = scenario.key.replaceAll('-', '_');
    figures[`${key}_batches_per_s`] = rateOf(scenario);
    figures[`${key}_ratio`] = ratioOf(scenario);
    figures[`${key}_mean_in_flight`] = scenario.meanInFlight;
  }
  figures.guard_violations = scenarios.reduce((sum, scenario) => sum + scenario.violations, 0);
  return { workload, tables: [table], findings, figures };
}
