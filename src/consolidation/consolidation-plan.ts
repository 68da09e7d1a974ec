import { Logger } from '@nestjs/common';
import { z } from 'zod';
import type { LlmClient } from '../external/llm-client.js';
import type { ClaimedMemory, ObservationPlan } from './consolidation.types.js';
import { cosine } from './vectors.js';

/** A live observation near the batch, with the texts of its sources (for rebuilding its text). */
export interface CandidateObservation {
  id: string;
  text: string;
  embedding: number[];
  sources: Array<{ id: string; text: string; at: number }>;
}

/** What to do with one batch. Every id in it was checked against the batch or the candidates. */
export interface BatchPlan {
  plans: ObservationPlan[];
  /** Memories that stand alone: marked done without an observation. */
  standalone: string[];
  /** Observations to invalidate (LLM only). */
  deletes: string[];
  /** Memories whose part of the answer was unusable: retried later, with an attempt counted. */
  rejected: string[];
  /** Actions dropped because nothing in them could be trusted. */
  skipped: number;
}

/**
 * The text of a deterministic observation: its sources' texts, oldest first, each once.
 * Deterministic so that a rerun after a crash writes the same text.
 */
export function observationText(sources: Array<{ id: string; text: string; at: number }>): string {
  const ordered = [...sources].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const { text } of ordered) {
    const normalised = text.trim().replace(/\s+/g, ' ');
    if (!normalised || seen.has(normalised.toLowerCase())) continue;
    seen.add(normalised.toLowerCase());
    parts.push(normalised);
  }
  return parts.join(' ');
}

function timeOf(memory: ClaimedMemory): number {
  return memory.mentionedAt.getTime();
}

/**
 * Consolidation without an LLM: a memory close enough to a live observation is folded into it;
 * the rest are clustered (single linkage) by cosine similarity or a shared entity, and each
 * cluster of two or more becomes an observation. A memory alone is done without one.
 */
export function planBySimilarity(
  batch: ClaimedMemory[],
  candidates: CandidateObservation[],
  entitiesOf: Map<string, Set<string>>,
  threshold: number,
): BatchPlan {
  const byId = new Map(batch.map((memory) => [memory.id, memory]));
  const folds = new Map<string, string[]>();
  const unmatched: ClaimedMemory[] = [];
  for (const memory of batch) {
    let best: { id: string; similarity: number } | undefined;
    for (const candidate of candidates) {
      const similarity = cosine(memory.embedding, candidate.embedding);
      if (similarity >= threshold && (!best || similarity > best.similarity)) best = { id: candidate.id, similarity };
    }
    if (best) folds.set(best.id, [...(folds.get(best.id) ?? []), memory.id]);
    else unmatched.push(memory);
  }

  const plans: ObservationPlan[] = [];
  for (const [observationId, sourceIds] of folds) {
    const candidate = candidates.find((each) => each.id === observationId)!;
    plans.push({
      kind: 'update',
      observationId,
      sourceIds,
      text: (live) => observationText([...candidate.sources, ...live.map((id) => sourceOf(byId.get(id)!))]),
    });
  }

  const parent = unmatched.map((_, index) => index);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  for (let i = 0; i < unmatched.length; i += 1) {
    for (let j = i + 1; j < unmatched.length; j += 1) {
      if (related(unmatched[i], unmatched[j], entitiesOf, threshold)) parent[root(i)] = root(j);
    }
  }
  const clusters = new Map<number, ClaimedMemory[]>();
  unmatched.forEach((memory, index) => clusters.set(root(index), [...(clusters.get(root(index)) ?? []), memory]));
  const standalone: string[] = [];
  for (const members of clusters.values()) {
    if (members.length < 2) {
      standalone.push(members[0].id);
      continue;
    }
    plans.push({
      kind: 'create',
      sourceIds: members.map((memory) => memory.id),
      text: (live) => observationText(live.map((id) => sourceOf(byId.get(id)!))),
    });
  }
  return { plans, standalone, deletes: [], rejected: [], skipped: 0 };
}

function sourceOf(memory: ClaimedMemory): { id: string; text: string; at: number } {
  return { id: memory.id, text: memory.text, at: timeOf(memory) };
}

function related(a: ClaimedMemory, b: ClaimedMemory, entitiesOf: Map<string, Set<string>>, threshold: number): boolean {
  if (cosine(a.embedding, b.embedding) >= threshold) return true;
  const left = entitiesOf.get(a.id);
  const right = entitiesOf.get(b.id);
  if (!left || !right) return false;
  for (const entity of left) if (right.has(entity)) return true;
  return false;
}

