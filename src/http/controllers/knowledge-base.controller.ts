import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { KnowledgeBaseService } from '../../knowledge-base/knowledge-base.service.js';
import {
  CreateKnowledgeFolderRequestDto,
  CreateKnowledgePageRequestDto,
  CreateKnowledgePageResponse,
  KnowledgeNodeDeletedResponse,
  KnowledgeNodeResponse,
  KnowledgePageBundleResponse,
  KnowledgePageResponse,
  KnowledgePageSearchResponse,
  KnowledgePageSearchResultResponse,
  KnowledgeTreeResponse,
  SearchKnowledgeBaseQuery,
  UpdateKnowledgeNodeRequestDto,
  toCreateKnowledgePage,
  toUpdateKnowledgeNode,
} from '../dto/knowledge-base.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { requestSignal } from '../request-signal.js';

/**
 * Hindsight's Knowledge Base routes. The static paths (`tree`, `folders`, `pages`, `export`,
 * `search`) are declared before `pages/:page_id` and `nodes/:node_id`.
 */
@MemoryApiController('knowledge-base')
export class KnowledgeBaseController {
  constructor(@Inject(KnowledgeBaseService) private readonly knowledgeBase: KnowledgeBaseService) {}

  @Get('banks/:bank_id/knowledge-base/tree')
  @ApiOperation({ operationId: 'get_knowledge_base_tree', summary: 'Folders and pages as a tree; pages say whether they are stale' })
  @ApiOkResponse({ type: KnowledgeTreeResponse })
  async tree(@Param('bank_id') bankId: string): Promise<KnowledgeTreeResponse> {
    return { roots: (await this.knowledgeBase.tree(bankId)).map(KnowledgeNodeResponse.of) };
  }

  @Post('banks/:bank_id/knowledge-base/folders')
  @HttpCode(201)
  @ApiOperation({ operationId: 'create_knowledge_folder' })
  @ApiCreatedResponse({ type: KnowledgeNodeResponse })
  async createFolder(@Param('bank_id') bankId: string, @Body() body: CreateKnowledgeFolderRequestDto): Promise<KnowledgeNodeResponse> {
    return KnowledgeNodeResponse.of(await this.knowledgeBase.createFolder(bankId, body.name, body.parent_id ?? null));
  }

  @Post('banks/:bank_id/knowledge-base/pages')
  @HttpCode(201)
  @ApiOperation({ operationId: 'create_knowledge_page', summary: 'Creates the page and its mental model, and queues its first refresh' })
  @ApiCreatedResponse({ type: CreateKnowledgePageResponse })
  async createPage(@Param('bank_id') bankId: string, @Body() body: CreateKnowledgePageRequestDto): Promise<CreateKnowledgePageResponse> {
    const created = await this.knowledgeBase.createPage(bankId, toCreateKnowledgePage(body));
    return { page_id: created.pageId, mental_model_id: created.mentalModelId, operation_id: created.operationId };
  }

  @Get('banks/:bank_id/knowledge-base/export')
  @ApiOperation({ operationId: 'export_knowledge_base', summary: 'index.md, one <id>.md per page and <id>.log.md for its history' })
  @ApiOkResponse({ type: KnowledgePageBundleResponse })
  async export(@Param('bank_id') bankId: string): Promise<KnowledgePageBundleResponse> {
    return KnowledgePageBundleResponse.of(await this.knowledgeBase.exportBundle(bankId));
  }

  @Get('banks/:bank_id/knowledge-base/search')
  @ApiOperation({ operationId: 'search_knowledge_base', summary: 'Full-text and vector search over the pages, fused by reciprocal rank' })
  @ApiOkResponse({ type: KnowledgePageSearchResponse })
  async search(
    @Param('bank_id') bankId: string,
    @Query() query: SearchKnowledgeBaseQuery,
    @Req() request: Request,
  ): Promise<KnowledgePageSearchResponse> {
    const hits = await this.knowledgeBase.search(bankId, query.q, query.limit ?? 10, requestSignal(request));
    return { results: hits.map(KnowledgePageSearchResultResponse.of), total: hits.length };
  }

  @Get('banks/:bank_id/knowledge-base/pages/:page_id')
  @ApiOperation({ operationId: 'get_knowledge_page', summary: 'The page as a markdown document (frontmatter and body)' })
  @ApiOkResponse({ type: KnowledgePageResponse })
  async page(@Param('bank_id') bankId: string, @Param('page_id') pageId: string): Promise<KnowledgePageResponse> {
    return KnowledgePageResponse.of(await this.knowledgeBase.getPage(bankId, pageId));
  }

  @Patch('banks/:bank_id/knowledge-base/nodes/:node_id')
  @ApiOperation({ operationId: 'update_knowledge_node', summary: 'Rename, move, and a page’s options; all or nothing' })
  @ApiOkResponse({ type: KnowledgeNodeResponse })
  async update(
    @Param('bank_id') bankId: string,
    @Param('node_id') nodeId: string,
    @Body() body: UpdateKnowledgeNodeRequestDto,
  ): Promise<KnowledgeNodeResponse> {
    return KnowledgeNodeResponse.of(await this.knowledgeBase.update(bankId, nodeId, toUpdateKnowledgeNode(body)));
  }

  @Delete('banks/:bank_id/knowledge-base/nodes/:node_id')
  @ApiOperation({ operationId: 'delete_knowledge_node', summary: 'The node, its subtree and the mental models of its pages' })
  @ApiOkResponse({ type: KnowledgeNodeDeletedResponse })
  async delete(@Param('bank_id') bankId: string, @Param('node_id') nodeId: string): Promise<KnowledgeNodeDeletedResponse> {
    await this.knowledgeBase.delete(bankId, nodeId);
    return { status: 'deleted' };
  }
}
