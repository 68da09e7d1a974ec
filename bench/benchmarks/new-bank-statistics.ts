import type { INestApplicationContext } from '@nestjs/common';
import { bootQuietApp } from '../quiet-app.js';
import { timeRecallStages } from '../recall-stages.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { BankStatisticsService, type BankStatisticsReport } from '../../src/storage/bank-statistics.service.js';
import { BANK_STATISTICS_TABLES, memoriesChangedSinceAnalysis, plannedMemoriesOfBank } from '../../src/storage/bank-statistics.queries.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, summarize } from '../harness.js';
import { prepareMemories, seedBank, seedBanks, settleAfterLoad } from '../seed/bulk-seed.js';
import { syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 20250618;
const QUERY_SEED = 7;
const WARM_UP_SEED = 8;
const DIMENSION = 384;
const NEW_BANK = 'new';
/** The banks the statistics know: few enough for all to be among the statistics' common values. */
const SETTLED_BANKS = 7;
const SETTLED_MEMORIES = 10_000;
const NEW_MEMORIES = 20_000;
const QUESTIONS = 40;
const WARM_UP = 10;

/**
 * Recall in a bank the planner's statistics have not seen, before and after the check that
 * analyses for it (docs/ARCHITECTURE.md, "Statistics of a new bank"): the window between a bank's
 * bulk import and the analysis that autovacuum would run only once a tenth of the table changed.
 */
export const newBankStatistics: Benchmark = {
  id: 'new-bank-statistics',
  title: "Recall in a bank the planner's statistics have not seen",
  run: async (context) => {
    const database = await context.createDatabase('statistics');
    try {
      const newMemories = scaled(context, NEW_MEMORIES);
      // The check's line, within reach of the quick run's small bank; the round is run here alone,
      // never by the recalls timed before it (`bankStatistics.intervalMs: null`).
      const minMemories = Math.min(1_000, Math.floor(newMemories / 2));
      const app = await bootQuietApp(database.url, { bankStatistics: { intervalMs: null, minMemories } });
      try {
        return await measure(context, app, newMemories);
      } finally {
        await app.close();
      }
    } finally {
      await database.drop();
    }
  },
};

interface Phase {
  plannedMemories: number;
  fused: number[];
}

async function measure(context: BenchmarkContext, app: INestApplicationContext, newMemories: number) {
  const database = app.get(MemoryDatabase);
  const vectors = app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND);
  const settledMemories = scaled(context, SETTLED_MEMORIES);
  await seedBanks(
    database,
    vectors,
    (function* () {
      for (let bank = 0; bank < SETTLED_BANKS; bank++) {
        yield {
          bankId: `settled-${bank}`,
          memories: prepareMemories(take(syntheticMemories(CORPUS_SEED + 1 + bank), settledMemories), DIMENSION),
        };
      }
    })(),
  );
  await settleAfterLoad(database);
  // Stands in for a database so large that the new bank is less than a tenth of it, which
  // autovacuum would not analyse for: here the new bank is a large share of a small database.
  for (const table of BANK_STATISTICS_TABLES) await database.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  await seedBank(database, vectors, NEW_BANK, prepareMemories(take(syntheticMemories(CORPUS_SEED), newMemories), DIMENSION));
  // What autovacuum's vacuum does after a load, without the analysis.
  await database.query(`VACUUM ${BANK_STATISTICS_TABLES.join(', ')}`);
  context.log(`new-bank-statistics: ${SETTLED_BANKS} × ${settledMemories} settled memories, ${newMemories} new`);

  const recall = app.get(RecallService);
  const warmUp = syntheticQueries(WARM_UP_SEED, context.quick ? 3 : WARM_UP);
  const questions = syntheticQueries(QUERY_SEED, context.quick ? 10 : QUESTIONS);
  const phase = async (): Promise<Phase> => {
    await timeRecallStages(recall, NEW_BANK, warmUp, warmUp.length);
    const { fused } = await timeRecallStages(recall, NEW_BANK, questions, 0);
    return { plannedMemories: await database.withConnection((sql) => plannedMemoriesOfBank(sql, NEW_BANK)), fused };
  };
  // Nothing analyses between the two phases but the round: the quiet app has the check off.
  const before = await phase();
  context.log(`new-bank-statistics: before the check, fused p50 ${fmt(summarize(before.fused).median)} ms`);
  // The load's sessions publish their counters when they next go idle: the round reads them.
  for (let waited = 0; waited < 300; waited++) {
    if ((await database.withConnection((sql) => memoriesChangedSinceAnalysis(sql))) >= newMemories) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const checkStartedAt = performance.now();
  const round = await app.get(BankStatisticsService).check();
  const checkMs = performance.now() - checkStartedAt;
  const after = await phase();
  context.log(`new-bank-statistics: after it, fused p50 ${fmt(summarize(after.fused).median)} ms`);
  return report(
    context,
    { settledMemories, newMemories, questions: questions.length, warmUp: warmUp.length },
    before,
    after,
    round,
    checkMs,
  );
}

function report(
  context: BenchmarkContext,
  sizes: { settledMemories: number; newMemories: number; questions: number; warmUp: number },
  before: Phase,
  after: Phase,
  round: BankStatisticsReport,
  checkMs: number,
) {
  const row = (label: string, phase: Phase) => {
    const fused = summarize(phase.fused);
    return [label, phase.plannedMemories, fmt(fused.median), fmt(fused.p95), fmt(fused.max)];
  };
  const tables: ResultTable[] = [
    {
      caption: `${context.server.label}: recall in a new bank of ${sizes.newMemories.toLocaleString('en')} memories beside ${SETTLED_BANKS} analysed banks of ${sizes.settledMemories.toLocaleString('en')}`,
      columns: ['statistics', "planner's estimate of the bank (memories)", 'fused p50', 'fused p95', 'fused max'],
      rows: [row('before the check (the bank unseen)', before), row('after the check analysed', after)],
    },
  ];
  const analyzeMs = round.analyzed?.durationMs ?? 0;
  const workload = [
    `${SETTLED_BANKS} banks of ${sizes.settledMemories.toLocaleString('en')} memories each (synthetic corpus, seeds ` +
      `${CORPUS_SEED + 1} to ${CORPUS_SEED + SETTLED_BANKS}), loaded in bulk with the indexes of their own their size gets, then ` +
      '`VACUUM ANALYZE`: the statistics know every bank, each among their most common values. Autovacuum is then turned off on ' +
      `${BANK_STATISTICS_TABLES.map((table) => `\`${table}\``).join(', ')}, standing in for a database so large that a new bank ` +
      `is less than a tenth of it, and a new bank of ${sizes.newMemories.toLocaleString('en')} memories (seed ${CORPUS_SEED}) is ` +
      'loaded the same way and vacuumed, not analysed.',
    `${sizes.warmUp} questions of seed ${WARM_UP_SEED} warm up, then ${sizes.questions} questions of seed ${QUERY_SEED} are ` +
      "timed in process with the API's defaults (the whole `RecallService.recall` call); then one round of " +
      '`BankStatisticsService.check()` runs, and the same questions are timed again.',
  ].join('\n\n');
  const ratio = summarize(before.fused).median / summarize(after.fused).median;
  const findings = [
    round.analyzed
      ? `The round found the bank planned as ${plural(round.analyzed.plannedBefore)}, analysed ` +
        `${BANK_STATISTICS_TABLES.join(', ')} in ${fmt(analyzeMs)} ms (the whole round ${fmt(checkMs)} ms), and the planner then ` +
        `expected ${plural(round.analyzed.plannedAfter)}.`
      : `The round analysed nothing (${JSON.stringify(round)}): the table below measures one state twice.`,
    `Recall's p50 before the analysis was ${fmt(ratio)}× its p50 after it (${fmt(summarize(before.fused).median)} against ` +
      `${fmt(summarize(after.fused).median)} ms; p95 ${fmt(summarize(before.fused).p95)} against ${fmt(summarize(after.fused).p95)} ms).`,
  ];
  return {
    workload,
    tables,
    findings,
    figures: {
      fused_p50_unseen: summarize(before.fused).median,
      fused_p95_unseen: summarize(before.fused).p95,
      fused_p50_analysed: summarize(after.fused).median,
      fused_p95_analysed: summarize(after.fused).p95,
      check_ms: checkMs,
      analyze_ms: analyzeMs,
      planned_before: before.plannedMemories,
      planned_after: after.plannedMemories,
    },
  };
}

const plural = (memories: number) => `${memories.toLocaleString('en')} ${memories === 1 ? 'memory' : 'memories'}`;