export const consolidationReplySchema = z.object({
  create: z.array(z.object({ text: z.string(), source_ids: z.array(z.string()) })).default([]),
  update: z.array(z.object({ observation_id: z.string(), text: z.string(), source_ids: z.array(z.string()) })).default([]),
  delete: z.array(z.object({ observation_id: z.string() })).default([]),
});

export type ConsolidationReply = z.output<typeof consolidationReplySchema>;

const SYSTEM_PROMPT = [
  'You consolidate the raw memories of an AI agent into durable observations.',
  'You get new memories (id, text, time) and existing observations (id, text).',
  'Answer with one JSON object {"create":[{"text","source_ids"}],"update":[{"observation_id","text","source_ids"}],"delete":[{"observation_id"}]}.',
  'create: a new observation supported by two or more related memories. update: fold memories into an existing',
  'observation, giving its full new text. delete: an existing observation the new memories prove wrong.',
  'Only use ids given to you. Leave out memories that stand alone.',
].join(' ');

const logger = new Logger('ConsolidationPlan');

/** The LLM's proposal for the batch. Throws `LlmOutputError` when the reply is unusable. */
export async function askLlm(
  llm: LlmClient,
  batch: ClaimedMemory[],
  candidates: CandidateObservation[],
  signal?: AbortSignal,
): Promise<ConsolidationReply> {
  const user = JSON.stringify({
    memories: batch.map((memory) => ({ id: memory.id, text: memory.text, time: memory.mentionedAt.toISOString() })),
    observations: candidates.map((candidate) => ({ id: candidate.id, text: candidate.text })),
  });
  return llm.completeJson({ operation: 'consolidate', system: SYSTEM_PROMPT, user, schema: consolidationReplySchema }, signal);
}

/**
 * Never trusts an id from the LLM: a source must be in the batch (and is used once), an
 * observation must be one of the candidates it was shown. An action with empty text is never
 * written; its memories are retried later.
 */
export function planFromReply(bankId: string, batch: ClaimedMemory[], candidates: CandidateObservation[], reply: ConsolidationReply): BatchPlan {
  const batchIds = new Set(batch.map((memory) => memory.id));
  const candidateIds = new Set(candidates.map((candidate) => candidate.id));
  const used = new Set<string>();
  const rejected = new Set<string>();
  const plans: ObservationPlan[] = [];
  let skipped = 0;

  const validSources = (ids: string[], where: string): string[] => {
    const valid: string[] = [];
    for (const id of ids) {
      if (!batchIds.has(id)) logger.warn(`Bank '${bankId}': LLM named unknown memory '${id}' in ${where}; ignored`);
      else if (used.has(id)) logger.warn(`Bank '${bankId}': LLM used memory ${id} twice (${where}); first use kept`);
      else valid.push(id);
    }
    return valid;
  };
  const reject = (ids: string[], reason: string) => {
    skipped += 1;
    logger.warn(`Bank '${bankId}': LLM action skipped: ${reason}`);
    for (const id of ids) if (batchIds.has(id) && !used.has(id)) rejected.add(id);
  };

  const deletes: string[] = [];
  for (const { observation_id } of reply.delete) {
    if (candidateIds.has(observation_id)) deletes.push(observation_id);
    else reject([], `delete of unknown observation '${observation_id}'`);
  }
  for (const action of reply.update) {
    if (!candidateIds.has(action.observation_id) || deletes.includes(action.observation_id)) {
      reject(action.source_ids, `update of unknown observation '${action.observation_id}'`);
      continue;
    }
    if (!action.text.trim()) {
      reject(action.source_ids, `empty text for observation ${action.observation_id}`);
      continue;
    }
    const sources = validSources(action.source_ids, `update of ${action.observation_id}`);
    if (sources.length === 0) {
      reject([], `update of ${action.observation_id} names no memory of the batch`);
      continue;
    }
    sources.forEach((id) => used.add(id));
    plans.push({ kind: 'update', observationId: action.observation_id, sourceIds: sources, text: action.text.trim() });
  }
  for (const action of reply.create) {
    if (!action.text.trim()) {
      reject(action.source_ids, 'empty text for a new observation');
      continue;
    }
    const sources = validSources(action.source_ids, 'create');
    if (sources.length === 0) {
      reject([], 'create names no memory of the batch');
      continue;
    }
    sources.forEach((id) => used.add(id));
    plans.push({ kind: 'create', sourceIds: sources, text: action.text.trim() });
  }
  const rejectedIds = [...rejected].filter((id) => !used.has(id));
  const standalone = batch.map((memory) => memory.id).filter((id) => !used.has(id) && !rejected.has(id));
  return { plans, standalone, deletes, rejected: rejectedIds, skipped };
}
