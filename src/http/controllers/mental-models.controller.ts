import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { MentalModelsService } from '../../mental-models/mental-models.service.js';
import {
  CreateMentalModelRequestDto,
  CreateMentalModelResponse,
  ListMentalModelsQuery,
  MentalModelDeletedResponse,
  MentalModelDetailQuery,
  MentalModelDryRunRefreshResponse,
  MentalModelHistoryEntryResponse,
  MentalModelListResponse,
  MentalModelRefreshQueuedResponse,
  MentalModelResponse,
  UpdateMentalModelRequestDto,
  toCreateMentalModel,
  toUpdateMentalModel,
} from '../dto/mental-model.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { requestSignal } from '../request-signal.js';

@MemoryApiController('mental-models')
export class MentalModelsController {
  constructor(@Inject(MentalModelsService) private readonly models: MentalModelsService) {}

  @Get('banks/:bank_id/mental-models')
  @ApiOperation({ operationId: 'list_mental_models' })
  @ApiOkResponse({ type: MentalModelListResponse })
  async list(@Param('bank_id') bankId: string, @Query() query: ListMentalModelsQuery): Promise<MentalModelListResponse> {
    const models = await this.models.list(bankId, {
      tags: query.tags,
      tagsMatch: query.tags_match,
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
    return { items: models.map((model) => MentalModelResponse.of(model, query.detail)) };
  }

  @Post('banks/:bank_id/mental-models')
  @HttpCode(200)
  @ApiOperation({ operationId: 'create_mental_model', summary: 'Creates the model and queues its first refresh' })
  @ApiOkResponse({ type: CreateMentalModelResponse })
  async create(@Param('bank_id') bankId: string, @Body() body: CreateMentalModelRequestDto): Promise<CreateMentalModelResponse> {
    const created = await this.models.create(bankId, toCreateMentalModel(body));
    return { mental_model_id: created.mentalModelId, operation_id: created.operationId };
  }

  /** `is_stale` only here, at detail=full, as Hindsight: it costs a query a list would repeat per model. */
  @Get('banks/:bank_id/mental-models/:mental_model_id')
  @ApiOperation({ operationId: 'get_mental_model' })
  @ApiOkResponse({ type: MentalModelResponse })
  async get(
    @Param('bank_id') bankId: string,
    @Param('mental_model_id') id: string,
    @Query() query: MentalModelDetailQuery,
  ): Promise<MentalModelResponse> {
    const detail = query.detail ?? 'full';
    if (detail !== 'full') return MentalModelResponse.of(await this.models.get(bankId, id), detail);
    const { model, isStale } = await this.models.getWithStaleness(bankId, id);
    return MentalModelResponse.of(model, detail, isStale);
  }

  @Patch('banks/:bank_id/mental-models/:mental_model_id')
  @ApiOperation({ operationId: 'update_mental_model' })
  @ApiOkResponse({ type: MentalModelResponse })
  async update(
    @Param('bank_id') bankId: string,
    @Param('mental_model_id') id: string,
    @Body() body: UpdateMentalModelRequestDto,
  ): Promise<MentalModelResponse> {
    return MentalModelResponse.of(await this.models.update(bankId, id, toUpdateMentalModel(body)));
  }

  @Delete('banks/:bank_id/mental-models/:mental_model_id')
  @ApiOperation({ operationId: 'delete_mental_model' })
  @ApiOkResponse({ type: MentalModelDeletedResponse })
  async delete(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string): Promise<MentalModelDeletedResponse> {
    await this.models.delete(bankId, id);
    return { status: 'deleted' };
  }

  @Post('banks/:bank_id/mental-models/:mental_model_id/refresh')
  @HttpCode(200)
  @ApiOperation({ operationId: 'refresh_mental_model', summary: 'Queues a refresh; poll the operation' })
  @ApiOkResponse({ type: MentalModelRefreshQueuedResponse })
  async refresh(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string): Promise<MentalModelRefreshQueuedResponse> {
    return { operation_id: await this.models.refresh(bankId, id), status: 'queued' };
  }

  @Get('banks/:bank_id/mental-models/:mental_model_id/history')
  @ApiOperation({ operationId: 'get_mental_model_history', summary: 'Content changes (refreshes and clears), newest first' })
  @ApiOkResponse({ type: MentalModelHistoryEntryResponse, isArray: true })
  async history(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string): Promise<MentalModelHistoryEntryResponse[]> {
    return (await this.models.history(bankId, id)).map(MentalModelHistoryEntryResponse.of);
  }

  @Post('banks/:bank_id/mental-models/:mental_model_id/dry-run-refresh')
  @HttpCode(200)
  @ApiOperation({ operationId: 'dry_run_refresh_mental_model', summary: 'What a refresh would write now; nothing is stored' })
  @ApiOkResponse({ type: MentalModelDryRunRefreshResponse })
  async dryRunRefresh(
    @Param('bank_id') bankId: string,
    @Param('mental_model_id') id: string,
    @Req() request: Request,
  ): Promise<MentalModelDryRunRefreshResponse> {
    return MentalModelDryRunRefreshResponse.of(await this.models.dryRunRefresh(bankId, id, requestSignal(request)));
  }

  @Post('banks/:bank_id/mental-models/:mental_model_id/clear')
  @HttpCode(200)
  @ApiOperation({ operationId: 'clear_mental_model', summary: 'Empties the content so the next refresh starts from scratch' })
  @ApiOkResponse({ type: MentalModelResponse })
  async clear(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string): Promise<MentalModelResponse> {
    return MentalModelResponse.of(await this.models.clear(bankId, id));
  }
}
