import type { MentalModelTrigger } from '../mental-models/mental-model.types.js';
import type { NodeKind } from './knowledge-base.queries.js';

/** Longest node id: `kf-`/`kp-` and 32 hex digits here; Hindsight's column holds 64. */
export const KNOWLEDGE_NODE_ID_MAX_LENGTH = 64;
/**
 * Longest folder or page name. With the bank id and the parent's id it is the key of a unique
 * btree index (`knowledge_nodes_page_name`), whose entries hold at most 2,704 bytes; the options
 * keep the three within `ID_KEY_MAX_UNITS` (memory.options.ts).
 */
export const KNOWLEDGE_NAME_MAX_LENGTH = 500;

/** A folder or a page of the tree; a page carries its model's query, tags and refresh time. */
export interface KnowledgeNode {
  id: string;
  kind: NodeKind;
  name: string;
  parentId: string | null;
  mentalModelId: string | null;
  managed: boolean;
  sourceQuery: string | null;
  tags: string[];
  /** A page's last refresh, a folder's last update. */
  timestamp: Date | null;
  /** Pages, in the tree only: memories of the page's scope were written since its last refresh. */
  isStale: boolean | null;
  children: KnowledgeNode[];
}

/** A page with its content, to render as markdown. */
export interface KnowledgePage {
  id: string;
  name: string;
  mentalModelId: string;
  sourceQuery: string;
  tags: string[];
  content: string | null;
  lastRefreshedAt: Date | null;
  createdAt: Date;
}

export interface CreateKnowledgePage {
  name: string;
  sourceQuery: string;
  parentId?: string | null;
  tags?: string[];
  maxTokens?: number;
  /** Replaces the page defaults whole when given, as in Hindsight. */
  trigger?: Partial<MentalModelTrigger>;
}

/** Each field applies only when present; `parentId: null` moves the node to the root. */
export interface UpdateKnowledgeNode {
  name?: string;
  parentId?: string | null;
  sourceQuery?: string;
  tags?: string[];
  maxTokens?: number;
}

export interface KnowledgeSearchHit {
  id: string;
  name: string;
  mentalModelId: string | null;
  snippet: string;
  score: number;
  updatedAt: Date | null;
}

/**
 * A page's defaults when no trigger is given (Hindsight's `KNOWLEDGE_PAGE_DEFAULT_TRIGGER`): a
 * living document built from the bank's observations, refreshed after each consolidation, never
 * reading other models. Hindsight refreshes in delta mode; refreshes here are full.
 */
export const PAGE_DEFAULT_TRIGGER: Partial<MentalModelTrigger> = {
  factTypes: ['observation'],
  refreshAfterConsolidation: true,
  excludeMentalModels: true,
};

/** Pages read as whole documents, so their budget is larger than a plain model's 2048 (Hindsight's). */
export const PAGE_DEFAULT_MAX_TOKENS = 4096;
