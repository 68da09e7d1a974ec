import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  type CreateMentalModel,
  MAX_MODEL_TOKENS,
  MIN_MODEL_TOKENS,
  type MentalModel,
  type MentalModelHistoryEntry,
  type MentalModelTrigger,
  type UpdateMentalModel,
  mentalModelTriggerWire,
} from '../../mental-models/mental-model.types.js';
import type { DryRunRefresh } from '../../mental-models/mental-models.service.js';
import { unifiedDiff } from '../../mental-models/unified-diff.js';
import { FACT_TYPES, TAGS_MATCHES } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, IsNotBlank, OptionalTags, TagGroups } from './coercions.js';
import { PageQuery } from './list-query.dto.js';
import { ReflectFactResponse, TokenUsageResponse } from './reflect.dto.js';

/**
 * Hindsight's `MentalModelTrigger`. Every field is acted on or, where this server cannot do what
 * it asks, refused with a 422 naming it: a setting silently ignored would look applied.
 */
export class MentalModelTriggerDto {
  @ApiPropertyOptional({ enum: ['full'], default: 'full', description: "Only 'full': delta refreshes are not supported (422)" })
  @IsOptional()
  @IsIn(['full'], { message: "mode 'delta' is not supported by this server; only 'full' refreshes" })
  mode?: 'full' | null;

  @ApiPropertyOptional({ type: Boolean, default: false })
  @IsOptional()
  @IsBoolean()
  refresh_after_consolidation?: boolean | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Standard 5-field cron, UTC' })
  @IsOptional()
  @IsString()
  refresh_cron?: string | null;

  @ApiPropertyOptional({ enum: FACT_TYPES, isArray: true, nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'fact_types cannot be empty' })
  @IsIn(FACT_TYPES, { each: true })
  fact_types?: Array<(typeof FACT_TYPES)[number]> | null;

  @ApiPropertyOptional({ enum: TAGS_MATCHES, nullable: true })
  @IsOptional()
  @IsIn(TAGS_MATCHES)
  tags_match?: (typeof TAGS_MATCHES)[number] | null;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Refreshes never consult other mental models: always honoured' })
  @IsOptional()
  @IsBoolean()
  exclude_mental_models?: boolean | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Refreshes never consult other mental models: always honoured' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  exclude_mental_model_ids?: string[] | null;

  @TagGroups()
  tag_groups?: unknown[] | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true, description: 'Memories here carry no chunks: only false is accepted' })
  @IsOptional()
  @IsIn([false], { message: 'include_chunks is not supported by this server: memories carry no chunks' })
  include_chunks?: boolean | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, description: 'Token budget of the memories a refresh recalls' })
  @IsOptional()
  @IsInt()
  @Min(1)
  recall_max_tokens?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, description: 'Not supported: memories carry no chunks (422 unless null)' })
  @IsOptional()
  @IsIn([], { message: 'recall_chunks_max_tokens is not supported by this server: memories carry no chunks' })
  recall_chunks_max_tokens?: number | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Not supported on mental models (422 unless null)',
  })
  @IsOptional()
  @IsIn([], { message: 'response_schema is not supported on mental models by this server' })
  response_schema?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Not supported: only false is accepted' })
  @IsOptional()
  @IsIn([false], { message: 'keep_trace is not supported by this server; use POST .../dry-run-refresh to see a trace' })
  keep_trace?: boolean | null;
}

export class CreateMentalModelRequestDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Lowercase letters, digits and hyphens; made from the name when absent',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { message: 'id must be lowercase letters, digits and hyphens' })
  id?: string | null;

  @ApiProperty()
  @IsString()
  @IsNotBlank('name cannot be empty')
  name: string;

  @ApiProperty()
  @IsString()
  @IsNotBlank('source_query cannot be empty')
  @LimitedInput('query')
  source_query: string;

  @ApiPropertyOptional({ type: [String], default: [] })
  @IsOptional()
  @CoerceTags()
  @IsArray()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[] | null;

  @ApiPropertyOptional({ type: 'integer', default: 2048, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS })
  @IsOptional()
  @IsInt()
  @Min(MIN_MODEL_TOKENS)
  @Max(MAX_MODEL_TOKENS)
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: MentalModelTriggerDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => MentalModelTriggerDto)
  trigger?: MentalModelTriggerDto | null;
}

export class UpdateMentalModelRequestDto {
  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @IsNotBlank('name cannot be empty')
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @IsNotBlank('source_query cannot be empty')
  @LimitedInput('query')
  source_query?: string | null;

  @OptionalTags()
  tags?: string[] | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS })
  @IsOptional()
  @IsInt()
  @Min(MIN_MODEL_TOKENS)
  @Max(MAX_MODEL_TOKENS)
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: MentalModelTriggerDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => MentalModelTriggerDto)
  trigger?: MentalModelTriggerDto | null;
}

