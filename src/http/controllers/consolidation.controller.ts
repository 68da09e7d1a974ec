import { HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { BanksService } from '../../banks/banks.service.js';
import { ConsolidationService } from '../../consolidation/consolidation.service.js';
import { RecoverConsolidationResponse } from '../dto/bank-maintenance.dto.js';
import { ConsolidationResponse } from '../dto/responses/consolidation.responses.js';
import { MemoryApiController } from '../memory-api.decorator.js';

@MemoryApiController('consolidation')
export class ConsolidationController {
  constructor(
    @Inject(ConsolidationService) private readonly consolidation: ConsolidationService,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  /** Any JSON body is accepted and ignored. Poll the operation for `{created, updated, deleted, skipped, failed, memories_consolidated, superseded}`. */
  @Post('banks/:bank_id/consolidate')
  @HttpCode(200)
  @ApiOperation({ operationId: 'trigger_consolidation', summary: 'Queues a consolidation of the bank (or returns the one already queued)' })
  @ApiOkResponse({ type: ConsolidationResponse })
  async consolidate(@Param('bank_id') bankId: string): Promise<ConsolidationResponse> {
    const { operationId, deduplicated } = await this.consolidation.requestConsolidation(bankId);
    return { operation_id: operationId, deduplicated };
  }

  /** Observations are kept; the memories wait for the next consolidation run, as in Hindsight. */
  @Post('banks/:bank_id/consolidation/recover')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'recover_consolidation',
    summary: 'Puts memories whose consolidation failed (or whose claim expired) back in the queue',
  })
  @ApiOkResponse({ type: RecoverConsolidationResponse })
  async recover(@Param('bank_id') bankId: string): Promise<RecoverConsolidationResponse> {
    return { retried_count: await this.banks.recoverConsolidation(bankId) };
  }
}
