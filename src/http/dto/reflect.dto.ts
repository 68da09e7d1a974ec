import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { FACT_TYPES, RECALL_BUDGETS, TAGS_MATCHES } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { OptionalTags, OptionalTagsMatch, UnsupportedTagGroups } from './coercions.js';

/** Hindsight's `ReflectRequest`; the options this server does not act on are accepted and ignored. */
export class ReflectRequestDto {
  @ApiProperty({ example: 'What does Alice do for a living?' })
  @IsString()
  @Matches(/[\p{L}\p{N}_]/u, { message: 'query must contain at least one word character' })
  @LimitedInput('query')
  query: string;

  @ApiPropertyOptional({ enum: RECALL_BUDGETS, default: 'low' })
  @IsOptional()
  @IsIn(RECALL_BUDGETS)
  budget?: (typeof RECALL_BUDGETS)[number] | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Deprecated: appended to the query' })
  @IsOptional()
  @IsString()
  @LimitedInput('query')
  context?: string | null;

  @ApiPropertyOptional({ type: Number, default: 4096, minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number | null;

  @ApiPropertyOptional({ description: 'Accepted; based_on is always sent' })
  @Allow()
  include?: unknown;

  @ApiPropertyOptional({ description: 'Accepted and ignored' })
  @Allow()
  response_schema?: unknown;

  @OptionalTags()
  tags?: string[] | null;

  @OptionalTagsMatch()
  tags_match?: (typeof TAGS_MATCHES)[number] | null;

  @UnsupportedTagGroups()
  tag_groups?: unknown[] | null;

  @ApiPropertyOptional({ enum: FACT_TYPES, isArray: true, nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'fact_types cannot be empty' })
  @IsIn(FACT_TYPES, { each: true })
  fact_types?: Array<(typeof FACT_TYPES)[number]> | null;

  @ApiPropertyOptional({ description: 'Accepted and ignored' })
  @Allow()
  apply_all_directives?: unknown;

  @ApiPropertyOptional({ description: 'Accepted and ignored' })
  @Allow()
  exclude_mental_models?: unknown;

  @ApiPropertyOptional({ description: 'Accepted and ignored' })
  @Allow()
  exclude_mental_model_ids?: unknown;
}
