import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsArray, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, ValidateNested } from 'class-validator';
import { LimitedInput } from '../input-rules.js';
import { IsIsoTimestamp, IsStringRecord, OptionalTags, StripUnstorable } from './coercions.js';

/**
 * The one converter this server has (file-type, unpdf, mammoth, html-to-text, in a worker thread).
 * Hindsight lets a request pick among its server's parsers; here only this name may be asked for.
 */
export const FILE_PARSERS = ['builtin'] as const;

const PARSER_SCHEMA = {
  nullable: true,
  oneOf: [
    { type: 'string', enum: [...FILE_PARSERS] },
    { type: 'array', items: { type: 'string', enum: [...FILE_PARSERS] } },
  ],
  description: `Parser, or fallback chain of parsers; only ${FILE_PARSERS.map((p) => `'${p}'`).join(', ')} exists here (another name is a 400)`,
};

/** Hindsight's `FileRetainMetadata`: what applies to one file, in the order of the files. */
export class FileRetainMetadataDto {
  @ApiPropertyOptional({ type: String, nullable: true, description: "Default 'file_<uuid>'; an id already stored is replaced" })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @LimitedInput('documentId')
  document_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
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

  @OptionalTags()
  tags?: string[] | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "ISO 8601; omitted or null = now; 'unset' = no event time" })
  @IsOptional()
  @IsIsoTimestamp(['unset'])
  timestamp?: string | null;

  /** Checked by the controller, which answers an unknown parser 400 as Hindsight does. */
  @ApiPropertyOptional(PARSER_SCHEMA)
  @Allow()
  parser?: unknown;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Not supported: this server has no retain_strategies, so only null is accepted',
  })
  @IsOptional()
  @IsIn([], { message: 'strategy is not supported by this server (no retain_strategies are defined); leave it out' })
  strategy?: string | null;
}

/** Hindsight's `FileRetainRequest`, sent as the JSON text of the multipart field `request`. */
export class FileRetainRequestDto {
  @ApiPropertyOptional(PARSER_SCHEMA)
  @Allow()
  parser?: unknown;

  @ApiPropertyOptional({
    type: [FileRetainMetadataDto],
    nullable: true,
    description: 'One entry per file, in the order of the files (their number must match)',
  })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FileRetainMetadataDto)
  files_metadata?: FileRetainMetadataDto[] | null;
}

/** Hindsight's `Body_file_retain`: the multipart form, for the OpenAPI document. */
export class FileRetainBodyDto {
  @ApiProperty({ type: 'array', items: { type: 'string', format: 'binary' }, description: 'Files to upload and convert' })
  files!: unknown[];

  @ApiProperty({ type: String, description: 'JSON string with FileRetainRequest model' })
  request!: string;
}

/** Hindsight's `FileRetainResponse`. */
export class FileRetainResponse {
  @ApiProperty({
    type: [String],
    description: 'One queued retain per file, in the order of the files; poll GET /v1/default/banks/{bank_id}/operations/{operation_id}',
  })
  operation_ids!: string[];
}
