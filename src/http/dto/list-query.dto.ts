import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { CONSOLIDATION_STATES, type ConsolidationState } from '../../memories/memory.types.js';
import { OPERATION_STATUSES } from '../../operations/operation.types.js';
import { FACT_TYPES, TAGS_MATCHES, type TagsMatch } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, QueryBoolean, QueryInt } from './coercions.js';

export class PageQuery {
  @ApiPropertyOptional({ type: Number, default: 100, minimum: 0 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  limit?: number;

  @ApiPropertyOptional({ type: Number, default: 0, minimum: 0 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  offset?: number;
}

export class ListMemoriesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: FACT_TYPES })
  @IsOptional()
  @IsIn(FACT_TYPES)
  type?: (typeof FACT_TYPES)[number];

  @ApiPropertyOptional({ description: 'Substring of the text or context, case-insensitive' })
  @IsOptional()
  @IsString()
  q?: string;

  @ApiPropertyOptional({ enum: ['valid', 'invalidated'] })
  @IsOptional()
  @IsIn(['valid', 'invalidated'])
  state?: 'valid' | 'invalidated';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @LimitedInput('documentId')
  document_id?: string;

  @ApiPropertyOptional({
    enum: CONSOLIDATION_STATES,
    description: 'World and experience memories only: failed, pending (not consolidated yet, not failed) or done; any case',
  })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.toLowerCase() : value))
  @IsIn(CONSOLIDATION_STATES, { message: `consolidation_state must be one of ${CONSOLIDATION_STATES.join(', ')}` })
  consolidation_state?: ConsolidationState;

  @ApiPropertyOptional({ format: 'uuid', description: 'Memories linked to this entity' })
  @IsOptional()
  @IsUUID('all', { message: 'entity_id must be a UUID' })
  entity_id?: string;

  @ApiPropertyOptional({ type: [String], description: 'Repeat the parameter for several tags' })
  @IsOptional()
  @CoerceTags()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[];

  @ApiPropertyOptional({ enum: TAGS_MATCHES, default: 'any', description: 'As in recall; exact with no tags lists untagged memories' })
  @IsOptional()
  @IsIn(TAGS_MATCHES)
  tags_match?: TagsMatch;
}

export class ListDocumentsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Substring of the document id, case-insensitive' })
  @IsOptional()
  @IsString()
  q?: string;

  @ApiPropertyOptional({ type: [String], description: 'Repeat the parameter for several tags' })
  @IsOptional()
  @CoerceTags()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[];

  @ApiPropertyOptional({ enum: TAGS_MATCHES, default: 'any_strict', description: 'As in recall' })
  @IsOptional()
  @IsIn(TAGS_MATCHES)
  tags_match?: TagsMatch;
}

export class ListTagsQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'Pattern where * matches anything, case-insensitive (user:*)' })
  @IsOptional()
  @IsString()
  q?: string;

  @ApiPropertyOptional({ enum: ['memories', 'mental_models'], default: 'memories' })
  @IsOptional()
  @IsIn(['memories', 'mental_models'])
  source?: 'memories' | 'mental_models';
}

export class ClearMemoriesQuery {
  @ApiPropertyOptional({ enum: FACT_TYPES, description: 'Only this type; all when absent' })
  @IsOptional()
  @IsIn(FACT_TYPES)
  type?: (typeof FACT_TYPES)[number];
}

export class StatsQuery {
  @ApiPropertyOptional({ type: Boolean, description: 'Accepted; statistics are always fresh' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  refresh?: boolean;
}

export class ListOperationsQuery {
  @ApiPropertyOptional({ enum: OPERATION_STATUSES })
  @IsOptional()
  @IsIn(OPERATION_STATUSES)
  status?: (typeof OPERATION_STATUSES)[number];

  @ApiPropertyOptional({ description: 'Operation type, e.g. retain' })
  @IsOptional()
  @IsString()
  type?: string;

  @ApiPropertyOptional({ type: Number, default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ type: Number, default: 0, minimum: 0 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  offset?: number;

  @ApiPropertyOptional({ type: Boolean, description: 'Accepted; operations have no children here' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  exclude_parents?: boolean;
}

export class OperationStatusQuery {
  @ApiPropertyOptional({ type: Boolean, default: false })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  include_payload?: boolean;
}
