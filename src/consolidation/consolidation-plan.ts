import { Logger } from '@nestjs/common';
import { z } from 'zod';
import type { LlmCallContext, LlmClient } from '../external/llm-client.js';
import { type ClaimedMemory, type ObservationPlan, type ObservationVersion, factTimeOf } from './consolidation.types.js';
import { sameScope, scopeKey } from './observation-scopes.js';
import { cosine } from './vectors.js';

/** A live observation near the batch, with the texts of its sources (for rebuilding its text). */
export interface CandidateObservation {
  id: string;
  text: string;
  /** Its source ids as stored, in stored order: with `text`, the version a fold is written from. */
  storedSourceIds: string[] | null;
  /** Its tags, which are its scope (canonical order). */
  scope: string[];
  embedding: number[];
  sources: Array<{ id: string; text: string; at: number }>;
}

/**
 * A current raw memory older than a memory of the batch, of exactly the batch memory's tag set,
 * shown to the LLM so that it can say which of them the batch's memories replace.
 */
export interface OlderMemory {
  id: string;
  text: string;
  /** Its tags, equal to its scope's (canonical order). */
  tags: string[];
  /** When the fact happened, else when it was said (ms). */
  factAt: number;
  createdAt: number;
}

/**
 * The memories of a batch that still need consolidating in one scope, and the observations of
 * exactly that scope near them: nothing in a group may be combined with anything outside it.
 */
export interface ScopeGroup {
  scope: string[];
  memories: ClaimedMemory[];
  candidates: CandidateObservation[];
  /** Older memories of exactly this scope's tag set near the group's memories (LLM only). */
  older: OlderMemory[];
}

/** An older memory the LLM said a memory of the batch replaces; checked against what it was shown. */
export interface Supersession {
  olderId: string;
  newerId: string;
}

/** What to do with one batch. Every id in it was checked against the batch or the candidates. */
export interface BatchPlan {
  plans: ObservationPlan[];
  /** Observations to invalidate (LLM only). */
  deletes: string[];
  /** Memories whose part of the answer was unusable: retried later, with an attempt counted. */
  rejected: string[];
  /** Actions dropped because nothing in them could be trusted. */
  skipped: number;
  /** Older memories to mark as superseded by a memory of the batch (LLM only), each older one once. */
  supersessions: Supersession[];
}

/** The batch's memories grouped by each scope they are still pending in, in a stable order. */
export function groupByScope(batch: ClaimedMemory[]): Array<{ scope: string[]; memories: ClaimedMemory[] }> {
  const groups = new Map<string, { scope: string[]; memories: ClaimedMemory[] }>();
  for (const memory of batch) {
    for (const scope of memory.pendingScopes) {
      const key = scopeKey(scope);
      const group = groups.get(key) ?? { scope: [...scope], memories: [] };
      group.memories.push(memory);
      groups.set(key, group);
    }
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => group);
}

/** One batch memory's nearest rows (observations or older memories), nearest first, in its scope group. */
export interface NearestRows<T> {
  group: number;
  rows: T[];
}

/**
 * Shares a budget of `max` rows among the batch's memories by rank: every memory's nearest before
 * any memory's second, each row once per group. Taken in the batch's order instead, the first
 * few memories filled the budget with three rows each and the rest of a batch of twenty were
 * shown nothing: no observation to update (so a duplicate was created) and no older memory to
 * supersede. Returns the rows kept, per group.
 */
