import { tellsHowThingsWere } from '../time/tense.js';
import type { FusedCandidate } from './reciprocal-rank-fusion.js';

/**
 * How much of its fused score a superseded memory keeps for a question about the present: enough
 * to stay in the results (it is still true that Evan lived in Berlin), not enough to outrank
 * what replaced it.
 */
export const SUPERSEDED_WEIGHT = 0.5;

/** Words that ask about how things were, not how they are. */
const ABOUT_THE_PAST =
  /\b(?:used to|previous(?:ly)?|former(?:ly)?|before|earlier|originally|at first|in the past|back then|old|prior|no longer|any ?more|did|had)\b/i;

/**
 * A question about the present: no word that points back, and no time in it that ended before it
 * was asked ("Where does Evan live lately?" and "…this year?" ask about now; "…in 2021?" does not).
 */
export function asksAboutThePresent(query: string, range: { end: Date } | null, now: Date): boolean {
  return (range === null || range.end.getTime() > now.getTime()) && !ABOUT_THE_PAST.test(query);
}

/**
 * For a question about the present, the memory that superseded a candidate takes the candidate's
 * place (joining the candidates if no arm found it: "Where does Evan live?" matches the Berlin
 * fact's words better than "Evan moved to Oslo."), and the superseded one keeps a part of its
 * score. `successorOf` maps a superseded candidate to its current successor, already checked to
 * be visible to the caller.
 */
export function preferCurrentFacts(
  fused: FusedCandidate[],
  successorOf: ReadonlyMap<string, string>,
  order: (a: FusedCandidate, b: FusedCandidate) => number,
): FusedCandidate[] {
  if (successorOf.size === 0) return fused;
  const byId = new Map(fused.map((candidate) => [candidate.id, { ...candidate }]));
  for (const candidate of fused) {
    const successorId = successorOf.get(candidate.id);
    if (!successorId) continue;
    const successor = byId.get(successorId) ?? { id: successorId, score: 0, armRanks: {}, armScores: {} };
    successor.score = Math.max(successor.score, candidate.score);
    byId.set(successorId, successor);
    byId.get(candidate.id)!.score = candidate.score * SUPERSEDED_WEIGHT;
  }
  return [...byId.values()].sort(order);
}

/**
 * For a question about the present, a memory that tells how things were ("Anna used to live in
 * Paris.") keeps the part of its score a superseded one keeps: still true, and still returned, but
 * not ahead of how things are ("Anna lives in Lisbon."), which it matched as well and, told later,
 * outranked by recency.
 */
export function setBackHowThingsWere(
  fused: FusedCandidate[],
  textOf: (id: string) => string | undefined,
  order: (a: FusedCandidate, b: FusedCandidate) => number,
): FusedCandidate[] {
  const former = (candidate: FusedCandidate) => tellsHowThingsWere(textOf(candidate.id) ?? '');
  if (!fused.some(former)) return fused;
  return fused
    .map((candidate) => (former(candidate) ? { ...candidate, score: candidate.score * SUPERSEDED_WEIGHT } : candidate))
    .sort(order);
}
