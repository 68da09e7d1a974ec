import { BadRequestException, Body, Delete, Get, Inject, Param, Patch, Query } from '@nestjs/common';
import { ApiOperation, ApiParam } from '@nestjs/swagger';
import { MemoriesService } from '../../memories/memories.service.js';
import { UpdateDocumentRequestDto } from '../dto/document.dto.js';
import { ListDocumentsQuery, ListTagsQuery, PageQuery } from '../dto/list-query.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { toDocumentDeletedWire, toDocumentListWire, toDocumentWire, toEntityListWire, toTagListWire } from '../wire.mapper.js';

/**
 * Document ids may contain slashes, sent raw (`a/b`) or encoded (`a%2Fb`): the route takes the
 * rest of the path, whose segments Express has already decoded one by one.
 */
const DOCUMENT_ID = '*document_id';

@MemoryApiController('documents')
export class DocumentsController {
  constructor(@Inject(MemoriesService) private readonly memories: MemoriesService) {}

  @Get('banks/:bank_id/documents')
  @ApiOperation({ operationId: 'list_documents' })
  async list(@Param('bank_id') bankId: string, @Query() query: ListDocumentsQuery) {
    if (query.tags !== undefined) throw new BadRequestException('Filtering documents by tags is not supported by this server');
    return toDocumentListWire(
      await this.memories.listDocuments(bankId, { q: query.q, limit: query.limit ?? 100, offset: query.offset ?? 0 }),
    );
  }

  @Get(`banks/:bank_id/documents/${DOCUMENT_ID}`)
  @ApiOperation({ operationId: 'get_document' })
  @ApiParam({ name: 'document_id', type: String })
  async get(@Param('bank_id') bankId: string, @Param('document_id') documentId: string | string[]) {
    return toDocumentWire(await this.memories.getDocument(bankId, joinSegments(documentId)));
  }

  @Patch(`banks/:bank_id/documents/${DOCUMENT_ID}`)
  @ApiOperation({
    operationId: 'update_document',
    summary: 'Changes the tags of the document and its memories; observations built under the old tags are invalidated and rebuilt',
  })
  @ApiParam({ name: 'document_id', type: String })
  async update(
    @Param('bank_id') bankId: string,
    @Param('document_id') documentId: string | string[],
    @Body() body: UpdateDocumentRequestDto,
  ) {
    const id = joinSegments(documentId);
    // Tags are the only mutable field of a document in Hindsight's API; no tags is no change.
    if (body.tags != null) await this.memories.retagDocument(bankId, id, body.tags);
    else await this.memories.getDocument(bankId, id);
    return { success: true };
  }

  @Delete(`banks/:bank_id/documents/${DOCUMENT_ID}`)
  @ApiOperation({ operationId: 'delete_document', summary: 'Deletes the document and its memories' })
  @ApiParam({ name: 'document_id', type: String })
  async delete(@Param('bank_id') bankId: string, @Param('document_id') documentId: string | string[]) {
    const id = joinSegments(documentId);
    return toDocumentDeletedWire(id, await this.memories.deleteDocument(bankId, id));
  }

  @Get('banks/:bank_id/entities')
  @ApiOperation({ operationId: 'list_entities' })
  async entities(@Param('bank_id') bankId: string, @Query() query: PageQuery) {
    return toEntityListWire(await this.memories.listEntities(bankId, { limit: query.limit ?? 100, offset: query.offset ?? 0 }));
  }

  @Get('banks/:bank_id/tags')
  @ApiOperation({ operationId: 'list_tags' })
  async tags(@Param('bank_id') bankId: string, @Query() query: ListTagsQuery) {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const page = await this.memories.listTags(bankId, { q: query.q, limit, offset });
    // Mental models carry no tags here (there are none yet): their source is empty, not an error.
    return toTagListWire(query.source === 'mental_models' ? { items: [], total: 0, limit, offset } : page);
  }
}

function joinSegments(value: string | string[]): string {
  return Array.isArray(value) ? value.join('/') : value;
}
