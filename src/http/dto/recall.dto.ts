import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { FACT_TYPES, RECALL_BUDGETS, TAGS_MATCHES } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { OptionalTags, OptionalTagsMatch, TagGroups } from './coercions.js';

export class TokenBudgetDto {
  @ApiPropertyOptional({ type: Number, minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  max_tokens?: number | null;
}

/** Hindsight's `ChunkIncludeOptions`. */
export class ChunkIncludeOptionsDto {
  @ApiPropertyOptional({ type: 'integer', default: 8192, minimum: 0, description: 'The last chunk that does not fit whole is cut' })
  @IsOptional()
  @IsInt()
  @Min(0)
  max_tokens?: number | null;
}

/** Hindsight's `SourceFactsIncludeOptions`; -1 is no limit. */
export class SourceFactsIncludeOptionsDto {
  @ApiPropertyOptional({ type: 'integer', default: 4096, minimum: -1 })
  @IsOptional()
  @IsInt()
  @Min(-1)
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: 'integer', default: -1, minimum: -1 })
  @IsOptional()
  @IsInt()
  @Min(-1)
  max_tokens_per_observation?: number | null;
}

export class IncludeOptionsDto {
  @ApiPropertyOptional({ type: TokenBudgetDto, nullable: true, description: 'On by default (500 tokens); null leaves entities out' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TokenBudgetDto)
  entities?: TokenBudgetDto | null;

  @ApiPropertyOptional({
    type: ChunkIncludeOptionsDto,
    nullable: true,
    description: '{} to include the chunks of the results; off by default',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ChunkIncludeOptionsDto)
  chunks?: ChunkIncludeOptionsDto | null;

  @ApiPropertyOptional({
    type: SourceFactsIncludeOptionsDto,
    nullable: true,
    description: '{} to include the memories the observations among the results were built from; off by default',
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SourceFactsIncludeOptionsDto)
  source_facts?: SourceFactsIncludeOptionsDto | null;
}

export class MinScoresDto {
  @IsOptional() @IsNumber() semantic?: number | null;
  @IsOptional() @IsNumber() keyword?: number | null;
  @IsOptional() @IsNumber() reranker?: number | null;
  @IsOptional() @IsNumber() final?: number | null;
}

export class RecallRequestDto {
  @ApiProperty({ example: 'Where does Alice work?' })
  @IsString()
  @Matches(/[\p{L}\p{N}_]/u, { message: 'query must contain at least one word character' })
  @LimitedInput('query')
  query: string;

  @ApiPropertyOptional({ enum: FACT_TYPES, isArray: true, nullable: true, description: 'null or [] = all types' })
  @IsOptional()
  @IsArray()
  @IsIn(FACT_TYPES, { each: true })
  types?: Array<(typeof FACT_TYPES)[number]> | null;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description:
      'With observation and a raw type both asked for: a raw fact that a returned observation was built from gives its place to the next result',
  })
  @IsOptional()
  @IsBoolean()
  prefer_observations?: boolean | null;

  @ApiPropertyOptional({ enum: RECALL_BUDGETS, default: 'mid' })
  @IsOptional()
  @IsIn(RECALL_BUDGETS)
  budget?: (typeof RECALL_BUDGETS)[number] | null;

  @ApiPropertyOptional({ type: Number, default: 4096, minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: Boolean, default: false })
  @IsOptional()
  @IsBoolean()
  trace?: boolean | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'ISO 8601: "now" for relative dates in the query' })
  @IsOptional()
  @IsString()
  query_timestamp?: string | null;

  @ApiPropertyOptional({ type: IncludeOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => IncludeOptionsDto)
  include?: IncludeOptionsDto | null;

  @OptionalTags()
  tags?: string[] | null;

  @OptionalTagsMatch()
  tags_match?: (typeof TAGS_MATCHES)[number] | null;

  @TagGroups()
  tag_groups?: unknown[] | null;

  @ApiPropertyOptional({ type: MinScoresDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => MinScoresDto)
  min_scores?: MinScoresDto | null;
}