export class MentalModelDetailQuery {
  @ApiPropertyOptional({ enum: ['metadata', 'content', 'full'], default: 'full' })
  @IsOptional()
  @IsIn(['metadata', 'content', 'full'])
  detail?: 'metadata' | 'content' | 'full';
}

export class ListMentalModelsQuery extends PageQuery {
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @CoerceTags()
  @IsArray()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[];

  @ApiPropertyOptional({ enum: ['any', 'all', 'exact'], default: 'any' })
  @IsOptional()
  @IsIn(['any', 'all', 'exact'])
  tags_match?: 'any' | 'all' | 'exact';

  @ApiPropertyOptional({ enum: ['metadata', 'content', 'full'], default: 'full' })
  @IsOptional()
  @IsIn(['metadata', 'content', 'full'])
  detail?: 'metadata' | 'content' | 'full';
}

function toTrigger(dto: MentalModelTriggerDto | null | undefined): Partial<MentalModelTrigger> | undefined {
  if (!dto) return undefined;
  return {
    refreshAfterConsolidation: dto.refresh_after_consolidation ?? undefined,
    refreshCron: dto.refresh_cron ?? undefined,
    factTypes: dto.fact_types ?? undefined,
    tagsMatch: dto.tags_match ?? undefined,
    tagGroups: (dto.tag_groups as MentalModelTrigger['tagGroups']) ?? undefined,
    recallMaxTokens: dto.recall_max_tokens ?? undefined,
    excludeMentalModels: dto.exclude_mental_models ?? undefined,
    excludeMentalModelIds: dto.exclude_mental_model_ids ?? undefined,
  };
}

export function toCreateMentalModel(body: CreateMentalModelRequestDto): CreateMentalModel {
  return {
    id: body.id ?? null,
    name: body.name,
    sourceQuery: body.source_query,
    tags: body.tags ?? undefined,
    maxTokens: body.max_tokens ?? undefined,
    trigger: toTrigger(body.trigger),
  };
}

export function toUpdateMentalModel(body: UpdateMentalModelRequestDto): UpdateMentalModel {
  return {
    name: body.name ?? undefined,
    sourceQuery: body.source_query ?? undefined,
    tags: body.tags ?? undefined,
    maxTokens: body.max_tokens ?? undefined,
    trigger: toTrigger(body.trigger),
  };
}

/** Hindsight's `MentalModelTrigger`, as stored. */
export class MentalModelTriggerResponse {
  @ApiProperty({ enum: ['full'] })
  mode: 'full';

  @ApiProperty()
  refresh_after_consolidation: boolean;

  @ApiPropertyOptional({ type: String, nullable: true })
  refresh_cron?: string | null;

  @ApiPropertyOptional({ enum: FACT_TYPES, isArray: true, nullable: true })
  fact_types?: string[] | null;

  @ApiPropertyOptional({ enum: TAGS_MATCHES, nullable: true })
  tags_match?: string | null;

  @ApiPropertyOptional({ type: [Object], nullable: true, description: 'Compound tag filters used instead of the model’s tags' })
  tag_groups?: unknown[] | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  recall_max_tokens?: number | null;

  @ApiProperty()
  exclude_mental_models: boolean;

  @ApiPropertyOptional({ type: [String], nullable: true })
  exclude_mental_model_ids?: string[] | null;

  @ApiProperty({ default: false })
  keep_trace: boolean;

  static of(trigger: MentalModelTrigger): MentalModelTriggerResponse {
    return mentalModelTriggerWire(trigger);
  }
}

export class MentalModelReflectBasedOn {
  @ApiProperty({ type: [ReflectFactResponse] })
  memories: ReflectFactResponse[];
}

export class MentalModelReflectResponse {
  @ApiProperty()
  text: string;

  @ApiProperty({ type: MentalModelReflectBasedOn })
  based_on: MentalModelReflectBasedOn;
}

export type MentalModelDetail = 'metadata' | 'content' | 'full';

/** Hindsight's `MentalModelResponse`. */
export class MentalModelResponse {
  @ApiProperty()
  id: string;

  @ApiProperty()
  bank_id: string;

  @ApiProperty()
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  source_query?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Absent at detail=metadata and after a clear' })
  content?: string | null;

