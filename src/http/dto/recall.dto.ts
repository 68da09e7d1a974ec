import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { FACT_TYPES, RECALL_BUDGETS, TAGS_MATCHES } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { OptionalTags, OptionalTagsMatch, UnsupportedTagGroups } from './coercions.js';

export class TokenBudgetDto {
  @ApiPropertyOptional({ type: Number, minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  max_tokens?: number | null;
}

export class IncludeOptionsDto {
  @ApiPropertyOptional({ type: TokenBudgetDto, nullable: true, description: 'On by default (500 tokens); null leaves entities out' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TokenBudgetDto)
  entities?: TokenBudgetDto | null;

  @ApiPropertyOptional({ nullable: true, description: 'Accepted; this server stores no chunks' })
  @Allow()
  chunks?: unknown;

  @ApiPropertyOptional({ nullable: true, description: 'Accepted and ignored' })
  @Allow()
  source_facts?: unknown;
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

  @ApiPropertyOptional({ type: Boolean, description: 'Accepted and ignored' })
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

  @UnsupportedTagGroups()
  tag_groups?: unknown[] | null;

  @ApiPropertyOptional({ type: MinScoresDto, nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => MinScoresDto)
  min_scores?: MinScoresDto | null;
}
