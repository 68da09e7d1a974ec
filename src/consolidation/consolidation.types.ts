/** The kind of the queued operation that consolidates a bank. */
export const CONSOLIDATION_OPERATION = 'consolidation';

/** One memory of a claimed batch, as the claim returned it. */
export interface ClaimedMemory {
  id: string;
  text: string;
  tags: string[];
  embedding: number[];
  createdAt: Date;
  mentionedAt: Date;
  occurredStart: Date | null;
  occurredEnd: Date | null;
  /** The scopes this memory still has to be consolidated in (canonical tag sets); never empty. */
  pendingScopes: string[][];
}

/**
 * When a memory's fact happened, else when it was told: what "newer" means between two facts
 * (an old fact retained late is not the newer one), for supersession and for what the LLM is shown.
 */
export function factTimeOf(memory: Pick<ClaimedMemory, 'occurredStart' | 'mentionedAt'>): Date {
  return memory.occurredStart ? new Date(memory.occurredStart) : memory.mentionedAt;
}

/** A batch this instance holds: every write it makes is fenced on `leaseToken`. */
export interface ClaimedBatch {
  bankId: string;
  leaseToken: string;
  memories: ClaimedMemory[];
}

/** What a consolidation run did; the operation's result, in the wire's snake_case. */
export interface ConsolidationResult {
  /** Observations created. */
  created: number;
  /** Observations that had sources folded in (or were rewritten by the LLM). */
  updated: number;
  /** Observations invalidated on the LLM's request. */
  deleted: number;
  /** Planned writes that changed nothing: sources died, lease lost, observation gone, or a retry of a write already made. */
  skipped: number;
  /** Memories whose batch failed this run: back to pending with an attempt counted, or failed for good. */
  failed: number;
  /** Memories marked done by this run, with or without an observation. */
  memories_consolidated: number;
  /** Older memories marked as superseded by a memory of this run, on the LLM's word. */
  superseded: number;
}

export function emptyResult(): ConsolidationResult {
  return { created: 0, updated: 0, deleted: 0, skipped: 0, failed: 0, memories_consolidated: 0, superseded: 0 };
}

export function addResults(into: ConsolidationResult, from: ConsolidationResult): ConsolidationResult {
  for (const key of Object.keys(into) as Array<keyof ConsolidationResult>) into[key] += from[key];
  return into;
}

/** The answer to an on-demand request. */
export interface ConsolidationRequestOutcome {
  operationId: string;
  /** True when a consolidation of the bank was already queued and that operation is returned. */
  deduplicated: boolean;
}

/** How the text of an observation is obtained: fixed (the LLM wrote it) or rebuilt from the live sources. */
export type ObservationText = string | ((liveSourceIds: string[]) => string);

export interface CreatePlan {
  kind: 'create';
  /** The scope the observation belongs to: its tags, and the one scope all its sources share. */
  scope: string[];
  sourceIds: string[];
  text: ObservationText;
}

export interface UpdatePlan {
  kind: 'update';
  /** The observation's own scope; the sources folded in all have it. */
  scope: string[];
  observationId: string;
  sourceIds: string[];
  text: ObservationText;
  /**
   * The observation as the plan saw it. The new text was written from this version, so the fold
   * applies only while the observation still reads so: a batch running beside this one may have
   * folded its own memories in meanwhile, and this text would drop what that batch wrote.
   */
  seen: ObservationVersion;
}

/** What an observation says and what it is built from, as one read (or one write) left it. */
export interface ObservationVersion {
  text: string;
  /** As stored, in stored order (null when the column is null). */
  sourceIds: string[] | null;
}

export type ObservationPlan = CreatePlan | UpdatePlan;

/** What one guarded write did. `consumed` are the sources it marked done. */
export interface WriteOutcome {
  effect: 'created' | 'updated' | 'skipped';
  consumed: string[];
  /**
   * Planned sources that still belong to us but were not written (the observation is gone, or
   * another batch changed it after this one read it): hand them back, to be planned again.
   */
  returned: string[];
  /** After an update: the observation as this write left it, for later plans of the same batch. */
  written?: { observationId: string } & ObservationVersion;
}
