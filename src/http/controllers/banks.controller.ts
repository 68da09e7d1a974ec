import { Body, Delete, Get, Inject, Param, Patch, Put, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { BanksService } from '../../banks/banks.service.js';
import { BankConfigUpdateDto, CreateBankRequestDto, UpdateDispositionRequestDto } from '../dto/bank.dto.js';
import { StatsQuery } from '../dto/list-query.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { toBankConfigWire, toBankDeletedWire, toBankListWire, toBankProfileWire, toBankStatsWire, toBankUpdate } from '../wire.mapper.js';

@MemoryApiController('banks')
export class BanksController {
  constructor(@Inject(BanksService) private readonly banks: BanksService) {}

  @Get('banks')
  @ApiOperation({ operationId: 'list_banks' })
  async list() {
    return toBankListWire(await this.banks.list());
  }

  @Put('banks/:bank_id')
  @ApiOperation({ operationId: 'create_or_update_bank', summary: 'Creates the bank if missing; applies the fields given' })
  async createOrUpdate(@Param('bank_id') bankId: string, @Body() body: CreateBankRequestDto) {
    return toBankProfileWire(await this.banks.upsert(bankId, toBankUpdate(body)));
  }

  @Patch('banks/:bank_id')
  @ApiOperation({ operationId: 'update_bank', summary: 'Like PUT, but 404 for a missing bank' })
  async update(@Param('bank_id') bankId: string, @Body() body: CreateBankRequestDto) {
    return toBankProfileWire(await this.banks.update(bankId, toBankUpdate(body)));
  }

  @Delete('banks/:bank_id')
  @ApiOperation({ operationId: 'delete_bank' })
  async delete(@Param('bank_id') bankId: string) {
    return toBankDeletedWire(bankId, await this.banks.delete(bankId));
  }

  @Get('banks/:bank_id/profile')
  @ApiOperation({ operationId: 'get_bank_profile' })
  async profile(@Param('bank_id') bankId: string) {
    return toBankProfileWire(await this.banks.profile(bankId));
  }

  @Put('banks/:bank_id/profile')
  @ApiOperation({ operationId: 'update_bank_disposition' })
  async updateDisposition(@Param('bank_id') bankId: string, @Body() body: UpdateDispositionRequestDto) {
    const { skepticism, literalism, empathy } = body.disposition;
    return toBankProfileWire(await this.banks.upsert(bankId, { disposition: { skepticism, literalism, empathy } }));
  }

  @Get('banks/:bank_id/stats')
  @ApiOperation({ operationId: 'get_agent_stats' })
  async stats(@Param('bank_id') bankId: string, @Query() query: StatsQuery) {
    void query;
    return toBankStatsWire(await this.banks.stats(bankId));
  }

  @Get('banks/:bank_id/config')
  @ApiOperation({ operationId: 'get_bank_config' })
  async config(@Param('bank_id') bankId: string) {
    return toBankConfigWire(await this.banks.config(bankId));
  }

  @Patch('banks/:bank_id/config')
  @ApiOperation({ operationId: 'update_bank_config' })
  async updateConfig(@Param('bank_id') bankId: string, @Body() body: BankConfigUpdateDto) {
    return toBankConfigWire(await this.banks.updateConfig(bankId, body.updates));
  }

  @Delete('banks/:bank_id/config')
  @ApiOperation({ operationId: 'reset_bank_config' })
  async resetConfig(@Param('bank_id') bankId: string) {
    return toBankConfigWire(await this.banks.resetConfig(bankId));
  }
}
