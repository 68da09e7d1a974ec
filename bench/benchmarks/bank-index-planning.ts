import type { INestApplicationContext } from '@nestjs/common';
import { onQuietAppOfItsOwn } from '../quiet-app.js';
import { RECALL_ARMS, timeRecallStages } from '../recall-stages.js';
import { AiClients } from '../../src/external/ai-clients.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { BANK_INDEX_KINDS, type BankIndexKind, createBankIndex } from '../../src/storage/bank-vector-indexes.queries.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { type VectorBackend, embeddingIndexing } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, summarize } from '../harness.js';
import { prepareMemories, seedBank, settleAfterLoad } from '../seed/bulk-seed.js';
import { CORPUS_NOW, syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 20250618;
const QUERY_SEED = 7;
const WARM_UP_SEED = 8;
const DIMENSION = 384;
const BANK = 'measured';
/** A small bank retained into at each step: what the other banks' indexes cost a write. */
const WRITTEN_BANK = 'written';
const RETAINS = 10;
const RETAIN_BATCH = 100;
const RETAIN_SEED = 4242;
const MEMORIES = 10_000;
/** How many other banks have indexes of their own, in the order measured. */
const OTHER_BANKS = [0, 50, 200];
const QUICK_OTHER_BANKS = [0, 10];
/** EXPLAINs per statement; the median is kept. */
const PLANNINGS = 11;
/** The kinds of index a bank of `bankVectorIndexes.minMemories` memories or more gets (full-text below half the database). */
const OWN_INDEX_KINDS = Object.keys(BANK_INDEX_KINDS) as BankIndexKind[];

/**
 * What the banks' own indexes cost every other bank's recall (issue #14, item 3). They are partial
 * indexes on `memory_units` (docs/ARCHITECTURE.md, "Recall at scale"), and PostgreSQL's planner
 * looks at every index of a table it plans a scan of, whichever bank the statement names: it opens
 * each, asks its size and tests its predicate against the statement's. So each large bank adds
 * planning time to every recall statement of every bank. Measured here in one 10,000-memory bank
 * as other banks get their own indexes: the whole recall, and the planning time of its statements.
 */
export const bankIndexPlanning: Benchmark = {
  id: 'bank-index-planning',
  title: "Recall as more banks get indexes of their own: the planner's share",
  requires: 'pgvector',
  run: (context) => onQuietAppOfItsOwn(context, 'planning', (app) => measure(context, app)),
};

interface Level {
  otherBanks: number;
  /** The planning of the statements a recall plans each time it runs them. */
  planningMs: number;
  statements: number;
  /** The recall's prepared statements whose generic plan the server keeps: planned once per connection. */
  keptPlans: number;
  fused: number[];
  /** Memories per second, one caller, requests of `RETAIN_BATCH`. */
  retained: number;
}

async function measure(context: BenchmarkContext, app: INestApplicationContext) {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
  const total = scaled(context, MEMORIES);
  await seedBank(database, vectors, BANK, prepareMemories(take(syntheticMemories(CORPUS_SEED), total), DIMENSION));
  await settleAfterLoad(database);

  // A recall service like the module's whose statements are kept, so that each can be planned
  // again; and, for the one recall that is planned again, which of its prepared statements the
  // server keeps a plan of (a generic plan, used without planning: docs/ARCHITECTURE.md, "Prepared
  // statements"), asked on the recall's own connection once its statements have run.
  const statements: Array<[string, unknown[] | undefined]> = [];
  let keptPlans: Set<string> | null = null;
  const recording = Object.create(database) as MemoryDatabase;
  recording.withConnection = (<T>(work: (sql: Sql) => Promise<T>) =>
    database.withConnection(async (sql) => {
      const record = (run: (text: string, params?: unknown[]) => Promise<unknown[]>) => (text: string, params?: unknown[]) => {
        statements.push([text, params]);
        return run(text, params);
      };
      const result = await work({ ...sql, query: record(sql.query), queryPrepared: record(sql.queryPrepared) } as Sql);
      if (keptPlans) {
        const kept = await sql.query<{ statement: string }>(`SELECT statement FROM pg_prepared_statements WHERE generic_plans > 0`);
        keptPlans = new Set(kept.map((row) => row.statement));
      }
      return result;
    })) as MemoryDatabase['withConnection'];
  const recall = new RecallService(recording, vectors, app.get(AiClients).embedder, null);

  const queries = syntheticQueries(QUERY_SEED, context.quick ? 10 : 40);
  const warmUp = syntheticQueries(WARM_UP_SEED, context.quick ? 10 : 40);
  const retain = app.get(RetainService);
  const content = syntheticMemories(RETAIN_SEED);
  const retainBatch = () => take(content, RETAIN_BATCH).map((memory) => ({ content: memory.text, timestamp: memory.timestamp }));
  await retain.retain(WRITTEN_BANK, { items: retainBatch() });
  const levels: Level[] = [];
  let indexed = 0;
  for (const otherBanks of context.quick ? QUICK_OTHER_BANKS : OTHER_BANKS) {
    // Empty banks' indexes: the planner's work for an index does not depend on what it holds.
    await database.withConnection(async (sql) => {
      for (; indexed < otherBanks; indexed++) {
        for (const kind of OWN_INDEX_KINDS)
          await createBankIndex(sql, embeddingIndexing(DIMENSION), `other-${indexed}`, { concurrently: false, kind });
      }
    });
    await timeRecallStages(recall, BANK, warmUp, warmUp.length);
    const samples = await timeRecallStages(recall, BANK, queries, 0);
    statements.length = 0;
    keptPlans = new Set();
    await recall.recall({ bankId: BANK, query: queries[0], queryTimestamp: CORPUS_NOW });
    const planned = statements.filter(([text]) => !keptPlans!.has(text));
    keptPlans = null;
    const planningMs = await planningTime(database, planned);
    const retainStartedAt = performance.now();
    for (let request = 0; request < RETAINS; request++) await retain.retain(WRITTEN_BANK, { items: retainBatch() });
    const retained = (RETAINS * RETAIN_BATCH * 1000) / (performance.now() - retainStartedAt);
    levels.push({
      otherBanks,
      planningMs,
      statements: planned.length,
      keptPlans: statements.length - planned.length,
      fused: samples.fused,
      retained,
    });
    context.log(
      `bank-index-planning: ${otherBanks} other banks indexed: planning ${fmt(planningMs)} ms, fused p50 ${fmt(summarize(samples.fused).median)} ms`,
    );
  }
  return report(context, total, queries.length, warmUp.length, levels);
}

/** The planning time of each statement, the median of `PLANNINGS` EXPLAINs on one connection, summed. */
async function planningTime(database: MemoryDatabase, statements: ReadonlyArray<[string, unknown[] | undefined]>): Promise<number> {
  return database.withConnection(async (sql) => {
    let total = 0;
    for (const [text, params] of statements) {
      const times: number[] = [];
      for (let run = 0; run < PLANNINGS; run++) {
        const plan = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN (SUMMARY) ${text}`, params);
        times.push(Number(/Planning Time: ([\d.]+) ms/.exec(plan.at(-1)!['QUERY PLAN'])![1]));
      }
      total += summarize(times).median;
    }
    return total;
  });
}

function report(context: BenchmarkContext, memories: number, measured: number, warmUp: number, levels: Level[]) {
  const [first] = levels;
  const last = levels.at(-1)!;
  const perBank = (last.planningMs - first.planningMs) / (last.otherBanks - first.otherBanks);
  const fusedP50 = (level: Level) => summarize(level.fused).median;
  const tables: ResultTable[] = [
    {
      caption: `${context.server.label}: recall in a bank of ${memories.toLocaleString('en')} memories as other banks get indexes of their own`,
      columns: [
        'other banks with their own indexes',
        'partial indexes on memory_units',
        'fused p50',
        'fused p95',
        'planning per recall',
        'statements planned each time',
        'statements planned once',
        'retain (memories/s)',
      ],
      rows: levels.map((level) => {
        const fused = summarize(level.fused);
        return [
          level.otherBanks,
          level.otherBanks * OWN_INDEX_KINDS.length,
          fmt(fused.median),
          fmt(fused.p95),
          fmt(level.planningMs),
          level.statements,
          level.keptPlans,
          fmt(level.retained),
        ];
      }),
    },
  ];
  const workload = [
    `One bank of ${memories.toLocaleString('en')} memories from the synthetic corpus of seed ${CORPUS_SEED} (as "Recall latency" ` +
      'loads it, with the HNSW index of its own its size gets), the only bank with memories. Then other banks get the indexes a ' +
      `bank of \`bankVectorIndexes.minMemories\` memories or more gets (an HNSW and a full-text index, each partial on its ` +
      `\`bank_id\`, built by the maintenance round's own statement): ${levels.map((level) => level.otherBanks).join(', ')} banks. ` +
      'Those banks are empty: what the planner does for an index does not depend on what it holds.',
    `At each step, ${warmUp} questions of seed ${WARM_UP_SEED} warm up, then ${measured} questions of seed ${QUERY_SEED} are ` +
      "timed in process with the API's defaults (the whole `RecallService.recall` call); then one recall's statements are planned " +
      `again, each ${PLANNINGS} times with \`EXPLAIN (SUMMARY)\` on one connection, and the medians summed: the planning time ` +
      'of one recall. A prepared statement whose generic plan the server keeps on the connection (`pg_prepared_statements`, ' +
      'asked after that recall on its connection) is planned once per connection, not per recall, and is counted apart. ' +
      `Last, ${RETAINS} sync retains of ${RETAIN_BATCH} memories (seed ${RETAIN_SEED}), one after another, into ` +
      'a small bank of their own: every insert into `memory_units` opens every index of the table and tests each partial ' +
      "index's predicate on each row.",
  ].join('\n\n');
  const findings = [
    `Each bank with indexes of its own added ${fmt(perBank * 1000)} µs of planning to every recall in every other bank ` +
      `(${fmt(first.planningMs)} ms with none, ${fmt(last.planningMs)} ms with ${last.otherBanks}); ` +
      `the recall's p50 went from ${fmt(fusedP50(first))} to ${fmt(fusedP50(last))} ms, and retain from ${fmt(first.retained)} to ` +
      `${fmt(last.retained)} memories/s (one caller, batches of ${RETAIN_BATCH}).`,
    `The arms (${RECALL_ARMS.join(', ')}) and the candidates' rows each plan a scan of \`memory_units\`, some more than one, and ` +
      "each scan planned looks at every index of the table; the candidates' statement, prepared, is planned once per connection.",
  ];
  return {
    workload,
    tables,
    findings,
    figures: {
      planning_ms_none: first.planningMs,
      planning_ms_most: last.planningMs,
      planning_us_per_bank: perBank * 1000,
      fused_p50_none: fusedP50(first),
      fused_p50_most: fusedP50(last),
      retained_per_s_none: first.retained,
      retained_per_s_most: last.retained,
    },
  };
}
