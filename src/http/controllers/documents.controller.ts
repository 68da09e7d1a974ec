import { BadRequestException, Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import type { Request } from 'express';
import { DocumentChunksService } from '../../documents/document-chunks.service.js';
import { MemoriesService } from '../../memories/memories.service.js';
import {
  ChunkResponse,
  ListChunksQuery,
  ListChunksResponse,
  ReprocessDocumentResponse,
  UpdateDocumentRequestDto,
  UpdateDocumentResponse,
} from '../dto/document.dto.js';
import { ListDocumentsQuery, ListTagsQuery } from '../dto/list-query.dto.js';
import { DeleteDocumentResponse, DocumentResponse, ListDocumentsResponse, ListTagsResponse } from '../dto/responses/documents.responses.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { toDocumentDeletedWire, toDocumentListWire, toDocumentWire, toTagListWire } from '../wire.mapper.js';

/**
 * Document ids may contain slashes, sent raw (`a/b`) or encoded (`a%2Fb`): the route takes the
 * rest of the path, whose segments Express has already decoded one by one.
 */
const DOCUMENT_ID = '*document_id';

@MemoryApiController('documents')
export class DocumentsController {
  constructor(
    @Inject(MemoriesService) private readonly memories: MemoriesService,
    @Inject(DocumentChunksService) private readonly chunks: DocumentChunksService,
  ) {}

  @Get('banks/:bank_id/documents')
  @ApiOperation({ operationId: 'list_documents' })
  @ApiOkResponse({ type: ListDocumentsResponse })
  async list(@Param('bank_id') bankId: string, @Query() query: ListDocumentsQuery) {
    return toDocumentListWire(
      await this.memories.listDocuments(bankId, {
        q: query.q,
        tags: query.tags,
        tagsMatch: query.tags_match,
        limit: query.limit ?? 100,
        offset: query.offset ?? 0,
      }),
    );
  }

  // Before `documents/*document_id`, which would otherwise take "<id>/chunks" for an id. A
  // document whose id itself ends in "/chunks" is still read with the slash encoded (`%2F`).
  @Get(`banks/:bank_id/documents/${DOCUMENT_ID}/chunks`)
  @ApiOperation({ operationId: 'list_document_chunks', summary: 'The chunks of the document text, by chunk index' })
  @ApiParam({ name: 'document_id', type: String })
  @ApiOkResponse({ type: ListChunksResponse })
  @ApiNotFoundResponse({ description: 'No such document' })
  async listChunks(
    @Param('bank_id') bankId: string,
    @Param('document_id') documentId: string | string[],
    @Query() query: ListChunksQuery,
  ): Promise<ListChunksResponse> {
    const page = await this.chunks.listChunks(bankId, joinSegments(documentId), { limit: query.limit ?? 100, offset: query.offset ?? 0 });
    return { items: page.items.map(ChunkResponse.of), total: page.total, limit: page.limit, offset: page.offset };
  }

  @Post(`banks/:bank_id/documents/${DOCUMENT_ID}/reprocess`)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'reprocess_document',
    summary: 'Queues a retain of the stored text that replaces the memories and chunks of the document',
  })
  @ApiParam({ name: 'document_id', type: String })
  @ApiOkResponse({ type: ReprocessDocumentResponse })
  @ApiNotFoundResponse({ description: 'No such document' })
  @ApiConflictResponse({ description: 'The document has no stored text, or a text that retain would now refuse (too long)' })
  async reprocess(
    @Param('bank_id') bankId: string,
    @Param('document_id') documentId: string | string[],
  ): Promise<ReprocessDocumentResponse> {
    const queued = await this.chunks.reprocess(bankId, joinSegments(documentId));
    return { success: true, operation_id: queued.operationId, items_count: queued.itemsCount };
  }

  @Get(`banks/:bank_id/documents/${DOCUMENT_ID}`)
  @ApiOperation({ operationId: 'get_document' })
  @ApiParam({ name: 'document_id', type: String })
  @ApiOkResponse({ type: DocumentResponse })
  async get(@Param('bank_id') bankId: string, @Param('document_id') documentId: string | string[]) {
    return toDocumentWire(await this.memories.getDocument(bankId, joinSegments(documentId)));
  }

  @Patch(`banks/:bank_id/documents/${DOCUMENT_ID}`)
  @ApiOperation({
    operationId: 'update_document',
    summary: 'Changes the tags of the document and its memories; observations built under the old tags are invalidated and rebuilt',
  })
  @ApiParam({ name: 'document_id', type: String })
  @ApiOkResponse({ type: UpdateDocumentResponse })
  @ApiBadRequestResponse({ description: 'No field to update, or a field other than tags (the only one a document update changes)' })
  @ApiNotFoundResponse({ description: 'No such document' })
  async update(
    @Param('bank_id') bankId: string,
    @Param('document_id') documentId: string | string[],
    @Body() body: UpdateDocumentRequestDto,
    @Req() request: Request,
  ): Promise<UpdateDocumentResponse> {
    // The validation pipe drops fields it does not know; a caller who sent one must hear that
    // nothing changed it, not a success.
    const unsupported = Object.keys((request.body ?? {}) as object).filter((field) => field !== 'tags');
    if (unsupported.length > 0) {
      throw new BadRequestException(
        `A document update cannot change ${unsupported.join(', ')}: tags is the only field a document update changes`,
      );
    }
    // Hindsight: at least one field must be provided.
    if (body.tags == null) throw new BadRequestException('No fields to update: provide tags');
    await this.memories.retagDocument(bankId, joinSegments(documentId), body.tags);
    return { success: true };
  }

  @Delete(`banks/:bank_id/documents/${DOCUMENT_ID}`)
  @ApiOperation({ operationId: 'delete_document', summary: 'Deletes the document and its memories' })
  @ApiParam({ name: 'document_id', type: String })
  @ApiOkResponse({ type: DeleteDocumentResponse })
  async delete(@Param('bank_id') bankId: string, @Param('document_id') documentId: string | string[]) {
    const id = joinSegments(documentId);
    return toDocumentDeletedWire(id, await this.memories.deleteDocument(bankId, id));
  }

  @Get('banks/:bank_id/tags')
  @ApiOperation({ operationId: 'list_tags' })
  @ApiOkResponse({ type: ListTagsResponse })
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
