import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { EntityObservationDto } from '../entity.dto.js';
import { TokenUsageResponse } from '../reflect.dto.js';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;
const FACT_TYPES = ['world', 'experience', 'observation'];
const MEMORY_STATES = ['valid', 'invalidated'];

/** Hindsight's `RetainResponse`: `operation_id` when async, `usage` when not. */
export class RetainResponse {
  @ApiProperty({ type: Boolean })
  success!: boolean;

  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: 'integer' })
  items_count!: number;

  @ApiProperty({ type: Boolean })
  async!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'The operation to poll; only when async' })
  operation_id?: string | null;

  @ApiPropertyOptional({ type: TokenUsageResponse, nullable: true, description: 'LLM tokens of the extraction; only when synchronous' })
  usage?: TokenUsageResponse | null;
}

/** Hindsight's `RecallScores`: the stages a result went through; absent stages are left out. */
export class RecallScoresResponse {
  @ApiProperty({ type: Number })
  final!: number;

  @ApiPropertyOptional({ type: Number, nullable: true })
  reranker?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true })
  semantic?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true })
  keyword?: number | null;
}

/** Hindsight's `RecallResult`; null fields are left out. Source facts carry no scores. */
export class RecallResultResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  text!: string;

  @ApiPropertyOptional({ enum: FACT_TYPES, nullable: true })
  type?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true })
  entities?: string[] | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  context?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  occurred_start?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  occurred_end?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  mentioned_at?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  document_id?: string | null;

  @ApiPropertyOptional({ ...STRING_MAP, nullable: true })
  metadata?: Record<string, string> | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  chunk_id?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true })
  tags?: string[] | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'For an observation: the memories it was built from' })
  source_fact_ids?: string[] | null;

  @ApiPropertyOptional({ type: RecallScoresResponse, nullable: true })
  scores?: RecallScoresResponse | null;
}

/** Hindsight's `EntityStateResponse`. */
export class EntityStateResponse {
  @ApiProperty({ type: String })
  entity_id!: string;

  @ApiProperty({ type: String })
  canonical_name!: string;

  @ApiProperty({ type: [EntityObservationDto] })
  observations!: EntityObservationDto[];
}

/** Hindsight's `ChunkData`. */
export class ChunkDataResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  text!: string;

  @ApiProperty({ type: 'integer' })
  chunk_index!: number;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Cut to the token budget' })
  truncated?: boolean;
}

/** Hindsight's `RecallResponse`; `entities`, `chunks` and `source_facts` only when asked for. */
@ApiExtraModels(EntityStateResponse, ChunkDataResponse)
export class RecallResponse {
  @ApiProperty({ type: [RecallResultResponse] })
  results!: RecallResultResponse[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description: 'Only with trace: true' })
  trace?: Record<string, unknown> | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(EntityStateResponse) },
    nullable: true,
    description: 'By entity name',
  })
  entities?: Record<string, EntityStateResponse> | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(ChunkDataResponse) },
    nullable: true,
    description: 'By chunk id',
  })
  chunks?: Record<string, ChunkDataResponse> | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(RecallResultResponse) },
    nullable: true,
    description: 'The memories observations were built from, by id',
  })
  source_facts?: Record<string, RecallResultResponse> | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true, description: 'Whether source_facts was cut to its token budget' })
  source_facts_truncated?: boolean | null;
}

/** An item of `list_memories`: Hindsight types it as a free dictionary; this is what it holds. */
export class MemoryListItemResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  text!: string;

  @ApiProperty({ type: String, description: 'Empty when none' })
  context!: string;

  @ApiProperty({ type: String, description: 'When it happened, else when it was said (ISO 8601); empty when unknown' })
  date!: string;

  @ApiProperty({ enum: FACT_TYPES })
  fact_type!: string;

  @ApiProperty({ type: String, nullable: true })
  document_id!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  mentioned_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  occurred_start!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  occurred_end!: string | null;

  @ApiProperty({ type: String, description: 'Entity names, comma-separated' })
  entities!: string;

  @ApiProperty({ type: String, nullable: true })
  chunk_id!: string | null;

  @ApiProperty({ type: 'integer' })
  proof_count!: number;

  @ApiProperty({ type: [String] })
  tags!: string[];

  @ApiProperty({ ...STRING_MAP })
  metadata!: Record<string, string>;

  @ApiProperty({ type: String, nullable: true, description: 'Always null: not tracked per memory here' })
  consolidated_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Always null: not tracked per memory here' })
  consolidation_failed_at!: string | null;

  @ApiProperty({ enum: MEMORY_STATES })
  state!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Always null in the list; GET the memory for it' })
  invalidation_reason!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Always null in the list; GET the memory for it' })
  invalidated_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Always null in the list; GET the memory for it' })
  edited_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: string | null;

  @ApiProperty({ type: [String], description: 'For an observation: the memories it was built from' })
  source_memory_ids!: string[];
}

/** Hindsight's `ListMemoryUnitsResponse`. */
export class ListMemoryUnitsResponse {
  @ApiProperty({ type: [MemoryListItemResponse] })
  items!: MemoryListItemResponse[];

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;
}

/** `get_memory` and `update_memory`: Hindsight documents no schema; this is what both answer. */
export class MemoryResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  text!: string;

  @ApiProperty({ type: String, description: 'Empty when none' })
  context!: string;

  @ApiProperty({ type: String, description: 'When it happened, else when it was said (ISO 8601); empty when unknown' })
  date!: string;

  @ApiProperty({ enum: FACT_TYPES })
  type!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  mentioned_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  occurred_start!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  occurred_end!: string | null;

  @ApiProperty({ type: [String] })
  entities!: string[];

  @ApiProperty({ type: String, nullable: true })
  document_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  chunk_id!: string | null;

  @ApiProperty({ type: [String] })
  tags!: string[];

  @ApiProperty({ ...STRING_MAP })
  metadata!: Record<string, string>;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'array', items: { type: 'string' } } }],
    nullable: true,
    description: 'As retained: a mode name or explicit tag sets; null for the default',
  })
  observation_scopes!: string | string[][] | null;

  @ApiProperty({ enum: MEMORY_STATES })
  state!: string;

  @ApiProperty({ type: String, nullable: true })
  invalidation_reason!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  invalidated_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  edited_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The newer memory that replaced this one' })
  superseded_by!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  superseded_at!: string | null;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Observations only; see get_observation_history for the changes',
  })
  history?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: [String], description: 'Observations only: the memories it was built from' })
  source_memory_ids?: string[];
}
