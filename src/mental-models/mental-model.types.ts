import type { FactType, TagsMatch } from '../recall/recall.types.js';
import type { TagGroup } from '../recall/tag-groups.js';
import type { ReflectFact } from '../reflect/reflect.types.js';

export interface MentalModelTrigger {
  /** Queue a refresh each time consolidation of the bank finishes (the caller of `refreshAfterConsolidation`). */
  refreshAfterConsolidation: boolean;
  /** Stored and returned; not scheduled by this server (see MentalModelsService). */
  refreshCron: string | null;
  /** Which memories the refresh recalls; every type when null. */
  factTypes: FactType[] | null;
  tagsMatch: TagsMatch | null;
  /** Replace the model's tags as the refresh's filter when set (Hindsight's trigger `tag_groups`). */
  tagGroups: TagGroup[] | null;
  /** The token budget of the memories the refresh recalls; recall's default when null. */
  recallMaxTokens: number | null;
  /**
   * Stored and echoed. Honoured as asked: a refresh never consults other mental models, so they
   * are always excluded.
   */
  excludeMentalModels: boolean;
  excludeMentalModelIds: string[] | null;
}

/** A trigger as Hindsight writes it, on the wire and in a bank template: `mode` and the flags always, the rest only when set. */
export interface MentalModelTriggerWire {
  mode: 'full';
  refresh_after_consolidation: boolean;
  exclude_mental_models: boolean;
  /** Traces are not kept: always false. */
  keep_trace: false;
  refresh_cron?: string;
  fact_types?: FactType[];
  tags_match?: TagsMatch;
  tag_groups?: TagGroup[];
  recall_max_tokens?: number;
  exclude_mental_model_ids?: string[];
}

export function mentalModelTriggerWire(trigger: MentalModelTrigger): MentalModelTriggerWire {
  const wire: MentalModelTriggerWire = {
    mode: 'full',
    refresh_after_consolidation: trigger.refreshAfterConsolidation,
    exclude_mental_models: trigger.excludeMentalModels,
    keep_trace: false,
  };
  if (trigger.refreshCron != null) wire.refresh_cron = trigger.refreshCron;
  if (trigger.factTypes != null) wire.fact_types = trigger.factTypes;
  if (trigger.tagsMatch != null) wire.tags_match = trigger.tagsMatch;
  if (trigger.tagGroups != null) wire.tag_groups = trigger.tagGroups;
  if (trigger.recallMaxTokens != null) wire.recall_max_tokens = trigger.recallMaxTokens;
  if (trigger.excludeMentalModelIds != null) wire.exclude_mental_model_ids = trigger.excludeMentalModelIds;
  return wire;
}

export interface MentalModel {
  id: string;
  bankId: string;
  name: string;
  sourceQuery: string;
  content: string | null;
  basedOn: ReflectFact[];
  tags: string[];
  maxTokens: number;
  trigger: MentalModelTrigger;
  lastRefreshedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateMentalModel {
  /** Lowercase letters, digits and hyphens; made from the name when absent. */
  id?: string | null;
  name: string;
  sourceQuery: string;
  tags?: string[];
  maxTokens?: number;
  trigger?: Partial<MentalModelTrigger>;
}

export interface UpdateMentalModel {
  name?: string;
  sourceQuery?: string;
  tags?: string[];
  maxTokens?: number;
  trigger?: Partial<MentalModelTrigger>;
}

/** One change of a model's content: a refresh that wrote it, or a clear. */
export interface MentalModelHistoryEntry {
  previousContent: string | null;
  newContent: string | null;
  reason: 'refresh' | 'clear';
  changedAt: Date;
}

export interface MentalModelFilter {
  tags?: string[];
  tagsMatch?: TagsMatch;
  limit: number;
  offset: number;
}

export const REFRESH_MENTAL_MODEL = 'refresh_mental_model';
export const MENTAL_MODEL_PLACEHOLDER = 'Generating content...';
export const MIN_MODEL_TOKENS = 256;
export const MAX_MODEL_TOKENS = 8192;
export const DEFAULT_MODEL_TOKENS = 2048;
