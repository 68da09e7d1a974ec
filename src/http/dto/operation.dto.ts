import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Operation } from '../../operations/operation.types.js';

/** Hindsight's `OperationProgress`. This server records no progress snapshots, so it is always null. */
export class OperationProgressResponse {
  @ApiProperty({ type: String })
  stage!: string;

  @ApiProperty({ type: String })
  at!: string;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  processed?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  total?: number | null;
}

/** Hindsight's `ChildOperationStatus`; operations here are never split into children. */
export class ChildOperationStatusResponse {
  @ApiProperty({ type: String })
  operation_id!: string;

  @ApiProperty({ type: String })
  status!: string;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  sub_batch_index?: number | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  items_count?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  error_message?: string | null;
}

/** Hindsight's `OperationStatusResponse`. */
export class OperationStatusResponse {
  @ApiProperty({ type: String })
  operation_id!: string;

  @ApiProperty({ enum: ['pending', 'processing', 'completed', 'failed', 'cancelled', 'not_found'] })
  status!: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  operation_type?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  created_at?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  updated_at?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  completed_at?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  error_message?: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  retry_count?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Set while a pending operation backs off after a failed attempt' })
  next_retry_at?: string | null;

  @ApiPropertyOptional({ type: OperationProgressResponse, nullable: true, description: 'Not recorded by this server: always null' })
  progress?: OperationProgressResponse | null;

  @ApiPropertyOptional({ type: Object, nullable: true })
  result_metadata?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: [ChildOperationStatusResponse], nullable: true, description: 'Never split here: always null' })
  child_operations?: ChildOperationStatusResponse[] | null;

  @ApiPropertyOptional({ type: Object, nullable: true })
  task_payload?: Record<string, unknown> | null;
}

/** Hindsight's `OperationResponse`, one row of the list. */
export class OperationListItemResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  task_type!: string;

  @ApiProperty({ type: 'integer' })
  items_count!: number;

  @ApiProperty({ type: String, nullable: true })
  document_id!: string | null;

  @ApiProperty({ type: String })
  created_at!: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  updated_at?: string | null;

  @ApiProperty({ type: String })
  status!: string;

  @ApiProperty({ type: String, nullable: true })
  error_message!: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  retry_count?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  next_retry_at?: string | null;

  @ApiPropertyOptional({ type: OperationProgressResponse, nullable: true })
  progress?: OperationProgressResponse | null;
}

/** Hindsight's `OperationsListResponse`. */
export class OperationsListResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;

  @ApiProperty({ type: [OperationListItemResponse] })
  operations!: OperationListItemResponse[];
}

/** Hindsight's `CancelOperationResponse`, `RetryOperationResponse` and `DeleteOperationResponse`. */
export class OperationActionResponse {
  @ApiProperty({ type: Boolean })
  success!: boolean;

  @ApiProperty({ type: String })
  message!: string;

  @ApiProperty({ type: String })
  operation_id!: string;
}

export function toOperationStatusResponse(operation: Operation, includePayload: boolean): OperationStatusResponse {
  const response: OperationStatusResponse = {
    operation_id: operation.id,
    status: operation.status,
    operation_type: operation.kind,
    created_at: iso(operation.createdAt),
    updated_at: iso(operation.updatedAt),
    completed_at: iso(operation.completedAt),
    error_message: operation.error,
    retry_count: retryCount(operation),
    next_retry_at: iso(operation.nextRetryAt),
    progress: null,
    result_metadata: operation.result,
    child_operations: null,
  };
  if (includePayload) response.task_payload = operation.payload;
  return response;
}

export function toOperationNotFoundResponse(operationId: string): OperationStatusResponse {
  return { operation_id: operationId, status: 'not_found' };
}

export function toOperationsListResponse(
  bankId: string,
  page: { total: number; items: Operation[] },
  limit: number,
  offset: number,
): OperationsListResponse {
  return {
    bank_id: bankId,
    total: page.total,
    limit,
    offset,
    operations: page.items.map((operation) => ({
      id: operation.id,
      task_type: operation.kind,
      items_count: itemsCount(operation),
      document_id: null,
      created_at: iso(operation.createdAt)!,
      updated_at: iso(operation.updatedAt),
      status: operation.status,
      error_message: operation.error,
      retry_count: retryCount(operation),
      next_retry_at: iso(operation.nextRetryAt),
      progress: null,
    })),
  };
}

export function toOperationActionResponse(
  operationId: string,
  done: 'cancelled' | 'queued for retry' | 'deleted',
): OperationActionResponse {
  return { success: true, message: `Operation ${operationId} ${done}`, operation_id: operationId };
}

function retryCount(operation: Operation): number {
  return Math.max(operation.attempts - 1, 0);
}

function itemsCount(operation: Operation): number {
  const count = operation.payload?.items_count ?? operation.result?.items_count;
  return typeof count === 'number' ? count : 0;
}

function iso(date: Date | string | null | undefined): string | null {
  if (date == null) return null;
  return date instanceof Date ? date.toISOString() : new Date(date).toISOString();
}
