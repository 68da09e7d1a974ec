import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { BanksService } from '../../banks/banks.service.js';
import {
  AddBackgroundRequestDto,
  BackgroundResponse,
  BankLlmHealthResponse,
  DeleteResponse,
  toBackgroundResponse,
  toBankLlmHealthResponse,
} from '../dto/bank-maintenance.dto.js';
import { BankConfigUpdateDto, CreateBankRequestDto, UpdateDispositionRequestDto } from '../dto/bank.dto.js';
import { BankConfigResponse, BankListResponse, BankProfileResponse, BankStatsResponse } from '../dto/responses/banks.responses.js';
import { StatsQuery } from '../dto/list-query.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { requestSignal } from '../request-signal.js';
import { toBankConfigWire, toBankDeletedWire, toBankListWire, toBankProfileWire, toBankStatsWire, toBankUpdate } from '../wire.mapper.js';

@MemoryApiController('banks')
export class BanksController {
  constructor(@Inject(BanksService) private readonly banks: BanksService) {}

  @Get('banks')
  @ApiOperation({ operationId: 'list_banks' })
  @ApiOkResponse({ type: BankListResponse })
  async list() {
    return toBankListWire(await this.banks.list());
  }

  @Put('banks/:bank_id')
  @ApiOperation({ operationId: 'create_or_update_bank', summary: 'Creates the bank if missing; applies the fields given' })
  @ApiOkResponse({ type: BankProfileResponse })
  async createOrUpdate(@Param('bank_id') bankId: string, @Body() body: CreateBankRequestDto) {
    return toBankProfileWire(await this.banks.upsert(bankId, toBankUpdate(body)));
  }

  @Patch('banks/:bank_id')
  @ApiOperation({ operationId: 'update_bank', summary: 'Like PUT, but 404 for a missing bank' })
  @ApiOkResponse({ type: BankProfileResponse })
  async update(@Param('bank_id') bankId: string, @Body() body: CreateBankRequestDto) {
    return toBankProfileWire(await this.banks.update(bankId, toBankUpdate(body)));
  }

  @Delete('banks/:bank_id')
  @ApiOperation({ operationId: 'delete_bank' })
  @ApiOkResponse({ type: DeleteResponse })
  async delete(@Param('bank_id') bankId: string) {
    return toBankDeletedWire(bankId, await this.banks.delete(bankId));
  }

  @Get('banks/:bank_id/profile')
  @ApiOperation({ operationId: 'get_bank_profile' })
  @ApiOkResponse({ type: BankProfileResponse })
  async profile(@Param('bank_id') bankId: string) {
    return toBankProfileWire(await this.banks.profile(bankId));
  }

  @Put('banks/:bank_id/profile')
  @ApiOperation({ operationId: 'update_bank_disposition' })
  @ApiOkResponse({ type: BankProfileResponse })
  async updateDisposition(@Param('bank_id') bankId: string, @Body() body: UpdateDispositionRequestDto) {
    const { skepticism, literalism, empathy } = body.disposition;
    return toBankProfileWire(await this.banks.upsert(bankId, { disposition: { skepticism, literalism, empathy } }));
  }

  @Get('banks/:bank_id/stats')
  @ApiOperation({ operationId: 'get_agent_stats' })
  @ApiOkResponse({ type: BankStatsResponse })
  async stats(@Param('bank_id') bankId: string, @Query() query: StatsQuery) {
    void query;
    return toBankStatsWire(await this.banks.stats(bankId));
  }

  @Get('banks/:bank_id/config')
  @ApiOperation({ operationId: 'get_bank_config' })
  @ApiOkResponse({ type: BankConfigResponse })
  async config(@Param('bank_id') bankId: string) {
    return toBankConfigWire(await this.banks.config(bankId));
  }

  @Patch('banks/:bank_id/config')
  @ApiOperation({ operationId: 'update_bank_config' })
  @ApiOkResponse({ type: BankConfigResponse })
  async updateConfig(@Param('bank_id') bankId: string, @Body() body: BankConfigUpdateDto) {
    return toBankConfigWire(await this.banks.updateConfig(bankId, body.updates));
  }

  @Delete('banks/:bank_id/config')
  @ApiOperation({ operationId: 'reset_bank_config' })
  @ApiOkResponse({ type: BankConfigResponse })
  async resetConfig(@Param('bank_id') bankId: string) {
    return toBankConfigWire(await this.banks.resetConfig(bankId));
  }

  @Post('banks/:bank_id/background')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'add_bank_background',
    deprecated: true,
    summary: 'Appends the content to the bank mission (404 for a missing bank)',
  })
  @ApiOkResponse({ type: BackgroundResponse })
  async addBackground(@Param('bank_id') bankId: string, @Body() body: AddBackgroundRequestDto): Promise<BackgroundResponse> {
    return toBackgroundResponse(await this.banks.addBackground(bankId, body.content));
  }

  @Delete('banks/:bank_id/observations')
  @ApiOperation({
    operationId: 'clear_observations',
    summary: 'Deletes every observation; the memories are consolidated again on the next run',
  })
  @ApiOkResponse({ type: DeleteResponse })
  async clearObservations(@Param('bank_id') bankId: string): Promise<DeleteResponse> {
    const deleted = await this.banks.clearObservations(bankId);
    return { success: true, message: `Cleared ${deleted} observations`, deleted_count: deleted };
  }

  /** Makes a real provider call: a deliberate check, not something to poll. */
  @Post('banks/:bank_id/health/llm')
  @HttpCode(200)
  @ApiOperation({ operationId: 'test_bank_llm', summary: 'Probes the configured LLM once; not_configured without one' })
  @ApiOkResponse({ type: BankLlmHealthResponse })
  async testLlm(@Param('bank_id') bankId: string, @Req() request: Request): Promise<BankLlmHealthResponse> {
    return toBankLlmHealthResponse(bankId, await this.banks.probeLlm(bankId, requestSignal(request)));
  }
}
