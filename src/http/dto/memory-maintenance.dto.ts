import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsDefined, IsOptional, IsString } from 'class-validator';
import type { ObservationChange, ObservationScopeCount } from '../../memories/memory.types.js';
import type { ExtractedFact } from '../../retain/fact-extraction.js';
import { IsIsoTimestamp, IsNotBlank } from './coercions.js';
import { TokenUsageResponse } from './reflect.dto.js';

/** The prompt overrides of Hindsight's dry run; this server's extraction has no prompt to tune, so each is refused. */
export const UNSUPPORTED_DRY_RUN_OVERRIDES = [
  'agent_name',
  'retain_mission',
  'retain_extraction_mode',
  'retain_custom_instructions',
  'retain_extract_causal_links',
  'retain_chunk_size',
  'entity_labels',
  'entities_allow_free_form',
  'llm_output_language',
] as const;

/** Hindsight's `DryRunExtractRequest`. */
export class DryRunExtractRequestDto {
  @ApiProperty({ type: String, description: 'Text to extract facts from' })
  @IsDefined({ message: 'content is required' })
  @IsString()
  @IsNotBlank('content cannot be empty')
  content!: string;

  @ApiPropertyOptional({ type: String, default: '' })
  @IsOptional()
  @IsString()
  context?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'Resolves relative times; now when absent' })
  @IsOptional()
  @IsIsoTimestamp()
  timestamp?: string | null;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  agent_name?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  retain_mission?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  retain_extraction_mode?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  retain_custom_instructions?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  retain_extract_causal_links?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  retain_chunk_size?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  entity_labels?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  entities_allow_free_form?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400 unless null)' })
  @Allow()
  llm_output_language?: unknown;
}

/** Hindsight's `ExtractedFact`. */
export class ExtractedFactResponse {
  @ApiProperty({ type: String })
  text!: string;

  @ApiProperty({ enum: ['world', 'experience'] })
  fact_type!: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  occurred_start?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  occurred_end?: string | null;

  @ApiProperty({ type: [String] })
  entities!: string[];
}

/** Hindsight's `DryRunExtractionResult`. */
export class DryRunExtractionResponse {
  @ApiProperty({ type: [ExtractedFactResponse] })
  facts!: ExtractedFactResponse[];

  @ApiProperty({ type: TokenUsageResponse, description: 'Not counted by this server: always zeros' })
  usage!: TokenUsageResponse;
}

/** Hindsight's `ObservationScope`. */
export class ObservationScopeResponse {
  @ApiProperty({ type: [String] })
  tags!: string[];

  @ApiProperty({ type: 'integer' })
  count!: number;
}

/** Hindsight's `ObservationScopesResponse`. */
export class ObservationScopesResponse {
  @ApiProperty({ type: [ObservationScopeResponse], description: 'Most populous first' })
  scopes!: ObservationScopeResponse[];
}

/** Hindsight's `ClearMemoryObservationsResponse`. */
export class ClearMemoryObservationsResponse {
  @ApiProperty({ type: 'integer' })
  deleted_count!: number;
}

/** A source of an observation after one change, resolved to its text. */
export class ObservationSourceFactResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Null once the source was deleted' })
  text!: string | null;

  @ApiProperty({ type: String, nullable: true })
  type!: string | null;

  @ApiProperty({ type: String, nullable: true })
  context!: string | null;

  @ApiProperty({ type: Boolean, description: 'Added by this change' })
  is_new!: boolean;
}

/** One change of an observation, as Hindsight's history lists it (its schema leaves the shape open). */
export class ObservationHistoryEntryResponse {
  @ApiProperty({ type: String })
  previous_text!: string;

  @ApiProperty({ type: [String] })
  previous_tags!: string[];

  @ApiProperty({ type: String, nullable: true })
  previous_occurred_start!: string | null;

  @ApiProperty({ type: String, nullable: true })
  previous_occurred_end!: string | null;

  @ApiProperty({ type: String, nullable: true })
  previous_mentioned_at!: string | null;

  @ApiProperty({ type: String })
  changed_at!: string;

  @ApiProperty({ type: [String] })
  new_source_memory_ids!: string[];

  @ApiProperty({ type: [ObservationSourceFactResponse], description: 'The sources after this change' })
  source_facts!: ObservationSourceFactResponse[];
}

export function toDryRunExtractionResponse(facts: ExtractedFact[]): DryRunExtractionResponse {
  return {
    facts: facts.map((fact) => ({
      text: fact.text,
      fact_type: fact.factType,
      occurred_start: iso(fact.occurredStart),
      occurred_end: iso(fact.occurredEnd),
      entities: fact.entities.map((entity) => entity.name),
    })),
    usage: TokenUsageResponse.of({ inputTokens: 0, outputTokens: 0, totalTokens: 0 }),
  };
}

export function toObservationScopesResponse(scopes: ObservationScopeCount[]): ObservationScopesResponse {
  return { scopes: scopes.map((scope) => ({ tags: [...scope.tags], count: scope.count })) };
}

/** Oldest first. */
export function toObservationHistoryResponse(changes: ObservationChange[]): ObservationHistoryEntryResponse[] {
  return changes.map((change) => ({
    previous_text: change.previousText,
    previous_tags: [...change.previousTags],
    previous_occurred_start: iso(change.previousOccurredStart),
    previous_occurred_end: iso(change.previousOccurredEnd),
    previous_mentioned_at: iso(change.previousMentionedAt),
    changed_at: iso(change.changedAt)!,
    new_source_memory_ids: [...change.newSourceMemoryIds],
    source_facts: change.sourceFacts.map((fact) => ({
      id: fact.id,
      text: fact.text,
      type: fact.type,
      context: fact.context,
      is_new: fact.isNew,
    })),
  }));
}

function iso(date: Date | string | null | undefined): string | null {
  if (date == null) return null;
  return date instanceof Date ? date.toISOString() : new Date(date).toISOString();
}
