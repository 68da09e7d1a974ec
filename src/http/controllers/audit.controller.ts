import { Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AuditLogService } from '../../audit/audit-log.service.js';
import { BanksService } from '../../banks/banks.service.js';
import { AuditLogEntry, AuditLogListResponse, AuditLogStatsQuery, AuditLogStatsResponse, ListAuditLogsQuery } from '../dto/audit.dto.js';
import { parseIsoTimestamp } from '../dto/coercions.js';
import { MemoryApiController } from '../memory-api.decorator.js';

/** Hindsight's audit routes; 404 for a bank that does not exist, as Hindsight answers. */
@MemoryApiController('audit')
export class AuditController {
  constructor(
    @Inject(AuditLogService) private readonly audit: AuditLogService,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  @Get('banks/:bank_id/audit-logs')
  @ApiOperation({ operationId: 'list_audit_logs', summary: 'Newest first' })
  @ApiOkResponse({ type: AuditLogListResponse })
  async list(@Param('bank_id') bankId: string, @Query() query: ListAuditLogsQuery): Promise<AuditLogListResponse> {
    await this.banks.assertExists(bankId);
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const { total, rows } = await this.audit.list(bankId, {
      action: query.action,
      transport: query.transport,
      startDate: query.start_date ? (parseIsoTimestamp(query.start_date) ?? undefined) : undefined,
      endDate: query.end_date ? (parseIsoTimestamp(query.end_date) ?? undefined) : undefined,
      limit,
      offset,
    });
    return { bank_id: bankId, total, limit, offset, items: rows.map((row) => AuditLogEntry.of(row)) };
  }

  @Get('banks/:bank_id/audit-logs/stats')
  @ApiOperation({ operationId: 'audit_log_stats', summary: 'Entries per hour (1d) or day (7d, 30d) and action' })
  @ApiOkResponse({ type: AuditLogStatsResponse })
  async stats(@Param('bank_id') bankId: string, @Query() query: AuditLogStatsQuery): Promise<AuditLogStatsResponse> {
    await this.banks.assertExists(bankId);
    return AuditLogStatsResponse.of(bankId, await this.audit.stats(bankId, query.period ?? '7d', query.action));
  }
}
