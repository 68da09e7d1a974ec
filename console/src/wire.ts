/** The v1 answers the data pages read, as the server sends them (snake_case, ISO dates). */

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface BankSummary {
  bank_id: string;
  name: string | null;
  mission?: string | null;
  created_at: string | null;
  updated_at: string | null;
  fact_count?: number;
  last_write_at?: string | null;
}

export interface BankStats {
  bank_id: string;
  total_nodes: number;
  total_documents: number;
  total_observations?: number;
  nodes_by_fact_type: Record<string, number>;
  pending_operations: number;
  failed_operations: number;
  pending_consolidation?: number;
  failed_consolidation?: number;
  last_consolidated_at?: string | null;
  last_memory_write_at?: string | null;
}

export const MEMORY_TYPES = ['world', 'experience', 'observation'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** A row of `memories/list`: `fact_type` and entities as one comma-separated string there. */
export interface MemoryListItem {
  id: string;
  text: string;
  context: string;
  date: string | null;
  fact_type: MemoryType;
  document_id: string | null;
  chunk_id: string | null;
  mentioned_at: string | null;
  entities: string;
  proof_count?: number;
  tags: string[];
  state: 'valid' | 'invalidated';
  edited_at: string | null;
  updated_at: string | null;
  source_memory_ids: string[];
}

/** `GET memories/{id}`: the same memory with `type` and an entity list. */
export interface MemoryDetail {
  id: string;
  text: string;
  context: string;
  date: string | null;
  type: MemoryType;
  mentioned_at: string | null;
  occurred_start: string | null;
  occurred_end: string | null;
  entities: string[];
  document_id: string | null;
  chunk_id: string | null;
  tags: string[];
  metadata: Record<string, string>;
  state: 'valid' | 'invalidated';
  invalidation_reason: string | null;
  invalidated_at: string | null;
  edited_at: string | null;
  superseded_by: string | null;
  superseded_at: string | null;
  source_memory_ids?: string[];
}

export interface ObservationSourceFact {
  id: string;
  text: string | null;
  type: string | null;
  context: string | null;
  is_new: boolean;
}

export interface ObservationChange {
  previous_text: string;
  previous_tags: string[];
  previous_occurred_start: string | null;
  previous_occurred_end: string | null;
  previous_mentioned_at: string | null;
  changed_at: string;
  new_source_memory_ids: string[];
  source_facts: ObservationSourceFact[];
}

export interface Chunk {
  chunk_id: string;
  document_id: string;
  chunk_index: number;
  chunk_text: string;
}

export interface DocumentSummary {
  id: string;
  created_at: string | null;
  updated_at: string | null;
  text_length: number;
  memory_unit_count: number;
  tags: string[];
}

export interface DocumentDetail {
  id: string;
  original_text: string | null;
  created_at: string | null;
  updated_at: string | null;
  memory_unit_count: number;
  tags: string[];
  document_metadata: Record<string, string> | null;
}

export interface EntitySummary {
  id: string;
  canonical_name: string;
  mention_count: number;
  first_seen: string | null;
  last_seen: string | null;
}

export interface EntityDetail extends EntitySummary {
  metadata: Record<string, unknown>;
  observations: { text: string; mentioned_at: string | null }[];
}

export interface MentalModel {
  id: string;
  name: string;
  source_query?: string | null;
  content?: string | null;
  tags: string[];
  last_refreshed_at?: string | null;
  created_at?: string | null;
}
