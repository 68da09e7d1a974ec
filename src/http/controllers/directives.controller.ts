import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { DirectivesService } from '../../directives/directives.service.js';
import {
  CreateDirectiveRequestDto,
  DirectiveDeletedResponse,
  DirectiveListResponse,
  DirectiveResponse,
  ListDirectivesQuery,
  UpdateDirectiveRequestDto,
} from '../dto/directive.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';

@MemoryApiController('directives')
export class DirectivesController {
  constructor(@Inject(DirectivesService) private readonly directives: DirectivesService) {}

  @Get('banks/:bank_id/directives')
  @ApiOperation({ operationId: 'list_directives' })
  @ApiOkResponse({ type: DirectiveListResponse })
  async list(@Param('bank_id') bankId: string, @Query() query: ListDirectivesQuery): Promise<DirectiveListResponse> {
    const directives = await this.directives.list(bankId, {
      tags: query.tags ?? [],
      tagsMatch: query.tags_match ?? 'any',
      activeOnly: query.active_only ?? true,
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
    return { items: directives.map(DirectiveResponse.of) };
  }

  @Post('banks/:bank_id/directives')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'create_directive',
    summary: 'Active directives are put into every reflect and mental-model prompt in their scope',
  })
  @ApiOkResponse({ type: DirectiveResponse })
  async create(@Param('bank_id') bankId: string, @Body() body: CreateDirectiveRequestDto): Promise<DirectiveResponse> {
    const directive = await this.directives.create(bankId, {
      name: body.name,
      content: body.content,
      priority: body.priority ?? undefined,
      isActive: body.is_active ?? undefined,
      tags: body.tags ?? undefined,
    });
    return DirectiveResponse.of(directive);
  }

  @Get('banks/:bank_id/directives/:directive_id')
  @ApiOperation({ operationId: 'get_directive' })
  @ApiOkResponse({ type: DirectiveResponse })
  async get(@Param('bank_id') bankId: string, @Param('directive_id') id: string): Promise<DirectiveResponse> {
    return DirectiveResponse.of(await this.directives.get(bankId, id));
  }

  @Patch('banks/:bank_id/directives/:directive_id')
  @ApiOperation({ operationId: 'update_directive' })
  @ApiOkResponse({ type: DirectiveResponse })
  async update(
    @Param('bank_id') bankId: string,
    @Param('directive_id') id: string,
    @Body() body: UpdateDirectiveRequestDto,
  ): Promise<DirectiveResponse> {
    const directive = await this.directives.update(bankId, id, {
      name: body.name ?? undefined,
      content: body.content ?? undefined,
      priority: body.priority ?? undefined,
      isActive: body.is_active ?? undefined,
      tags: body.tags ?? undefined,
    });
    return DirectiveResponse.of(directive);
  }

  @Delete('banks/:bank_id/directives/:directive_id')
  @ApiOperation({ operationId: 'delete_directive' })
  @ApiOkResponse({ type: DirectiveDeletedResponse })
  async delete(@Param('bank_id') bankId: string, @Param('directive_id') id: string): Promise<DirectiveDeletedResponse> {
    await this.directives.delete(bankId, id);
    return { status: 'deleted' };
  }
}
