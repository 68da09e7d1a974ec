import { Get, Inject, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DocumentChunksService } from '../../documents/document-chunks.service.js';
import { ChunkResponse } from '../dto/document.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';

/** Hindsight's `get_chunk`: a chunk id is unique across banks (a UUID), so the path names none. */
@MemoryApiController('documents')
export class ChunksController {
  constructor(@Inject(DocumentChunksService) private readonly chunks: DocumentChunksService) {}

  @Get('chunks/:chunk_id')
  @ApiOperation({ operationId: 'get_chunk' })
  @ApiOkResponse({ type: ChunkResponse })
  @ApiNotFoundResponse({ description: 'No such chunk' })
  async get(@Param('chunk_id') chunkId: string): Promise<ChunkResponse> {
    return ChunkResponse.of(await this.chunks.getChunk(chunkId));
  }
}
