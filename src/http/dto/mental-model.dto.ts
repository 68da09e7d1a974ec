import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
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
import { MAX_MODEL_TOKENS, MIN_MODEL_TOKENS } from '../../mental-models/mental-model.types.js';
import { FACT_TYPES, TAGS_MATCHES } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, IsNotBlank, OptionalTags } from './coercions.js';
import { PageQuery } from './list-query.dto.js';

/** Hindsight's `MentalModelTrigger`; the fields this server does not act on are accepted and ignored. */
export class MentalModelTriggerDto {
  @ApiPropertyOptional({ type: Boolean, default: false })
  @IsOptional()
  @IsBoolean()
  refresh_after_consolidation?: boolean | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Validated and stored; not scheduled by this server' })
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

  @Allow() mode?: unknown;
  @Allow() exclude_mental_models?: unknown;
  @Allow() exclude_mental_model_ids?: unknown;
  @Allow() tag_groups?: unknown;
  @Allow() include_chunks?: unknown;
  @Allow() recall_max_tokens?: unknown;
  @Allow() recall_chunks_max_tokens?: unknown;
  @Allow() response_schema?: unknown;
  @Allow() keep_trace?: unknown;
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

  @ApiPropertyOptional({ type: Number, default: 2048, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS })
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

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS })
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
