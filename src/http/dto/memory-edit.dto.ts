import { ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsOptional, IsString } from 'class-validator';
import { IsNotBlank, OptionalTags } from './coercions.js';

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

  @ApiPropertyOptional({ description: 'Not supported by this server (400)' })
  @Allow()
  occurred_start?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400)' })
  @Allow()
  occurred_end?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400)' })
  @Allow()
  fact_type?: unknown;

  @ApiPropertyOptional({ description: 'Not supported by this server (400)' })
  @Allow()
  entities?: unknown;
}
