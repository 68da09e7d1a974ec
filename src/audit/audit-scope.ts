import { AsyncLocalStorage } from 'node:async_hooks';

/** Who made a request, and the id that ties its entry to its log lines. */
export interface AuditCaller {
  /** `api-key:<fingerprint>` when a key was presented, else `anonymous`. */
  actor: string;
  requestId: string;
}

export type AuditTransport = 'http' | 'mcp';

/** What an entry says before the request's first write commits. */
export interface AuditDraft extends AuditCaller {
  id: string;
  bankId: string;
  /** Hindsight's action name where it has one (`retain`, `delete_document`, …). */
  action: string;
  transport: AuditTransport;
  startedAt: Date;
  request: Record<string, unknown> | null;
}

/** One audited request in progress: its entry is written by the first transaction that writes. */
export class AuditScope {
  written = false;

  constructor(readonly draft: AuditDraft) {}
}

const scopes = new AsyncLocalStorage<AuditScope>();
const callers = new AsyncLocalStorage<AuditCaller>();

export function currentAuditScope(): AuditScope | undefined {
  return scopes.getStore();
}

export function runInAuditScope<T>(scope: AuditScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The MCP endpoint names the caller once per HTTP request; the tools it runs read it. */
export function runAsCaller<T>(caller: AuditCaller, work: () => T): T {
  return callers.run(caller, work);
}

export function currentCaller(): AuditCaller | undefined {
  return callers.getStore();
}
