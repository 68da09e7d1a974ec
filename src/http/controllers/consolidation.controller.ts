import { HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { ConsolidationService } from '../../consolidation/consolidation.service.js';
import { MemoryApiController } from '../memory-api.decorator.js';

@MemoryApiController('consolidation')
export class ConsolidationController {
  constructor(@Inject(ConsolidationService) private readonly consolidation: ConsolidationService) {}

  /** Any JSON body is accepted and ignored. Poll the operation for `{created, updated, deleted, skipped, failed, memories_consolidated, superseded}`. */
  @Post('banks/:bank_id/consolidate')
  @HttpCode(200)
  @ApiOperation({ operationId: 'trigger_consolidation', summary: 'Queues a consolidation of the bank (or returns the one already queued)' })
  async consolidate(@Param('bank_id') bankId: string) {
    const { operationId, deduplicated } = await this.consolidation.requestConsolidation(bankId);
    return { operation_id: operationId, deduplicated };
  }
}
