/**
 * The action an entry names: Hindsight's name where its audit log has one for the same route, so
 * that a filter written for it (`?action=retain`) works here, else the route's operation id.
 */
const HINDSIGHT_ACTIONS: Record<string, string> = {
  retain_memories: 'retain',
  create_or_update_bank: 'create_bank',
  clear_bank_memories: 'clear_memories',
  trigger_consolidation: 'consolidation',
};

/**
 * POST routes that only read. Left out rather than audited to no effect: an audited request runs
 * each of its statements in a transaction and asks the database whether it wrote, a round trip
 * recall's latency should not pay.
 */
const READ_ONLY_OPERATIONS = new Set(['recall_memories', 'reflect']);

export function auditActionOf(operationId: string): string | null {
  if (READ_ONLY_OPERATIONS.has(operationId)) return null;
  return HINDSIGHT_ACTIONS[operationId] ?? operationId;
}
