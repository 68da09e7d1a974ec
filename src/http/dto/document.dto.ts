import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { ChunkRecord } from '../../documents/document-chunks.service.js';
import { OptionalTags, QueryInt } from './coercions.js';

/** Hindsight's `UpdateDocumentRequest`: tags are a document's only mutable field. */
export class UpdateDocumentRequestDto {
  @OptionalTags()
  tags?: string[] | null;
}

/** Hindsight's `UpdateDocumentResponse`. */
export class UpdateDocumentResponse {
  @ApiProperty({ default: true })
  success: boolean;
}

/** The query of `list_document_chunks`: Hindsight's bounds and defaults. */
export class ListChunksQuery {
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

/** Hindsight's `ChunkResponse`. */
export class ChunkResponse {
  @ApiProperty({ format: 'uuid' })
  chunk_id: string;

  @ApiProperty()
  document_id: string;

  @ApiProperty()
  bank_id: string;

  @ApiProperty({ type: 'integer', description: 'From 0, in the order of the document text' })
  chunk_index: number;

  @ApiProperty()
  chunk_text: string;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  static of(chunk: ChunkRecord): ChunkResponse {
    return {
      chunk_id: chunk.id,
      document_id: chunk.documentId,
      bank_id: chunk.bankId,
      chunk_index: chunk.index,
      chunk_text: chunk.text,
      created_at: chunk.createdAt.toISOString(),
    };
  }
}

/** Hindsight's `ListChunksResponse`. */
export class ListChunksResponse {
  @ApiProperty({ type: [ChunkResponse] })
  items: ChunkResponse[];

  @ApiProperty({ type: 'integer' })
  total: number;

  @ApiProperty({ type: 'integer' })
  limit: number;

  @ApiProperty({ type: 'integer' })
  offset: number;
}

/** Hindsight's `ReprocessDocumentResponse`: the queued retain to poll under `…/operations/{id}`. */
export class ReprocessDocumentResponse {
  @ApiProperty()
  success: boolean;

  @ApiProperty({ format: 'uuid' })
  operation_id: string;

  @ApiProperty({ type: 'integer' })
  items_count: number;
}
