import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDefined, IsIn, IsInt, IsObject, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';

export class DispositionDto {
  @ApiProperty({ minimum: 1, maximum: 5, example: 3 })
  @IsInt()
  @Min(1)
  @Max(5)
  skepticism: number;

  @ApiProperty({ minimum: 1, maximum: 5, example: 3 })
  @IsInt()
  @Min(1)
  @Max(5)
  literalism: number;

  @ApiProperty({ minimum: 1, maximum: 5, example: 3 })
  @IsInt()
  @Min(1)
  @Max(5)
  empathy: number;
}

const EXTRACTION_MODES = ['concise', 'verbose', 'custom', 'verbatim', 'chunks'];

/** Hindsight's `CreateBankRequest`: every field optional; what is absent stays as it was. */
export class CreateBankRequestDto {
  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  name?: string | null;

  @ApiPropertyOptional({ type: DispositionDto, nullable: true, deprecated: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => DispositionDto)
  disposition?: DispositionDto | null;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 5, nullable: true, deprecated: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  disposition_skepticism?: number | null;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 5, nullable: true, deprecated: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  disposition_literalism?: number | null;

  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 5, nullable: true, deprecated: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  disposition_empathy?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, deprecated: true })
  @IsOptional()
  @IsString()
  mission?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, deprecated: true })
  @IsOptional()
  @IsString()
  background?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Takes precedence over mission and background' })
  @IsOptional()
  @IsString()
  reflect_mission?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  retain_mission?: string | null;

  @ApiPropertyOptional({ enum: EXTRACTION_MODES, nullable: true })
  @IsOptional()
  @IsIn(EXTRACTION_MODES)
  retain_extraction_mode?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  retain_custom_instructions?: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  retain_chunk_size?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  retain_structured_chunk_size?: number | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean()
  enable_observations?: boolean | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  observations_mission?: string | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean()
  enable_temporal_retrieval?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean()
  enable_graph_retrieval?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true })
  @IsOptional()
  @IsBoolean()
  enable_reranking?: boolean | null;
}

export class UpdateDispositionRequestDto {
  @ApiProperty({ type: DispositionDto })
  // ValidateNested alone lets an absent object through.
  @IsDefined({ message: 'disposition is required' })
  @ValidateNested()
  @Type(() => DispositionDto)
  disposition: DispositionDto;
}

export class BankConfigUpdateDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'snake_case keys (retain_extraction_mode) or env-style ones (HINDSIGHT_API_RETAIN_EXTRACTION_MODE)',
  })
  @IsObject()
  updates: Record<string, unknown>;
}
