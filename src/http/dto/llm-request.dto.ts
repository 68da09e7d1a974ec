import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, Min, ValidateBy } from 'class-validator';
import {
  LLM_REQUEST_STATS_PERIODS,
  LLM_REQUEST_STATUSES,
  type LlmRequest,
  type LlmRequestStats,
  type LlmRequestStatsPeriod,
  type LlmRequestStatus,
  type LlmRequestsPage,
} from '../../llm-traces/llm-trace.types.js';
import { LimitedInput } from '../input-rules.js';
import { QueryBoolean, QueryInt } from './coercions.js';

const MEMORY_ID_UNSUPPORTED =
  'memory_id is not supported: traces here do not record which memories a run produced or consumed; filter by document_id or trace_id';

/** Hindsight's ISO datetimes; one without an offset is read as UTC, as the database compares it. */
function QueryDate(): PropertyDecorator {
  return Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
}

export function parseQueryDate(value: string): Date {
  const hasTime = value.includes('T') || value.includes(' ');
  const hasOffset = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(value);
  return new Date(hasTime && !hasOffset ? `${value}Z` : value);
}

export class ListLlmRequestsQuery {
  @ApiPropertyOptional({ enum: LLM_REQUEST_STATUSES, description: 'Filter by status (success, error)' })
  @IsOptional()
  @IsIn(LLM_REQUEST_STATUSES, { message: `status must be one of ${LLM_REQUEST_STATUSES.join(', ')}` })
  status?: LlmRequestStatus;

  @ApiPropertyOptional({
    description: 'Filter by operation: retain, consolidation, reflect, refresh_mental_model, verification (the LLM health check)',
  })
  @IsOptional()
  @IsString()
  operation?: string;

  @ApiPropertyOptional({ description: 'Filter by call scope: retain_extract_facts, consolidation, reflect, verification' })
  @IsOptional()
  @IsString()
  scope?: string;

  @ApiPropertyOptional({ description: 'Filter by LLM provider (openai)' })
  @IsOptional()
  @IsString()
  provider?: string;

  @ApiPropertyOptional({ description: 'Filter to one operation run (all LLM calls sharing a trace)' })
  @IsOptional()
  @IsString()
  trace_id?: string;

  @ApiPropertyOptional({ description: 'Filter to LLM calls that processed a given document' })
  @IsOptional()
  @IsString()
  @LimitedInput('documentId')
  document_id?: string;

  @ApiPropertyOptional({ description: `Not supported here: any value is answered 422. ${MEMORY_ID_UNSUPPORTED}` })
  @IsOptional()
  @ValidateBy({ name: 'unsupported', validator: { validate: () => false, defaultMessage: () => MEMORY_ID_UNSUPPORTED } })
  memory_id?: string;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'Paginate by operation run (trace) instead of by call; returns whole runs',
  })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean({ message: 'group must be a boolean' })
  group?: boolean;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Filter from this ISO datetime (inclusive)' })
  @IsOptional()
  @QueryDate()
  @IsISO8601({ strict: true }, { message: 'start_date must be an ISO 8601 datetime' })
  start_date?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Filter until this ISO datetime (exclusive)' })
  @IsOptional()
  @QueryDate()
  @IsISO8601({ strict: true }, { message: 'end_date must be an ISO 8601 datetime' })
  end_date?: string;

  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500, description: 'Max items to return' })
  @IsOptional()
  @QueryInt()
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(500, { message: 'limit must be at most 500' })
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', default: 0, minimum: 0, description: 'Offset for pagination' })
  @IsOptional()
  @QueryInt()
  @IsInt({ message: 'offset must be an integer' })
  @Min(0, { message: 'offset must be at least 0' })
  offset?: number;
}

export class LlmRequestStatsQuery {
  @ApiPropertyOptional({ description: 'Filter by operation' })
  @IsOptional()
  @IsString()
  operation?: string;

  @ApiPropertyOptional({ enum: LLM_REQUEST_STATS_PERIODS, default: '7d', description: 'Time period: 1d, 7d, or 30d' })
  @IsOptional()
  @IsIn(LLM_REQUEST_STATS_PERIODS, { message: `period must be one of ${LLM_REQUEST_STATS_PERIODS.join(', ')}` })
  period?: LlmRequestStatsPeriod;
}

/** One message of the prompt as it was sent, secrets redacted, long text cut with a marker. */
export class LlmRequestMessageResponse {
  @ApiProperty({ enum: ['system', 'user'] })
  role!: string;

  @ApiProperty({ type: String })
  content!: string;
}

export class LlmRequestParamsResponse {
  @ApiPropertyOptional({ type: 'integer', description: 'The output budget the call asked for, when it set one' })
  max_completion_tokens?: number;
}

/** Hindsight's open `llm_info`: here, the parameters the call set. */
export class LlmRequestInfoResponse {
  @ApiPropertyOptional({ type: LlmRequestParamsResponse })
  request?: LlmRequestParamsResponse;
}

/** Hindsight's open `metadata`: here, the document whose content was in the prompt. */
export class LlmRequestMetadataResponse {
  @ApiPropertyOptional({ type: String })
  document_id?: string;
}

