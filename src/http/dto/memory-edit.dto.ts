import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ENTITY_NAME_MAX_LENGTH } from '../../entities/entity-names.js';
import { IsIsoTimestamp, IsNotBlank, OptionalTags } from './coercions.js';

/** Hindsight's `UpdateMemoryRequest`. At least one field must be set (checked by the service). */
export class UpdateMemoryRequestDto {
  @ApiPropertyOptional({ type: String, description: 'New text: re-embedded, entities re-linked' })
  @IsOptional()
  @IsString()
  @IsNotBlank('text cannot be empty')
  text?: string | null;

  @ApiPropertyOptional({ type: String, description: "'' clears it" })
  @IsOptional()
  @IsString()
  context?: string | null;

  @ApiPropertyOptional({ enum: ['valid', 'invalidated'] })
  @IsOptional()
  @IsIn(['valid', 'invalidated'])
  state?: 'valid' | 'invalidated' | null;

  @ApiPropertyOptional({ type: String, description: 'Why it was invalidated' })
  @IsOptional()
  @IsString()
  reason?: string | null;

  /** An addition to Hindsight's request, which changes tags only per document. */
  @ApiPropertyOptional({
    type: [String],
    description: 'New tags (this server only): observations built under the old tags are invalidated and the memory consolidated again',
  })
  @OptionalTags()
  tags?: string[] | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "ISO 8601; '' clears it" })
  @IsOptional()
  @IsIsoTimestamp([''])
  occurred_start?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "ISO 8601; '' clears it" })
  @IsOptional()
  @IsIsoTimestamp([''])
  occurred_end?: string | null;

  @ApiPropertyOptional({ enum: ['world', 'experience'], nullable: true })
  @IsOptional()
  @IsIn(['world', 'experience'])
  fact_type?: 'world' | 'experience' | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: "Replaces the memory's entities; [] detaches them all" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotBlank('entity names cannot be empty', { each: true })
  @MaxLength(ENTITY_NAME_MAX_LENGTH, { each: true, message: `entity names must be at most ${ENTITY_NAME_MAX_LENGTH} characters long` })
  entities?: string[] | null;
}
