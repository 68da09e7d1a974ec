import { Get, Inject, Optional, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditLogService } from '../../audit/audit-log.service.js';
import { WatchdogService } from '../../health/watchdog.service.js';
import { LlmTraceService } from '../../llm-traces/llm-trace.service.js';
import { MCP_ENDPOINT } from '../../mcp/mcp.options.js';
import { MemoryMetrics } from '../../metrics/memory-metrics.js';
import { HealthResponse, VersionResponse } from '../dto/responses/monitoring.responses.js';
import { MemoryApiController, OpenMemoryApiController } from '../memory-api.decorator.js';

/** The Hindsight API version whose core this server speaks; its client checks nothing more. */
export const HINDSIGHT_API_VERSION = '0.9.1';

/** What this server implements of Hindsight's optional features; `mcp`, `audit_log` and `llm_trace` depend on the configuration. */
const FEATURES = {
  observations: true,
  worker: true,
  bank_config_api: true,
  bank_llm_health: true,
  file_upload_api: true,
  document_export_api: true,
  document_import_api: true,
  store_document_text: true,
} as const;

/** Open even when an API key is set: load balancers and clients probing the version hold none. */
@OpenMemoryApiController('monitoring')
export class MonitoringController {
  constructor(
    @Inject(WatchdogService) private readonly watchdog: WatchdogService,
    @Inject(LlmTraceService) private readonly traces: LlmTraceService,
    @Inject(AuditLogService) private readonly audit: AuditLogService,
    // Absent when MemoryMcpModule is not imported (MEMORY_MCP_ENABLED=false, or a host without it).
    @Optional() @Inject(MCP_ENDPOINT) private readonly mcpEndpoint?: boolean,
  ) {}

  @Get('version')
  @ApiOperation({ operationId: 'get_version' })
  @ApiOkResponse({ type: VersionResponse })
  version(): VersionResponse {
    return {
      api_version: HINDSIGHT_API_VERSION,
      features: { ...FEATURES, mcp: this.mcpEndpoint === true, audit_log: this.audit.enabled, llm_trace: this.traces.enabled },
    };
  }

  /** Hindsight's `/health`: 200 when the database answers, else 503, both with the same shape. */
  @Get('health')
  @ApiOperation({ operationId: 'health_endpoint_health_get' })
  @ApiOkResponse({ type: HealthResponse })
  @ApiServiceUnavailableResponse({ type: HealthResponse, description: 'The database does not answer' })
  async health(@Res({ passthrough: true }) response: Response): Promise<HealthResponse> {
    const database = await this.watchdog.checkDatabase();
    if (database.ok) return { status: 'healthy', database: 'connected' };
    response.status(503);
    return { status: 'unhealthy', database: 'disconnected', error: database.error };
  }
}

@MemoryApiController('monitoring', '')
export class MetricsController {
  constructor(@Inject(MemoryMetrics) private readonly metrics: MemoryMetrics) {}

  /** Prometheus text: the one route that does not answer JSON. */
  @Get('metrics')
  @ApiOperation({ operationId: 'metrics_endpoint_metrics_get' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } })
  async scrape(@Res({ passthrough: true }) response: Response) {
    response.setHeader('Content-Type', this.metrics.registry.contentType);
    return this.metrics.metrics();
  }
}