export function shareByRank<T extends { id: string }>(lists: Array<NearestRows<T>>, groups: number, max: number): Array<Map<string, T>> {
  const kept = Array.from({ length: groups }, () => new Map<string, T>());
  let taken = 0;
  const deepest = Math.max(0, ...lists.map((list) => list.rows.length));
  for (let rank = 0; rank < deepest; rank += 1) {
    for (const { group, rows } of lists) {
      const row = rows[rank];
      if (row === undefined || kept[group].has(row.id)) continue;
      if (taken >= max) return kept;
      kept[group].set(row.id, row);
      taken += 1;
    }
  }
  return kept;
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
 * Consolidation without an LLM, scope by scope: a memory close enough to a live observation of
 * the scope is folded into it; the rest are clustered (single linkage) by cosine similarity or a
 * shared entity, and each cluster of two or more becomes an observation of the scope. A memory
 * alone is done without one.
 */
export function planBySimilarity(groups: ScopeGroup[], entitiesOf: Map<string, Set<string>>, threshold: number): BatchPlan {
  const plans = groups.flatMap((group) => planScopeBySimilarity(group, entitiesOf, threshold));
  return { plans, deletes: [], rejected: [], skipped: 0, supersessions: [] };
}

function planScopeBySimilarity(
  { scope, memories: batch, candidates }: ScopeGroup,
  entitiesOf: Map<string, Set<string>>,
  threshold: number,
): ObservationPlan[] {
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
      scope,
      observationId,
      sourceIds,
      text: (live) => observationText([...candidate.sources, ...live.map((id) => sourceOf(byId.get(id)!))]),
      seen: versionOf(candidate),
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
  for (const members of clusters.values()) {
    if (members.length < 2) continue;
    plans.push({
      kind: 'create',
      scope,
      sourceIds: members.map((memory) => memory.id),
      text: (live) => observationText(live.map((id) => sourceOf(byId.get(id)!))),
    });
  }
  return plans;
}

function versionOf(candidate: CandidateObservation): ObservationVersion {
  return { text: candidate.text, sourceIds: candidate.storedSourceIds };
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
  create: z.array(z.object({ text: z.string(), source_ids: z.array(z.string()), scope: z.number().int().optional() })).default([]),
  update: z
    .array(z.object({ observation_id: z.string(), text: z.string(), source_ids: z.array(z.string()), scope: z.number().int().optional() }))
    .default([]),
  delete: z.array(z.object({ observation_id: z.string() })).default([]),
  // Defaulted so that a reply without it (an older prompt, a model that ignores it) still parses.
  supersede: z.array(z.object({ memory_id: z.string(), supersedes: z.array(z.string()).default([]) })).default([]),
});

export type ConsolidationReply = z.output<typeof consolidationReplySchema>;

const SYSTEM_PROMPT = [
  'You consolidate the raw memories of an AI agent into durable observations.',
  'Memories and observations belong to scopes (numbered, each a set of tags that keeps one user or context apart from another).',
  'You get the scopes, new memories (id, text, time, the scopes it belongs to), existing observations (id, text, scope)',
  'and older memories (id, text, time, scope) that came before the new ones. A time is when the fact happened, else when it was told.',
  'Answer with one JSON object {"create":[{"scope","text","source_ids"}],"update":[{"scope","observation_id","text","source_ids"}],',
  '"delete":[{"observation_id"}],"supersede":[{"memory_id","supersedes"}]}.',
  'create: a new observation supported by two or more related memories of one scope. update: fold memories into an existing',
  'observation of their scope, giving its full new text. delete: an existing observation the new memories prove wrong.',
  'Observations state the current state: when a new memory changes or contradicts what an observation says, update the',
  'observation so that it states what is true now and keeps the former value as history,',
  'e.g. "Evan lives in Oslo (previously Berlin)." rather than "Evan lives in Berlin and Oslo.".',
  'supersede: for a new memory (memory_id) that updates or contradicts older facts of the same subject, the ids of the older',
  'memories (or of earlier new memories) it replaces (supersedes); they are kept as history. Only when the new memory states',
  'a later value of the same fact, not when it merely adds to it. Only memories of the same scope, and never a memory itself.',
  'Older memories are for comparison only: never use them as source_ids.',
  'Never combine memories or observations of different scopes: an action names memories and an observation of its own scope only.',
  'Only use ids given to you. Leave out memories that stand alone.',
].join(' ');

const logger = new Logger('ConsolidationPlan');

/** The LLM's proposal for the batch. Throws `LlmOutputError` when the reply is unusable. */
export async function askLlm(
  llm: LlmClient,
  groups: ScopeGroup[],
  signal?: AbortSignal,
  context?: LlmCallContext,
): Promise<ConsolidationReply> {
  const scopesOfMemory = new Map<string, { memory: ClaimedMemory; scopes: number[] }>();
  groups.forEach((group, index) => {
    for (const memory of group.memories) {
      const entry = scopesOfMemory.get(memory.id) ?? { memory, scopes: [] };
      entry.scopes.push(index);
      scopesOfMemory.set(memory.id, entry);
    }
  });
  const user = JSON.stringify({
    scopes: groups.map((group, index) => ({ scope: index, tags: group.scope })),
    memories: [...scopesOfMemory.values()].map(({ memory, scopes }) => ({
      id: memory.id,
      text: memory.text,
      time: factTimeOf(memory).toISOString(),
      scopes,
    })),
    observations: groups.flatMap((group, index) =>
      group.candidates.map((candidate) => ({ id: candidate.id, text: candidate.text, scope: index })),
    ),
    older_memories: groups.flatMap((group, index) =>
      group.older.map((older) => ({ id: older.id, text: older.text, time: new Date(older.factAt).toISOString(), scope: index })),
    ),
  });
  return llm.completeJson({ operation: 'consolidate', system: SYSTEM_PROMPT, user, schema: consolidationReplySchema, context }, signal);
}