  @ApiProperty({ type: [String] })
  tags: string[];

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: MentalModelTriggerResponse, nullable: true })
  trigger?: MentalModelTriggerResponse | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  last_refreshed_at?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  created_at?: string | null;

  @ApiPropertyOptional({ type: MentalModelReflectResponse, nullable: true, description: 'Only at detail=full' })
  reflect_response?: MentalModelReflectResponse | null;

  @ApiPropertyOptional({
    type: Boolean,
    nullable: true,
    description: 'Memories of the model’s scope written since its last refresh; only on the single read at detail=full',
  })
  is_stale?: boolean | null;

  /** `metadata` leaves the content out; `full` adds what the content was built from. */
  static of(model: MentalModel, detail: MentalModelDetail = 'full', isStale?: boolean): MentalModelResponse {
    const wire: MentalModelResponse = {
      id: model.id,
      bank_id: model.bankId,
      name: model.name,
      source_query: model.sourceQuery,
      tags: model.tags,
      max_tokens: model.maxTokens,
      trigger: MentalModelTriggerResponse.of(model.trigger),
    };
    if (detail !== 'metadata' && model.content !== null) wire.content = model.content;
    if (model.lastRefreshedAt) wire.last_refreshed_at = model.lastRefreshedAt.toISOString();
    wire.created_at = model.createdAt.toISOString();
    if (detail === 'full' && model.content !== null) {
      wire.reflect_response = { text: model.content, based_on: { memories: model.basedOn.map(ReflectFactResponse.of) } };
    }
    if (isStale !== undefined) wire.is_stale = isStale;
    return wire;
  }
}

/** Hindsight's `MentalModelListResponse`. */
export class MentalModelListResponse {
  @ApiProperty({ type: [MentalModelResponse] })
  items: MentalModelResponse[];
}

/** Hindsight's `CreateMentalModelResponse`. */
export class CreateMentalModelResponse {
  @ApiProperty()
  mental_model_id: string;

  @ApiProperty()
  operation_id: string;
}

/** Hindsight's `AsyncOperationSubmitResponse`. */
export class MentalModelRefreshQueuedResponse {
  @ApiProperty()
  operation_id: string;

  @ApiProperty({ example: 'queued' })
  status: string;
}

export class MentalModelDeletedResponse {
  @ApiProperty({ example: 'deleted' })
  status: string;
}

/** One change of a model's content; Hindsight leaves the history's schema open. */
export class MentalModelHistoryEntryResponse {
  @ApiProperty({ type: String, nullable: true, description: 'The content before the change' })
  previous_content: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The content after it; null after a clear' })
  new_content: string | null;

  @ApiProperty({ enum: ['refresh', 'clear'] })
  reason: 'refresh' | 'clear';

  @ApiProperty()
  changed_at: string;

  static of(entry: MentalModelHistoryEntry): MentalModelHistoryEntryResponse {
    return {
      previous_content: entry.previousContent,
      new_content: entry.newContent,
      reason: entry.reason,
      changed_at: entry.changedAt.toISOString(),
    };
  }
}

/** Hindsight's `MentalModelRefreshScope`. */
export class MentalModelRefreshScopeResponse {
  @ApiPropertyOptional({ type: [String], nullable: true })
  tags: string[] | null;

  @ApiProperty({ enum: TAGS_MATCHES })
  tags_match: string;

  @ApiPropertyOptional({ type: [Object], nullable: true })
  tag_groups: unknown[] | null;

  @ApiPropertyOptional({ type: [String], nullable: true })
  fact_types: string[] | null;

  @ApiProperty()
  exclude_mental_models: boolean;

  @ApiProperty({ type: [String] })
  exclude_mental_model_ids: string[];
}

/** Hindsight's `MentalModelRefreshWindow`. */
export class MentalModelRefreshWindowResponse {
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Only in delta mode: always null here' })
  created_after: string | null;

  @ApiProperty({ format: 'date-time' })
  created_before: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  watermark: string | null;
}

/** Hindsight's `MentalModelFactCounts`. */
export class MentalModelFactCountsResponse {
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  retrieved: Record<string, number>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  used: Record<string, number>;
}

/** Hindsight's `MentalModelTraceToolCall`. */
export class MentalModelTraceToolCallResponse {
  @ApiProperty()
  tool: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  input: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Reduced to result counts' })
  output: Record<string, unknown>;

  @ApiProperty({ type: 'integer' })
  duration_ms: number;
}

/** Hindsight's `LLMCallTrace`. */
export class MentalModelTraceLlmCallResponse {
  @ApiProperty()
  scope: string;

  @ApiProperty({ type: 'integer' })
  duration_ms: number;
}

/** Hindsight's `MentalModelRefreshTrace`. */
export class MentalModelRefreshTraceResponse {
  @ApiProperty({ enum: ['full', 'delta'] })
  effective_mode: 'full';

  @ApiPropertyOptional({ type: String, nullable: true })
  mode_fallback_reason: string | null;

  @ApiProperty({
    enum: ['content_written', 'content_preserved_no_new_facts', 'refresh_failed_empty_candidate', 'refresh_failed_delta_not_applied'],
  })
  outcome: string;

  @ApiProperty({ type: [MentalModelTraceToolCallResponse] })
  tool_calls: MentalModelTraceToolCallResponse[];

