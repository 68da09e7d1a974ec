import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { AuditLogRow } from '../../audit/audit-log.queries.js';
import type { AuditPeriod, AuditStats } from '../../audit/audit-log.service.js';
import { STATS_PERIODS } from '../../metrics/stats-period.js';
import { IsIsoTimestamp, QueryInt } from './coercions.js';

export class ListAuditLogsQuery {
  @ApiPropertyOptional({ description: 'Filter by action type' })
  @IsOptional()
  @IsString()
  action?: string;

  @ApiPropertyOptional({ description: 'Filter by transport (http, mcp)' })
  @IsOptional()
  @IsString()
  transport?: string;

  @ApiPropertyOptional({ description: 'Filter from this ISO datetime (inclusive)' })
  @IsOptional()
  @IsIsoTimestamp()
  start_date?: string;

  @ApiPropertyOptional({ description: 'Filter until this ISO datetime (exclusive)' })
  @IsOptional()
  @IsIsoTimestamp()
  end_date?: string;

  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  offset?: number;
}

export class AuditLogStatsQuery {
  @ApiPropertyOptional({ description: 'Filter by action type' })
  @IsOptional()
  @IsString()
  action?: string;

  @ApiPropertyOptional({ enum: STATS_PERIODS, default: '7d' })
  @IsOptional()
  @IsIn(STATS_PERIODS, { message: `period must be one of ${STATS_PERIODS.join(', ')}` })
  period?: AuditPeriod;
}

export class AuditLogEntry {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  action!: string;

  @ApiProperty({ type: String, description: '`http` or `mcp`' })
  transport!: string;

  @ApiProperty({ type: String, nullable: true })
  bank_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  started_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'When the response was sent; null until then' })
  ended_at!: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  duration_ms?: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Path parameters, query and the body’s field names (the body itself only with MEMORY_AUDIT_LOG_INCLUDE_CONTENT)',
  })
  request!: Record<string, unknown> | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The ids and counts of the answer' })
  response!: Record<string, unknown> | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: '`actor` (key fingerprint or anonymous), `request_id`, `status_code`',
  })
  metadata!: Record<string, unknown>;

  static of(row: AuditLogRow): AuditLogEntry {
    const started = new Date(row.started_at);
    const ended = row.ended_at === null ? null : new Date(row.ended_at);
    return {
      id: row.id,
      action: row.action,
      transport: row.transport,
      bank_id: row.bank_id,
      started_at: started.toISOString(),
      ended_at: ended?.toISOString() ?? null,
      duration_ms: ended ? Math.max(0, ended.getTime() - started.getTime()) : null,
      request: row.request,
      response: row.response,
      metadata: { actor: row.actor, request_id: row.request_id, status_code: row.status_code },
    };
  }
}

export class AuditLogListResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;

  @ApiProperty({ type: [AuditLogEntry] })
  items!: AuditLogEntry[];
}

export class AuditLogStatsBucket {
  @ApiProperty({ type: String })
  time!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  actions!: Record<string, number>;

  @ApiProperty({ type: 'integer' })
  total!: number;
}

export class AuditLogStatsResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: String })
  period!: string;

  @ApiProperty({ type: String, description: '`hour` for 1d, `day` for 7d and 30d' })
  trunc!: string;

  @ApiProperty({ type: String })
  start!: string;

  @ApiProperty({ type: [AuditLogStatsBucket] })
  buckets!: AuditLogStatsBucket[];

  static of(bankId: string, stats: AuditStats): AuditLogStatsResponse {
    return {
      bank_id: bankId,
      period: stats.period,
      trunc: stats.trunc,
      start: stats.start.toISOString(),
      buckets: stats.buckets.map((bucket) => ({ time: bucket.time.toISOString(), actions: bucket.actions, total: bucket.total })),
    };
  }
}
