import { Get, Inject, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { LlmTraceService } from '../../llm-traces/llm-trace.service.js';
import {
  ListLlmRequestsQuery,
  LlmRequestListResponse,
  LlmRequestStatsQuery,
  LlmRequestStatsResponse,
  parseQueryDate,
  toLlmRequestListResponse,
  toLlmRequestStatsResponse,
} from '../dto/llm-request.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';

/** Hindsight's "LLM Traces": what each LLM call of a bank was asked, answered and cost. */
@MemoryApiController('LLM Traces')
export class LlmRequestsController {
  constructor(@Inject(LlmTraceService) private readonly traces: LlmTraceService) {}

  @Get('banks/:bank_id/llm-requests')
  @ApiOperation({
    operationId: 'list_llm_requests',
    summary: 'List LLM request traces',
    description:
      'Traced LLM calls of a bank, newest first. Only recorded while tracing is on (MEMORY_LLM_TRACE_ENABLED); ' +
      'memory_id is not supported (422).',
  })
  @ApiOkResponse({ type: LlmRequestListResponse })
  @ApiNotFoundResponse({ description: 'The bank does not exist' })
  async list(@Param('bank_id') bankId: string, @Query() query: ListLlmRequestsQuery): Promise<LlmRequestListResponse> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const page = await this.traces.list(bankId, {
      status: query.status,
      operation: query.operation,
      scope: query.scope,
      provider: query.provider,
      traceId: query.trace_id,
      documentId: query.document_id,
      startDate: query.start_date === undefined ? undefined : parseQueryDate(query.start_date),
      endDate: query.end_date === undefined ? undefined : parseQueryDate(query.end_date),
      group: query.group ?? false,
      limit,
      offset,
    });
    return toLlmRequestListResponse(bankId, page, limit, offset);
  }

  @Get('banks/:bank_id/llm-requests/stats')
  @ApiOperation({
    operationId: 'llm_request_stats',
    summary: 'LLM request statistics',
    description: 'Calls per UTC day and status, with their token sums, over the period.',
  })
  @ApiOkResponse({ type: LlmRequestStatsResponse })
  @ApiNotFoundResponse({ description: 'The bank does not exist' })
  async stats(@Param('bank_id') bankId: string, @Query() query: LlmRequestStatsQuery): Promise<LlmRequestStatsResponse> {
    const stats = await this.traces.stats(bankId, query.period ?? '7d', query.operation);
    return toLlmRequestStatsResponse(bankId, stats);
  }
}