  @ApiProperty({ type: [MentalModelTraceLlmCallResponse] })
  llm_calls: MentalModelTraceLlmCallResponse[];

  @ApiProperty({ type: TokenUsageResponse })
  usage: TokenUsageResponse;

  @ApiProperty({ type: 'integer' })
  duration_ms: number;

  @ApiProperty({ type: [String] })
  warnings: string[];
}

/** Hindsight's `MentalModelDryRunRefreshResult`: full mode only, so no delta operations. */
export class MentalModelDryRunRefreshResponse {
  @ApiProperty()
  mental_model_id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ enum: ['full', 'delta'] })
  requested_mode: 'full';

  @ApiProperty({ enum: ['full', 'delta'] })
  effective_mode: 'full';

  @ApiPropertyOptional({ type: String, nullable: true })
  mode_fallback_reason: string | null;

  @ApiProperty({
    enum: ['content_written', 'content_preserved_no_new_facts', 'refresh_failed_empty_candidate', 'refresh_failed_delta_not_applied'],
  })
  outcome: string;

  @ApiProperty()
  would_persist: boolean;

  @ApiProperty({ type: MentalModelRefreshScopeResponse })
  scope: MentalModelRefreshScopeResponse;

  @ApiProperty({ type: MentalModelRefreshWindowResponse })
  window: MentalModelRefreshWindowResponse;

  @ApiProperty({ type: MentalModelFactCountsResponse })
  facts: MentalModelFactCountsResponse;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'object' } } })
  based_on: Record<string, ReflectFactResponse[]>;

  @ApiProperty()
  current_content: string;

  @ApiProperty()
  candidate_content: string;

  @ApiProperty()
  preview_content: string;

  @ApiProperty()
  diff: string;

  @ApiPropertyOptional({ type: Object, nullable: true, description: 'Delta mode only: always null here' })
  delta_operations: null;

  @ApiProperty({ type: MentalModelRefreshTraceResponse })
  trace: MentalModelRefreshTraceResponse;

  @ApiProperty({ type: TokenUsageResponse })
  usage: TokenUsageResponse;

  @ApiProperty({ type: 'integer' })
  duration_ms: number;

  @ApiProperty({ type: [String] })
  warnings: string[];

  static of(run: DryRunRefresh): MentalModelDryRunRefreshResponse {
    const current = run.model.content ?? '';
    const warnings: string[] = [];
    if (run.retrieved.length === 0) warnings.push('No memory of the model’s scope was found: the content would say so.');
    const countByType = (facts: Array<{ type: string }>) =>
      facts.reduce<Record<string, number>>((counts, fact) => ({ ...counts, [fact.type]: (counts[fact.type] ?? 0) + 1 }), {});
    const basedOn: Record<string, ReflectFactResponse[]> = {};
    for (const fact of run.basedOn) (basedOn[fact.type] ??= []).push(ReflectFactResponse.of(fact));
    const usage = TokenUsageResponse.of(run.usage);
    const outcome = 'content_written';
    const trace: MentalModelRefreshTraceResponse = {
      effective_mode: 'full',
      mode_fallback_reason: null,
      outcome,
      tool_calls: [
        {
          tool: 'recall',
          input: {
            query: run.model.sourceQuery,
            tags: run.scope.tags,
            tags_match: run.scope.tagsMatch,
            tag_groups: run.scope.tagGroups,
            fact_types: run.scope.types,
          },
          output: { results: run.retrieved.length },
          duration_ms: run.recallMs,
        },
      ],
      llm_calls: run.llmMs === null ? [] : [{ scope: 'final', duration_ms: run.llmMs }],
      usage,
      duration_ms: run.durationMs,
      warnings,
    };
    return {
      mental_model_id: run.model.id,
      name: run.model.name,
      requested_mode: 'full',
      effective_mode: 'full',
      mode_fallback_reason: null,
      outcome,
      would_persist: true,
      scope: {
        tags: run.scope.tags.length > 0 ? run.scope.tags : null,
        tags_match: run.scope.tagsMatch,
        tag_groups: run.scope.tagGroups,
        fact_types: run.scope.types,
        exclude_mental_models: true,
        exclude_mental_model_ids: [run.model.id, ...(run.model.trigger.excludeMentalModelIds ?? [])],
      },
      window: {
        created_after: null,
        created_before: run.createdBefore.toISOString(),
        watermark: run.watermark ? run.watermark.toISOString() : null,
      },
      facts: { retrieved: countByType(run.retrieved), used: countByType(run.basedOn) },
      based_on: basedOn,
      current_content: current,
      candidate_content: run.content,
      preview_content: run.content,
      diff: unifiedDiff(current, run.content),
      delta_operations: null,
      trace,
      usage,
      duration_ms: run.durationMs,
      warnings,
    };
  }
}
