import { BadRequestException, Delete, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { BanksService } from '../../banks/banks.service.js';
import { isUuid } from '../../storage/uuid.js';
import { OperationsService } from '../../operations/operations.service.js';
import { ListOperationsQuery, OperationStatusQuery } from '../dto/list-query.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { toOperationCancelledWire, toOperationListWire, toOperationNotFoundWire, toOperationStatusWire } from '../wire.mapper.js';

@MemoryApiController('operations')
export class OperationsController {
  constructor(
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  @Get('banks/:bank_id/operations')
  @ApiOperation({ operationId: 'list_operations', summary: 'Newest first' })
  async list(@Param('bank_id') bankId: string, @Query() query: ListOperationsQuery) {
    await this.banks.assertExists(bankId);
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const page = await this.operations.list(bankId, { status: query.status, kind: query.type, limit, offset });
    return toOperationListWire(bankId, page, limit, offset);
  }

  /** An unknown id is `200 {status: 'not_found'}`, as Hindsight answers, so pollers need no 404 path. */
  @Get('banks/:bank_id/operations/:operation_id')
  @ApiOperation({ operationId: 'get_operation_status' })
  async status(@Param('bank_id') bankId: string, @Param('operation_id') operationId: string, @Query() query: OperationStatusQuery) {
    assertUuid(operationId);
    await this.banks.assertExists(bankId);
    const operation = await this.operations.get(bankId, operationId);
    return operation ? toOperationStatusWire(operation, query.include_payload === true) : toOperationNotFoundWire(operationId);
  }

  @Delete('banks/:bank_id/operations/:operation_id')
  @ApiOperation({ operationId: 'cancel_operation', summary: 'Only pending operations can be cancelled (409 otherwise)' })
  async cancel(@Param('bank_id') bankId: string, @Param('operation_id') operationId: string) {
    assertUuid(operationId);
    await this.operations.cancel(bankId, operationId);
    return toOperationCancelledWire(operationId);
  }
}

function assertUuid(operationId: string): void {
  if (!isUuid(operationId)) throw new BadRequestException(`Invalid operation_id format: ${operationId}`);
}
