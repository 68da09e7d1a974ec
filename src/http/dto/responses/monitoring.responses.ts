import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Hindsight's `FeaturesInfo`: which optional parts of its API this server implements. */
export class FeaturesInfoResponse {
  @ApiProperty({ type: Boolean })
  observations!: boolean;

  @ApiProperty({ type: Boolean })
  mcp!: boolean;

  @ApiProperty({ type: Boolean })
  worker!: boolean;

  @ApiProperty({ type: Boolean })
  bank_config_api!: boolean;

  @ApiProperty({ type: Boolean })
  bank_llm_health!: boolean;

  @ApiProperty({ type: Boolean })
  file_upload_api!: boolean;

  @ApiProperty({ type: Boolean })
  document_export_api!: boolean;

  @ApiProperty({ type: Boolean })
  document_import_api!: boolean;

  @ApiProperty({ type: Boolean })
  audit_log!: boolean;

  @ApiProperty({ type: Boolean })
  llm_trace!: boolean;

  @ApiProperty({ type: Boolean })
  store_document_text!: boolean;
}

/** Hindsight's `VersionResponse`. */
export class VersionResponse {
  @ApiProperty({ type: String, description: 'The Hindsight API version this server speaks' })
  api_version!: string;

  @ApiProperty({ type: FeaturesInfoResponse })
  features!: FeaturesInfoResponse;
}

/** `/health`: the same shape answers 200 (healthy) and 503 (unhealthy). */
export class HealthResponse {
  @ApiProperty({ enum: ['healthy', 'unhealthy'] })
  status!: 'healthy' | 'unhealthy';

  @ApiProperty({ enum: ['connected', 'disconnected'] })
  database!: 'connected' | 'disconnected';

  @ApiPropertyOptional({ type: String, description: 'Why the database did not answer; only when unhealthy' })
  error?: string;
}

/** One check of `/health/ready`, as @nestjs/terminus reports it; a check may add its own fields. */
const READINESS_CHECK = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['up', 'degraded', 'down'] } },
  additionalProperties: true,
};

/** `/health/ready`: @nestjs/terminus's result; 200 when every check is up, else 503 with the same shape. */
export class ReadinessResponse {
  @ApiProperty({ enum: ['ok', 'degraded', 'error', 'shutting_down'] })
  status!: 'ok' | 'degraded' | 'error' | 'shutting_down';

  @ApiPropertyOptional({ type: 'object', additionalProperties: READINESS_CHECK, nullable: true, description: 'The checks that are up' })
  info?: Record<string, { status: string }> | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: READINESS_CHECK, nullable: true, description: 'The checks that are down' })
  error?: Record<string, { status: string }> | null;

  @ApiProperty({ type: 'object', additionalProperties: READINESS_CHECK, description: 'Every check' })
  details!: Record<string, { status: string }>;
}
