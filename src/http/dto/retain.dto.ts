import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ENTITY_NAME_MAX_LENGTH } from '../../entities/entity-names.js';
import { UPDATE_MODES, type UpdateMode } from '../../retain/retain.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, IsIsoTimestamp, IsNotBlank, IsStringRecord, OptionalTags, StripUnstorable } from './coercions.js';

export class EntityInputDto {
  @ApiProperty({ example: 'Alice', maxLength: ENTITY_NAME_MAX_LENGTH })
  @IsString()
  @IsNotEmpty()
  @MaxLength(ENTITY_NAME_MAX_LENGTH, { message: `text must be at most ${ENTITY_NAME_MAX_LENGTH} characters long` })
  text: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Defaults to CONCEPT' })
  @IsOptional()
  @IsString()
  type?: string | null;
}

export class MemoryItemDto {
  @ApiProperty({ example: 'Alice joined Google in March 2024.', description: 'NUL characters and unpaired surrogates are removed' })
  @StripUnstorable()
  @IsString()
  @IsNotBlank('content cannot be empty')
  content: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: "ISO 8601; omitted or null = now; 'unset' = no event time" })
  @IsOptional()
  @IsIsoTimestamp(['unset'])
  timestamp?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'NUL characters and unpaired surrogates are removed' })
  @StripUnstorable()
  @IsOptional()
  @IsString()
  context?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  @IsOptional()
  @IsObject()
  @IsStringRecord()
  @LimitedInput('metadata')
  metadata?: Record<string, string> | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Retaining the same id again replaces the document' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @LimitedInput('documentId')
  document_id?: string | null;

  @ApiPropertyOptional({ type: [EntityInputDto], nullable: true })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => EntityInputDto)
  entities?: EntityInputDto[] | null;

  @OptionalTags()
  tags?: string[] | null;

  /** Checked by the retain service, the one place that knows the modes (observation-scopes.ts). */
  @ApiPropertyOptional({
    nullable: true,
    oneOf: [
      { type: 'string', enum: ['combined', 'per_tag', 'all_combinations', 'shared'] },
      { type: 'array', items: { type: 'array', items: { type: 'string' } } },
    ],
    description:
      "How the item's memories are grouped into observations: 'combined' (default, the whole tag set), 'per_tag', " +
      "'all_combinations' (at most 6 tags), 'shared' (one untagged scope), or explicit tag lists drawn from the item's tags",
  })
  @Allow()
  observation_scopes?: unknown;

  // A named strategy comes from the bank's `retain_strategies`, which this server does not have:
  // every name is unknown, and accepting one would retain the item some other way than asked.
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Not supported: this server has no retain_strategies, so only null is accepted',
  })
  @IsOptional()
  @IsIn([], { message: 'strategy is not supported by this server (no retain_strategies are defined); leave it out' })
  strategy?: string | null;

  @ApiPropertyOptional({
    enum: UPDATE_MODES,
    nullable: true,
    description:
      "With a document_id already stored: 'replace' (default) retains this content in its place; 'append' adds it after the stored text and retains the whole again (needs a document_id)",
  })
  @IsOptional()
  @IsIn(UPDATE_MODES, { message: `update_mode must be one of ${UPDATE_MODES.join(', ')}` })
  update_mode?: UpdateMode | null;
}

export class RetainRequestDto {
  @ApiProperty({ type: [MemoryItemDto] })
  @IsArray()
  @ArrayNotEmpty({ message: 'items cannot be empty' })
  @ValidateNested({ each: true })
  @Type(() => MemoryItemDto)
  items: MemoryItemDto[];

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Queue the work and answer with an operation_id' })
  @IsOptional()
  @IsBoolean()
  async?: boolean | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Applied to every item' })
  @IsOptional()
  @CoerceTags()
  @IsArray()
  @IsString({ each: true })
  @LimitedInput('tags')
  document_tags?: string[] | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    format: 'uuid',
    description:
      'Your UUID for an async retain: submitting it again returns the original operation and queues nothing; the id of other work is a 409. Ignored for a synchronous retain',
  })
  @IsOptional()
  @IsUUID()
  operation_id?: string | null;
}
