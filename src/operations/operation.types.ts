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
  /** When a pending operation backing off after a failed attempt becomes claimable again. */
  nextRetryAt: Date | null;
}

/** An operation this instance holds the lease of; `leaseToken` fences every write it makes. */
export interface ClaimedOperation extends Operation {
  leaseToken: string;
}
