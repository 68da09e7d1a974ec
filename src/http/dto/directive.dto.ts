import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { Directive } from '../../directives/directive.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, IsNotBlank, OptionalTags, QueryBoolean, QueryInt } from './coercions.js';

/** Hindsight's `CreateDirectiveRequest`. */
export class CreateDirectiveRequestDto {
  @ApiProperty({ description: 'Human-readable name for the directive' })
  @IsString()
  @IsNotBlank('name cannot be empty')
  @LimitedInput('query')
  name: string;

  @ApiProperty({ description: 'The directive text to inject into prompts' })
  @IsString()
  @IsNotBlank('content cannot be empty')
  @LimitedInput('query')
  content: string;

  @ApiPropertyOptional({ type: 'integer', default: 0, description: 'Higher priority directives are injected first' })
  @IsOptional()
  @IsInt()
  priority?: number | null;

  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @IsBoolean()
  is_active?: boolean | null;

  @OptionalTags()
  tags?: string[] | null;
}

/** Hindsight's `UpdateDirectiveRequest`: null and absent both leave a field as it is. */
export class UpdateDirectiveRequestDto {
  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @IsNotBlank('name cannot be empty')
  @LimitedInput('query')
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @IsNotBlank('content cannot be empty')
  @LimitedInput('query')
  content?: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  @IsOptional()
  @IsInt()
  priority?: number | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean()
  is_active?: boolean | null;

  @OptionalTags()
  tags?: string[] | null;
}

export class ListDirectivesQuery {
  @ApiPropertyOptional({ type: [String], description: 'Execution scope; untagged (global) directives are always listed' })
  @IsOptional()
  @CoerceTags()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[];

  @ApiPropertyOptional({ enum: ['any', 'all', 'exact'], default: 'any' })
  @IsOptional()
  @IsIn(['any', 'all', 'exact'])
  tags_match?: 'any' | 'all' | 'exact';

  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  active_only?: boolean;

  @ApiPropertyOptional({ type: 'integer', default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  offset?: number;
}

/** Hindsight's `DirectiveResponse`. */
export class DirectiveResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  bank_id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  content: string;

  @ApiProperty({ type: 'integer', default: 0 })
  priority: number;

  @ApiProperty({ default: true })
  is_active: boolean;

  @ApiProperty({ type: [String], default: [] })
  tags: string[];

  @ApiProperty({ type: String, nullable: true })
  created_at: string | null;

  @ApiProperty({ type: String, nullable: true })
  updated_at: string | null;

  static of(directive: Directive): DirectiveResponse {
    return {
      id: directive.id,
      bank_id: directive.bankId,
      name: directive.name,
      content: directive.content,
      priority: directive.priority,
      is_active: directive.isActive,
      tags: directive.tags,
      created_at: directive.createdAt.toISOString(),
      updated_at: directive.updatedAt.toISOString(),
    };
  }
}

/** Hindsight's `DirectiveListResponse`. */
export class DirectiveListResponse {
  @ApiProperty({ type: [DirectiveResponse] })
  items: DirectiveResponse[];
}

/** What a delete answers; Hindsight's schema leaves it open. */
export class DirectiveDeletedResponse {
  @ApiProperty({ example: 'deleted' })
  status: string;
}
