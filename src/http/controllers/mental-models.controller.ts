import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { MentalModelsService } from '../../mental-models/mental-models.service.js';
import {
  CreateMentalModelRequestDto,
  ListMentalModelsQuery,
  MentalModelDetailQuery,
  UpdateMentalModelRequestDto,
} from '../dto/mental-model.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import {
  toCreateMentalModel,
  toMentalModelCreatedWire,
  toMentalModelListWire,
  toMentalModelWire,
  toOperationQueuedWire,
  toUpdateMentalModel,
} from '../wire.mapper.js';

@MemoryApiController('mental-models')
export class MentalModelsController {
  constructor(@Inject(MentalModelsService) private readonly models: MentalModelsService) {}

  @Get('banks/:bank_id/mental-models')
  @ApiOperation({ operationId: 'list_mental_models' })
  async list(@Param('bank_id') bankId: string, @Query() query: ListMentalModelsQuery) {
    const models = await this.models.list(bankId, {
      tags: query.tags,
      tagsMatch: query.tags_match,
      limit: query.limit ?? 100,
      offset: query.offset ?? 0,
    });
    return toMentalModelListWire(models, query.detail);
  }

  @Post('banks/:bank_id/mental-models')
  @HttpCode(200)
  @ApiOperation({ operationId: 'create_mental_model', summary: 'Creates the model and queues its first refresh' })
  async create(@Param('bank_id') bankId: string, @Body() body: CreateMentalModelRequestDto) {
    return toMentalModelCreatedWire(await this.models.create(bankId, toCreateMentalModel(body)));
  }

  @Get('banks/:bank_id/mental-models/:mental_model_id')
  @ApiOperation({ operationId: 'get_mental_model' })
  async get(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string, @Query() query: MentalModelDetailQuery) {
    return toMentalModelWire(await this.models.get(bankId, id), query.detail);
  }

  @Patch('banks/:bank_id/mental-models/:mental_model_id')
  @ApiOperation({ operationId: 'update_mental_model' })
  async update(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string, @Body() body: UpdateMentalModelRequestDto) {
    return toMentalModelWire(await this.models.update(bankId, id, toUpdateMentalModel(body)));
  }

  @Delete('banks/:bank_id/mental-models/:mental_model_id')
  @ApiOperation({ operationId: 'delete_mental_model' })
  async delete(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string) {
    await this.models.delete(bankId, id);
    return { status: 'deleted' };
  }

  @Post('banks/:bank_id/mental-models/:mental_model_id/refresh')
  @HttpCode(200)
  @ApiOperation({ operationId: 'refresh_mental_model', summary: 'Queues a refresh; poll the operation' })
  async refresh(@Param('bank_id') bankId: string, @Param('mental_model_id') id: string) {
    return toOperationQueuedWire(await this.models.refresh(bankId, id));
  }
}