/** Hindsight's `LLMRequestEntry`. */
export class LlmRequestEntryResponse {
  @ApiProperty({ type: String, format: 'uuid' })
  id!: string;

  @ApiProperty({ type: String, nullable: true })
  bank_id!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'retain, consolidation, reflect, refresh_mental_model or verification' })
  operation!: string | null;

  @ApiProperty({ type: String, nullable: true })
  scope!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Shared by every LLM call of one run' })
  trace_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  span_id!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Always null: runs are not recorded as spans of their own here' })
  parent_span_id!: string | null;

  @ApiProperty({ type: String, nullable: true })
  provider!: string | null;

  @ApiProperty({ type: String, nullable: true })
  model!: string | null;

  @ApiProperty({ enum: LLM_REQUEST_STATUSES })
  status!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  started_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ended_at!: string | null;

  @ApiProperty({ type: 'integer', nullable: true })
  duration_ms!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  input_tokens!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  output_tokens!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  cached_tokens!: number | null;

  @ApiProperty({ type: 'integer', nullable: true })
  total_tokens!: number | null;

  @ApiPropertyOptional({ type: [LlmRequestMessageResponse], nullable: true, description: 'The prompt: system, then user message' })
  input?: LlmRequestMessageResponse[] | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "The reply's text as the provider sent it (also when it was then refused)",
  })
  output?: string | null;

  @ApiProperty({ type: String, nullable: true, description: '`ErrorClass: message` of a failed call' })
  error!: string | null;

  @ApiProperty({ type: LlmRequestInfoResponse })
  llm_info!: LlmRequestInfoResponse;

  @ApiProperty({ type: LlmRequestMetadataResponse })
  metadata!: LlmRequestMetadataResponse;
}

/** Hindsight's `LLMRequestListResponse`. */
export class LlmRequestListResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: 'integer', description: 'Matching calls, or runs when grouped' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;

  @ApiProperty({ type: [LlmRequestEntryResponse] })
  items!: LlmRequestEntryResponse[];
}

/** Hindsight's `statuses`: calls of each outcome in the bucket; an outcome with none is absent. */
export class LlmRequestStatusCountsResponse {
  @ApiPropertyOptional({ type: 'integer' })
  success?: number;

  @ApiPropertyOptional({ type: 'integer' })
  error?: number;
}

/** Hindsight's `LLMRequestTokenSums`. */
export class LlmRequestTokenSumsResponse {
  @ApiProperty({ type: 'integer' })
  input!: number;

  @ApiProperty({ type: 'integer' })
  output!: number;

  @ApiProperty({ type: 'integer' })
  cached!: number;

  @ApiProperty({ type: 'integer' })
  total!: number;
}

/** Hindsight's `LLMRequestStatsBucket`. */
export class LlmRequestStatsBucketResponse {
  @ApiProperty({ type: String, format: 'date-time', description: 'Start of the bucket (UTC)' })
  time!: string;

  @ApiProperty({ type: LlmRequestStatusCountsResponse })
  statuses!: LlmRequestStatusCountsResponse;

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: LlmRequestTokenSumsResponse })
  tokens!: LlmRequestTokenSumsResponse;
}

/** Hindsight's `LLMRequestStatsResponse`. */
export class LlmRequestStatsResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ enum: LLM_REQUEST_STATS_PERIODS })
  period!: string;

  @ApiProperty({ type: String, description: "The bucket's unit: always day, as in Hindsight" })
  trunc!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Beginning of the period' })
  start!: string;

  @ApiProperty({ type: [LlmRequestStatsBucketResponse] })
  buckets!: LlmRequestStatsBucketResponse[];
}

export function toLlmRequestListResponse(bankId: string, page: LlmRequestsPage, limit: number, offset: number): LlmRequestListResponse {
  return { bank_id: bankId, total: page.total, limit, offset, items: page.items.map(toLlmRequestEntryResponse) };
}

function toLlmRequestEntryResponse(request: LlmRequest): LlmRequestEntryResponse {
  return {
    id: request.id,
    bank_id: request.bankId,
    operation: request.operation,
    scope: request.scope,
    trace_id: request.traceId,
    span_id: request.spanId,
    parent_span_id: request.parentSpanId,
    provider: request.provider,
    model: request.model,
    status: request.status,
    started_at: request.startedAt.toISOString(),
    ended_at: request.endedAt?.toISOString() ?? null,
    duration_ms: request.durationMs,
    input_tokens: request.inputTokens,
    output_tokens: request.outputTokens,
    cached_tokens: request.cachedTokens,
    total_tokens: request.totalTokens,
    input: request.input,
    output: request.output,
    error: request.error,
    llm_info: request.llmInfo,
    metadata: request.metadata,
  };
}

export function toLlmRequestStatsResponse(bankId: string, stats: LlmRequestStats): LlmRequestStatsResponse {
  return { bank_id: bankId, period: stats.period, trunc: stats.trunc, start: stats.start.toISOString(), buckets: stats.buckets };
}
