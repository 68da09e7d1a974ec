import type { RecallService } from '../src/recall/recall.service.js';
import type { RecallArmName } from '../src/recall/recall.types.js';
import { CORPUS_NOW } from './seed/synthetic-memories.js';

export const RECALL_ARMS: RecallArmName[] = ['semantic', 'keyword', 'entity', 'temporal'];
/** What is timed per question: each arm (from the recall trace), the rest of the call, and the whole call. */
export const RECALL_STAGES = [...RECALL_ARMS, 'rest', 'fused'] as const;
export type RecallStage = (typeof RECALL_STAGES)[number];

/**
 * Recalls each question in process with the API's defaults and a trace, and keeps, after the
 * first `warmUp`, each arm's `durationMs`, the whole call, and the rest of it (the whole minus
 * the arms' wall time, `armsMs`: the query embedding, the candidates' rows, fusion, the token
 * budget, entities). The arms may run two at a time, so their own times add up to more.
 */
export async function timeRecallStages(
  recall: RecallService,
  bankId: string,
  queries: readonly string[],
  warmUp: number,
): Promise<Record<RecallStage, number[]>> {
  const samples = Object.fromEntries(RECALL_STAGES.map((stage) => [stage, [] as number[]])) as Record<RecallStage, number[]>;
  for (const [index, query] of queries.entries()) {
    const startedAt = performance.now();
    const outcome = await recall.recall({ bankId, query, queryTimestamp: CORPUS_NOW, trace: true });
    const fusedMs = performance.now() - startedAt;
    if (index < warmUp) continue;
    for (const arm of outcome.trace!.arms) samples[arm.name].push(arm.durationMs);
    samples.rest.push(fusedMs - outcome.trace!.armsMs);
    samples.fused.push(fusedMs);
  }
  return samples;
}
