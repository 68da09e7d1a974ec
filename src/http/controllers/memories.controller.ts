import { BadRequestException, Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { DocumentChunksService } from '../../documents/document-chunks.service.js';
import { MemoriesService } from '../../memories/memories.service.js';
import { MemoryEditService } from '../../memories/memory-edit.service.js';
import { RecallService } from '../../recall/recall.service.js';
import { RetainService } from '../../retain/retain.service.js';
import { parseIsoTimestamp } from '../dto/coercions.js';
import { ClearMemoriesQuery, ListMemoriesQuery } from '../dto/list-query.dto.js';
import { UpdateMemoryRequestDto } from '../dto/memory-edit.dto.js';
import {
  ClearMemoryObservationsResponse,
  DryRunExtractRequestDto,
  DryRunExtractionResponse,
  ObservationHistoryEntryResponse,
  ObservationScopesResponse,
  UNSUPPORTED_DRY_RUN_OVERRIDES,
  toDryRunExtractionResponse,
  toObservationHistoryResponse,
  toObservationScopesResponse,
} from '../dto/memory-maintenance.dto.js';
import { RecallRequestDto } from '../dto/recall.dto.js';
import { DeleteResponse } from '../dto/bank-maintenance.dto.js';
import { ListMemoryUnitsResponse, MemoryResponse, RecallResponse, RetainResponse } from '../dto/responses/memories.responses.js';
import { RetainRequestDto } from '../dto/retain.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { toIncludeRequest, withRecallIncludes } from '../recall-includes.wire.js';
import { isUuid } from '../../storage/uuid.js';
import { requestSignal } from '../request-signal.js';
import {
  toEditedMemoryWire,
  toMemoryEdit,
  toMemoryListWire,
  toMemoryWire,
  toRecallRequest,
  toRecallWire,
  toRetainRequest,
  toRetainWire,
} from '../wire.mapper.js';

@MemoryApiController('memories')
export class MemoriesController {
  constructor(
    @Inject(RetainService) private readonly retainer: RetainService,
    @Inject(RecallService) private readonly recaller: RecallService,
    @Inject(MemoriesService) private readonly memories: MemoriesService,
    @Inject(MemoryEditService) private readonly editor: MemoryEditService,
    @Inject(DocumentChunksService) private readonly documents: DocumentChunksService,
  ) {}

  @Post('banks/:bank_id/memories')
  @HttpCode(200)
  @ApiOperation({ operationId: 'retain_memories', summary: 'Retain (sync, or async with an operation to poll)' })
  @ApiOkResponse({ type: RetainResponse })
  async retain(@Param('bank_id') bankId: string, @Body() body: RetainRequestDto, @Req() request: Request) {
    return toRetainWire(await this.retainer.retain(bankId, toRetainRequest(body), requestSignal(request)));
  }

  @Post('banks/:bank_id/memories/recall')
  @HttpCode(200)
  @ApiOperation({ operationId: 'recall_memories' })
  @ApiOkResponse({ type: RecallResponse })
  async recall(@Param('bank_id') bankId: string, @Body() body: RecallRequestDto, @Req() request: Request) {
    let queryTimestamp: Date | undefined;
    if (body.query_timestamp != null) {
      queryTimestamp = parseIsoTimestamp(body.query_timestamp) ?? undefined;
      if (!queryTimestamp) throw new BadRequestException(`Invalid query_timestamp: ${body.query_timestamp}`);
    }
    // The bank's existence is checked by recall itself, on the connection its arms use.
    const recallRequest = toRecallRequest(bankId, body, queryTimestamp);
    const outcome = await this.recaller.recall(recallRequest, requestSignal(request));
    const wire = toRecallWire(outcome, body.min_scores) as Parameters<typeof withRecallIncludes>[0];
    const shown = new Set(wire.results.map((result) => result.id));
    const includes = await this.documents.recallIncludes(
      recallRequest,
      { ...outcome, results: outcome.results.filter((memory) => shown.has(memory.id)) },
      toIncludeRequest(body.include),
    );
    return withRecallIncludes(wire, includes);
  }

  // Before `memories/:memory_id`, which would otherwise take "list" for an id.
  @Get('banks/:bank_id/memories/list')
  @ApiOperation({ operationId: 'list_memories' })
  @ApiOkResponse({ type: ListMemoryUnitsResponse })
  async list(@Param('bank_id') bankId: string, @Query() query: ListMemoriesQuery) {
    const page = await this.memories.list(bankId, {
      type: query.type,
      q: query.q,
      documentId: query.document_id,
      state: query.state,
      consolidationState: query.consolidation_state,
      entityId: query.entity_id,
      tags: query.tags,
      tagsMatch: query.tags_match,
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
    return toMemoryListWire(page);
  }

  @Get('banks/:bank_id/memories/:memory_id')
  @ApiOperation({ operationId: 'get_memory' })
  @ApiOkResponse({ type: MemoryResponse })
  async get(@Param('bank_id') bankId: string, @Param('memory_id') memoryId: string) {
    return toMemoryWire(await this.memories.get(bankId, memoryId));
  }

  @Patch('banks/:bank_id/memories/:memory_id')
  @ApiOperation({ operationId: 'update_memory', summary: 'Edits or invalidates a world/experience memory' })
  @ApiOkResponse({ type: MemoryResponse, description: 'The memory as GET answers it, with the stamps of the edit' })
  async update(
    @Param('bank_id') bankId: string,
    @Param('memory_id') memoryId: string,
    @Body() body: UpdateMemoryRequestDto,
    @Req() request: Request,
  ) {
    return toEditedMemoryWire(await this.editor.edit(bankId, memoryId, toMemoryEdit(body), requestSignal(request)));
  }

  /** Nothing is stored and nothing resolved: the candidate facts retain would write, as extracted now. */
  @Post('banks/:bank_id/memories/dry-run-extract')
  @HttpCode(200)
  @ApiOperation({ operationId: 'dry_run_extract_memories', summary: 'What retain would extract from the content; nothing is stored' })
  @ApiOkResponse({ type: DryRunExtractionResponse })
  async dryRunExtract(
    @Param('bank_id') bankId: string,
    @Body() body: DryRunExtractRequestDto,
    @Req() request: Request,
  ): Promise<DryRunExtractionResponse> {
    for (const unsupported of UNSUPPORTED_DRY_RUN_OVERRIDES) {
      if (body[unsupported] != null) throw new BadRequestException(`The dry-run override ${unsupported} is not supported by this server`);
    }
    const timestamp = body.timestamp == null ? new Date() : parseIsoTimestamp(body.timestamp);
    if (!timestamp) throw new BadRequestException(`Invalid timestamp: ${body.timestamp}`);
    const facts = await this.memories.dryRunExtract(
      bankId,
      { content: body.content, context: body.context || null, timestamp, entities: [] },
      requestSignal(request),
    );
    return toDryRunExtractionResponse(facts);
  }

  @Get('banks/:bank_id/memories/:memory_id/history')
  @ApiOperation({
    operationId: 'get_observation_history',
    summary: "An observation's changes, oldest first, each with the sources it had after, resolved to their text",
  })
  @ApiOkResponse({ type: [ObservationHistoryEntryResponse] })
  async observationHistory(
    @Param('bank_id') bankId: string,
    @Param('memory_id') memoryId: string,
  ): Promise<ObservationHistoryEntryResponse[]> {
    // Hindsight answers a malformed id with 400 here, where other memory routes say 404.
    if (!isUuid(memoryId)) throw new BadRequestException(`Invalid memory_id: '${memoryId}' is not a valid UUID`);
    return toObservationHistoryResponse(await this.memories.observationHistory(bankId, memoryId));
  }

  @Delete('banks/:bank_id/memories/:memory_id/observations')
  @ApiOperation({
    operationId: 'clear_memory_observations',
    summary: 'Deletes the observations built on a memory and queues its consolidation again; the memory stays',
  })
  @ApiOkResponse({ type: ClearMemoryObservationsResponse })
  async clearMemoryObservations(
    @Param('bank_id') bankId: string,
    @Param('memory_id') memoryId: string,
  ): Promise<ClearMemoryObservationsResponse> {
    return { deleted_count: await this.memories.clearMemoryObservations(bankId, memoryId) };
  }

  @Get('banks/:bank_id/observations/scopes')
  @ApiOperation({ operationId: 'list_observation_scopes', summary: "The exact tag sets of the bank's observations, most populous first" })
  @ApiOkResponse({ type: ObservationScopesResponse })
  async observationScopes(@Param('bank_id') bankId: string): Promise<ObservationScopesResponse> {
    return toObservationScopesResponse(await this.memories.observationScopes(bankId));
  }

  @Delete('banks/:bank_id/memories')
  @ApiOperation({ operationId: 'clear_bank_memories', summary: 'Deletes memories (of one type, or all); keeps the bank' })
  @ApiOkResponse({ type: DeleteResponse })
  async clear(@Param('bank_id') bankId: string, @Query() query: ClearMemoriesQuery): Promise<DeleteResponse> {
    await this.memories.clear(bankId, query.type);
    // Hindsight 0.9.1 answers this one with neither message nor count, unlike its other deletes.
    return { success: true };
  }
}