/**
 * Never trusts an id from the LLM: a source must be in the batch (and is used once per scope),
 * an observation must be one of the candidates it was shown, and every memory and observation of
 * an action must belong to one scope; an action that spans scopes is refused whole, since its
 * text may already mix them. A create that names no scope is written in every scope its sources
 * share. An action with empty text is never written; its memories are retried later.
 */
export function planFromReply(bankId: string, groups: ScopeGroup[], reply: ConsolidationReply): BatchPlan {
  const pendingScopes = new Map<string, Set<number>>();
  const candidateScope = new Map<string, number>();
  const candidateById = new Map<string, CandidateObservation>();
  groups.forEach((group, index) => {
    for (const memory of group.memories) pendingScopes.set(memory.id, (pendingScopes.get(memory.id) ?? new Set()).add(index));
    for (const candidate of group.candidates) {
      candidateScope.set(candidate.id, index);
      candidateById.set(candidate.id, candidate);
    }
  });
  const used = new Set<string>();
  const usedAnywhere = new Set<string>();
  const rejected = new Set<string>();
  const plans: ObservationPlan[] = [];
  let skipped = 0;

  const inBatch = (ids: string[], where: string): string[] => {
    const known = ids.filter((id) => pendingScopes.has(id));
    for (const id of ids)
      if (!pendingScopes.has(id)) logger.warn(`Bank '${bankId}': LLM named unknown memory '${id}' in ${where}; ignored`);
    return [...new Set(known)];
  };
  const firstUses = (ids: string[], scope: number, where: string): string[] =>
    ids.filter((id) => {
      if (!used.has(`${scope}|${id}`)) return true;
      logger.warn(`Bank '${bankId}': LLM used memory ${id} twice in scope ${scope} (${where}); first use kept`);
      return false;
    });
  const reject = (ids: string[], reason: string) => {
    skipped += 1;
    logger.warn(`Bank '${bankId}': LLM action skipped: ${reason}`);
    for (const id of ids) if (pendingScopes.has(id)) rejected.add(id);
  };
  const use = (ids: string[], scope: number) => {
    for (const id of ids) {
      used.add(`${scope}|${id}`);
      usedAnywhere.add(id);
    }
  };
  const outsideScope = (ids: string[], scope: number) => ids.filter((id) => !pendingScopes.get(id)!.has(scope));

  const deletes: string[] = [];
  for (const { observation_id } of reply.delete) {
    if (candidateScope.has(observation_id)) deletes.push(observation_id);
    else reject([], `delete of unknown observation '${observation_id}'`);
  }
  for (const action of reply.update) {
    const scope = candidateScope.get(action.observation_id);
    if (scope === undefined || deletes.includes(action.observation_id)) {
      reject(action.source_ids, `update of unknown observation '${action.observation_id}'`);
      continue;
    }
    const where = `update of ${action.observation_id}`;
    const sources = inBatch(action.source_ids, where);
    if ((action.scope !== undefined && action.scope !== scope) || outsideScope(sources, scope).length > 0) {
      reject(sources, `${where} names memories of two scopes; refused`);
      continue;
    }
    if (!action.text.trim()) {
      reject(sources, `empty text for observation ${action.observation_id}`);
      continue;
    }
    const fresh = firstUses(sources, scope, where);
    if (fresh.length === 0) {
      reject([], `${where} names no memory of the batch`);
      continue;
    }
    use(fresh, scope);
    plans.push({
      kind: 'update',
      scope: groups[scope].scope,
      observationId: action.observation_id,
      sourceIds: fresh,
      text: action.text.trim(),
      seen: versionOf(candidateById.get(action.observation_id)!),
    });
  }
  for (const action of reply.create) {
    const sources = inBatch(action.source_ids, 'create');
    if (sources.length === 0) {
      reject([], 'create names no memory of the batch');
      continue;
    }
    const shared = [...pendingScopes.get(sources[0])!].filter((scope) => sources.every((id) => pendingScopes.get(id)!.has(scope)));
    const scopes = action.scope === undefined ? shared : shared.filter((scope) => scope === action.scope);
    if (scopes.length === 0) {
      reject(sources, 'create names memories of two scopes; refused');
      continue;
    }
    if (!action.text.trim()) {
      reject(sources, 'empty text for a new observation');
      continue;
    }
    for (const scope of scopes) {
      const fresh = firstUses(sources, scope, 'create');
      if (fresh.length === 0) continue;
      use(fresh, scope);
      plans.push({ kind: 'create', scope: groups[scope].scope, sourceIds: fresh, text: action.text.trim() });
    }
  }
  const supersessions = planSupersessions(bankId, groups, reply.supersede);
  skipped += supersessions.refused;
  return { plans, deletes, rejected: [...rejected].filter((id) => !usedAnywhere.has(id)), skipped, supersessions: supersessions.accepted };
}

