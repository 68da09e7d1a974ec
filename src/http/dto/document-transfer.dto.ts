import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsOptional, IsString, MinLength } from 'class-validator';
import { ON_CONFLICT_MODES, type OnConflict } from '../../document-transfer/document-transfer.service.js';
import { LimitedInput } from '../input-rules.js';
import { QueryBoolean } from './coercions.js';

export class ExportDocumentsQuery {
  @ApiPropertyOptional({ type: [String], description: 'Document id(s) to export; omit for all (and the memories retained without one)' })
  @IsOptional()
  // One value in a query string is a string, several an array.
  @Transform(({ value }) => (typeof value === 'string' ? [value] : value))
  @IsArray()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @LimitedInput('documentId')
  document_id?: string[];

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Not supported: a 422 when true' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  include_observations?: boolean;
}

export class ImportDocumentsQuery {
  @ApiPropertyOptional({ enum: ON_CONFLICT_MODES, default: 'skip', description: 'What happens to a document whose id the bank has' })
  @IsOptional()
  @IsIn(ON_CONFLICT_MODES, { message: `on_conflict must be one of ${ON_CONFLICT_MODES.join(', ')}` })
  on_conflict?: OnConflict;
}

export class ImportDocumentsBody {
  @ApiProperty({ type: 'string', format: 'binary', description: 'Transfer ZIP archive' })
  file!: unknown;
}

export class DocumentTransferSubmitResponse {
  @ApiProperty({ type: String })
  operation_id!: string;

  @ApiProperty({ type: String, default: 'pending' })
  status!: string;
}
