export const OPERATION_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export interface Operation {
  id: string;
  bankId: string;
  kind: string;
  status: OperationStatus;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

/** An operation this instance holds the lease of; `leaseToken` fences every write it makes. */
export interface ClaimedOperation extends Operation {
  leaseToken: string;
}

export interface OperationRow {
  id: string;
  bank_id: string;
  kind: string;
  status: OperationStatus;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  lease_token: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

export function toOperation(row: OperationRow): Operation {
  return {
    id: row.id,
    bankId: row.bank_id,
    kind: row.kind,
    status: row.status,
    payload: row.payload,
    result: row.result,
    error: row.error,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    completedAt: row.completed_at,
  };
}