/** Where a memory stands in the rule's order of a line: fact time, then storage time, then id. */
type LinePosition = { tags: string[]; factAt: number; createdAt: number; id: string; scopes: Set<number> };

function before(a: LinePosition, b: LinePosition): boolean {
  if (a.factAt !== b.factAt) return a.factAt < b.factAt;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.id < b.id;
}

/**
 * Never trusts a supersede entry more than the rest of the reply: the newer memory must be of the
 * batch, the older one must have been shown (an older memory, or another memory of the batch),
 * both of one scope and of the same tag set (tags are a privacy boundary: a memory never replaces
 * one of other readers), and the older one must come first in the rule's order, which also rules
 * out a cycle. A refused entry is logged and dropped alone: the rest of the batch stands. When
 * several memories are said to replace one older memory, it points at the newest of them.
 */
function planSupersessions(
  bankId: string,
  groups: ScopeGroup[],
  entries: ConsolidationReply['supersede'],
): { accepted: Supersession[]; refused: number } {
  const positions = new Map<string, LinePosition>();
  const batch = new Set<string>();
  groups.forEach((group, index) => {
    for (const memory of group.memories) {
      batch.add(memory.id);
      const factAt = factTimeOf(memory).getTime();
      const position = positions.get(memory.id) ?? {
        tags: memory.tags,
        factAt,
        createdAt: memory.createdAt.getTime(),
        id: memory.id,
        scopes: new Set(),
      };
      position.scopes.add(index);
      positions.set(memory.id, position);
    }
    for (const older of group.older) {
      if (batch.has(older.id)) continue;
      positions.set(older.id, {
        tags: older.tags,
        factAt: older.factAt,
        createdAt: older.createdAt,
        id: older.id,
        scopes: new Set([index]),
      });
    }
  });
  let refused = 0;
  const refuse = (reason: string) => {
    refused += 1;
    logger.warn(`Bank '${bankId}': LLM supersede entry refused: ${reason}`);
  };
  const successorOf = new Map<string, LinePosition>();
  for (const entry of entries) {
    const newer = batch.has(entry.memory_id) ? positions.get(entry.memory_id) : undefined;
    if (!newer) {
      refuse(`'${entry.memory_id}' is not a memory of the batch`);
      continue;
    }
    for (const olderId of new Set(entry.supersedes)) {
      const older = positions.get(olderId);
      if (!older) refuse(`memory ${newer.id} names '${olderId}', which it was not shown`);
      else if (older.id === newer.id) refuse(`memory ${newer.id} names itself`);
      else if (![...older.scopes].some((scope) => newer.scopes.has(scope)) || !sameScope(older.tags, newer.tags))
        refuse(`memory ${newer.id} and ${older.id} are of different scopes`);
      else if (!before(older, newer)) refuse(`memory ${older.id} is not older than ${newer.id}`);
      else {
        const current = successorOf.get(older.id);
        if (!current || before(current, newer)) successorOf.set(older.id, newer);
      }
    }
  }
  return { accepted: [...successorOf].map(([olderId, newer]) => ({ olderId, newerId: newer.id })), refused };
}
