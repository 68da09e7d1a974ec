import type { ArmCandidate } from './arms/arm-candidate.js';
import type { RecallArmName } from './recall.types.js';

export interface RankedArm {
  name: RecallArmName;
  candidates: ArmCandidate[];
}

export interface FusedCandidate {
  id: string;
  score: number;
  /** Rank (from 1) in each arm that found the memory. */
  armRanks: Partial<Record<RecallArmName, number>>;
  /** The arm's own score, for the arms that found the memory. */
  armScores: Partial<Record<RecallArmName, number>>;
}

/**
 * Reciprocal rank fusion: score = Σ over arms of 1 / (k + rank), rank from 1. It needs no
 * calibration between arms whose scores live on unrelated scales (cosine, ts_rank_cd, counts).
 *
 * Equal scores are common (two memories each first in one arm); the newer memory wins, then the
 * smaller id, so that the order never depends on the order arms ran in. Candidates missing from
 * `mentionedAt` (gone since the arm saw them) are dropped.
 */
export function fuseByReciprocalRank(arms: RankedArm[], k: number, mentionedAt: ReadonlyMap<string, Date | null>): FusedCandidate[] {
  const fused = new Map<string, FusedCandidate>();
  for (const arm of arms) {
    arm.candidates.forEach((candidate, index) => {
      if (!mentionedAt.has(candidate.id)) return;
      let entry = fused.get(candidate.id);
      if (!entry) {
        entry = { id: candidate.id, score: 0, armRanks: {}, armScores: {} };
        fused.set(candidate.id, entry);
      }
      // An arm lists a memory once; should one ever repeat it, its best rank counts.
      if (entry.armRanks[arm.name] !== undefined) return;
      entry.armRanks[arm.name] = index + 1;
      entry.armScores[arm.name] = candidate.score;
      entry.score += 1 / (k + index + 1);
    });
  }
  return [...fused.values()].sort(fusedOrder(mentionedAt));
}

/** Best score first; then the newer memory, then the smaller id. */
export function fusedOrder(mentionedAt: ReadonlyMap<string, Date | null>): (a: FusedCandidate, b: FusedCandidate) => number {
  const time = (id: string) => mentionedAt.get(id)?.getTime() ?? Number.NEGATIVE_INFINITY;
  return (a, b) => b.score - a.score || time(b.id) - time(a.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
