import { BadRequestException, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { BanksService } from '../../banks/banks.service.js';
import { isUuid } from '../../storage/uuid.js';
import { OperationsService } from '../../operations/operations.service.js';
import { ListOperationsQuery, OperationStatusQuery } from '../dto/list-query.dto.js';
import {
  OperationActionResponse,
  OperationStatusResponse,
  OperationsListResponse,
  toOperationActionResponse,
  toOperationNotFoundResponse,
  toOperationStatusResponse,
  toOperationsListResponse,
} from '../dto/operation.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';

@MemoryApiController('operations')
export class OperationsController {
  constructor(
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  @Get('banks/:bank_id/operations')
  @ApiOperation({ operationId: 'list_operations', summary: 'Newest first' })
  @ApiOkResponse({ type: OperationsListResponse })
  async list(@Param('bank_id') bankId: string, @Query() query: ListOperationsQuery): Promise<OperationsListResponse> {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const page = await this.operations.list(bankId, { status: query.status, kind: query.type, limit, offset });
    return toOperationsListResponse(bankId, page, limit, offset);
  }

  /** An unknown id is `200 {status: 'not_found'}`, as Hindsight answers, so pollers need no 404 path. */
  @Get('banks/:bank_id/operations/:operation_id')
  @ApiOperation({ operationId: 'get_operation_status' })
  @ApiOkResponse({ type: OperationStatusResponse })
  async status(
    @Param('bank_id') bankId: string,
    @Param('operation_id') operationId: string,
    @Query() query: OperationStatusQuery,
  ): Promise<OperationStatusResponse> {
    assertUuid(operationId);
    await this.banks.assertExists(bankId);
    const operation = await this.operations.get(bankId, operationId);
    return operation ? toOperationStatusResponse(operation, query.include_payload === true) : toOperationNotFoundResponse(operationId);
  }

  @Delete('banks/:bank_id/operations/:operation_id')
  @ApiOperation({ operationId: 'cancel_operation', summary: 'Only pending operations can be cancelled (409 otherwise)' })
  @ApiOkResponse({ type: OperationActionResponse })
  async cancel(@Param('bank_id') bankId: string, @Param('operation_id') operationId: string): Promise<OperationActionResponse> {
    assertUuid(operationId);
    await this.operations.cancel(bankId, operationId);
    return toOperationActionResponse(operationId, 'cancelled');
  }

  /** The worker finds it at its next poll; the attempts it spent before are forgotten. */
  @Post('banks/:bank_id/operations/:operation_id/retry')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'retry_operation',
    summary: 'Re-queues a failed or cancelled operation (409 for any other status, 404 if unknown)',
  })
  @ApiOkResponse({ type: OperationActionResponse })
  async retry(@Param('bank_id') bankId: string, @Param('operation_id') operationId: string): Promise<OperationActionResponse> {
    assertUuid(operationId);
    await this.banks.assertExists(bankId);
    await this.operations.retry(bankId, operationId);
    return toOperationActionResponse(operationId, 'queued for retry');
  }

  @Delete('banks/:bank_id/operations/:operation_id/delete')
  @ApiOperation({
    operationId: 'delete_operation',
    summary: 'Removes a failed, cancelled or completed operation record (409 while pending or processing, 404 if unknown)',
  })
  @ApiOkResponse({ type: OperationActionResponse })
  async delete(@Param('bank_id') bankId: string, @Param('operation_id') operationId: string): Promise<OperationActionResponse> {
    assertUuid(operationId);
    await this.banks.assertExists(bankId);
    await this.operations.delete(bankId, operationId);
    return toOperationActionResponse(operationId, 'deleted');
  }
}

function assertUuid(operationId: string): void {
  if (!isUuid(operationId)) throw new BadRequestException(`Invalid operation_id format: ${operationId}`);
}
