import type { INestApplicationContext } from '@nestjs/common';
import { RecallService } from '../../src/recall/recall.service.js';
import type { RecallArmName, RecallOutcome } from '../../src/recall/recall.types.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import {
  QUALITY_BANK,
  QUALITY_CATEGORIES,
  QUALITY_NOW,
  type QualityCategory,
  type QualityQuestion,
  type QualitySet,
} from './memory-quality-corpus.js';

export const QUALITY_ARMS: RecallArmName[] = ['semantic', 'keyword', 'entity', 'temporal'];
export const RECALL_AT = 5;
/** Items per retain call: a caller's batch, small enough to be one short transaction each. */
const ITEMS_PER_RETAIN = 50;

export interface CategoryFigures {
  questions: number;
  /** Mean recall@5 of what recall returned. */
  fused: number;
  /** Mean recall@5 of each arm's own ranking, read from the trace. */
  arms: Record<RecallArmName, number>;
}

export interface QuestionOutcome {
  question: QualityQuestion;
  recallAt5: number;
  top: string[];
}

export interface QualityReport {
  memories: number;
  byCategory: Record<QualityCategory, CategoryFigures>;
  /** Mean over every question, each counting once. */
  overall: CategoryFigures;
  /** Knowledge updates whose newer statement ranked above the older one (or the older was not returned). */
  currentFirst: { byRule: number; bySense: number };
  /** Results outside the asking user's tags, over all tag-scoped questions: must be 0. */
  leaks: number;
  misses: QuestionOutcome[];
}

/** Retains the set's items into the quality bank through the app's own retain path. */
export async function retainQualitySet(app: INestApplicationContext, set: QualitySet): Promise<void> {
  const retain = app.get(RetainService);
  for (let offset = 0; offset < set.items.length; offset += ITEMS_PER_RETAIN) {
    const items = set.items.slice(offset, offset + ITEMS_PER_RETAIN).map((item) => ({
      content: item.content,
      timestamp: item.timestamp,
      tags: item.tags ?? [],
    }));
    await retain.retain(QUALITY_BANK, { items });
  }
}

/** Asks every question of the set at `QUALITY_NOW` and scores what came back. */
export async function measureQuality(app: INestApplicationContext, set: QualitySet): Promise<QualityReport> {
  const rows = await app
    .get(MemoryDatabase)
    .withConnection((sql) =>
      sql.query<{ id: string; text: string }>(
        `SELECT id::text AS id, text FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'`,
        [QUALITY_BANK],
      ),
    );
  // The memory that holds the sentence: retain keeps a sentence that goes on about the person
  // the one before it names in the same memory (src/retain/fact-extraction.ts), as Mem0's hits
  // are counted (bench/benchmarks/mem0-comparison.ts).
  const idOf = (sentence: string) => {
    const ids = rows.filter((row) => row.text === sentence || row.text.includes(` ${sentence}`) || row.text.startsWith(`${sentence} `));
    // A corpus defect, not a recall miss: the sentence was split or stored differently.
    if (ids.length !== 1) throw new Error(`the quality set expects exactly one memory holding "${sentence}", found ${ids.length}`);
    return ids[0].id;
  };

  const recall = app.get(RecallService);
  const outcomes: Array<{ question: QualityQuestion; answers: string[]; outcome: RecallOutcome }> = [];
  for (const question of set.questions) {
    const outcome = await recall.recall({
      bankId: QUALITY_BANK,
      query: question.query,
      queryTimestamp: QUALITY_NOW,
      trace: true,
      ...(question.tags && { tags: question.tags, tagsMatch: 'all_strict' as const }),
    });
    outcomes.push({ question, answers: question.answers.map(idOf), outcome });
  }

  const figures = (subset: typeof outcomes): CategoryFigures => ({
    questions: subset.length,
    fused: mean(
      subset.map(({ answers, outcome }) =>
        recallAtK(
          outcome.results.map((result) => result.id),
          answers,
        ),
      ),
    ),
    arms: Object.fromEntries(
      QUALITY_ARMS.map((arm) => [
        arm,
        mean(
          subset.map(({ answers, outcome }) =>
            recallAtK(
              outcome.trace!.arms.find((trace) => trace.name === arm)!.candidates.map((candidate) => candidate.id),
              answers,
            ),
          ),
        ),
      ]),
    ) as Record<RecallArmName, number>,
  });

  const bySense = new Set(set.updatesOnlyAnLlmSees.map((update) => update.newer));
  const currentFirstShare = (subset: typeof outcomes) =>
    mean(
      subset.map(({ question, answers, outcome }) => {
        const ids = outcome.results.map((result) => result.id);
        const newer = ids.indexOf(answers[0]);
        const older = ids.indexOf(idOf(question.outdated!));
        return newer >= 0 && (older < 0 || newer < older) ? 1 : 0;
      }),
    );
  const updates = outcomes.filter(({ question }) => question.category === 'knowledge-update');

  let leaks = 0;
  for (const { question, outcome } of outcomes) {
    if (!question.tags) continue;
    const wanted = [...question.tags].sort().join(',');
    leaks += outcome.results.filter((result) => [...result.tags].sort().join(',') !== wanted).length;
  }

  const textOf = new Map(rows.map((row) => [row.id, row.text]));
  return {
    memories: rows.length,
    byCategory: Object.fromEntries(
      QUALITY_CATEGORIES.map((category) => [category, figures(outcomes.filter(({ question }) => question.category === category))]),
    ) as Record<QualityCategory, CategoryFigures>,
    overall: figures(outcomes),
    currentFirst: {
      byRule: currentFirstShare(updates.filter(({ question }) => !bySense.has(question.answers[0]))),
      bySense: currentFirstShare(updates.filter(({ question }) => bySense.has(question.answers[0]))),
    },
    leaks,
    misses: outcomes
      .map(({ question, answers, outcome }) => ({
        question,
        recallAt5: recallAtK(
          outcome.results.map((result) => result.id),
          answers,
        ),
        top: outcome.results.slice(0, RECALL_AT).map((result) => textOf.get(result.id) ?? result.text),
      }))
      .filter((outcome) => outcome.recallAt5 < 1),
  };
}

/** Share of the answers among the first five, out of as many as could fit. */
export function recallAtK(ranked: string[], answers: string[]): number {
  const top = new Set(ranked.slice(0, RECALL_AT));
  return answers.filter((id) => top.has(id)).length / Math.min(RECALL_AT, answers.length);
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The report as rounded figures, for logs and the benchmark's tables. */
export function roundedFigures(report: QualityReport): Record<string, Record<string, number>> {
  const round = (value: number) => Number(value.toFixed(3));
  const row = (figures: CategoryFigures) => ({
    fused: round(figures.fused),
    ...Object.fromEntries(QUALITY_ARMS.map((arm) => [arm, round(figures.arms[arm])])),
    questions: figures.questions,
  });
  return {
    ...Object.fromEntries(QUALITY_CATEGORIES.map((category) => [category, row(report.byCategory[category])])),
    overall: row(report.overall),
  };
}
