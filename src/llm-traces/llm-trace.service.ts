import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { bankExists } from '../banks/banks.queries.js';
import { bankNotFound } from '../banks/banks.service.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import { statsPeriodStart } from '../metrics/stats-period.js';
import type { LlmTraceSettings, ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryDatabase, isConnectionHeld } from '../storage/memory-database.js';
import { stripUnstorable } from '../storage/storable-text.js';
import {
  type LlmRequestRow,
  deleteExpiredLlmRequests,
  insertLlmRequest,
  llmRequestBuckets,
  llmRequestRunsPage,
  llmRequestsPage,
} from './llm-traces.queries.js';
import type {
  LlmRequest,
  LlmRequestStats,
  LlmRequestStatsBucket,
  LlmRequestStatsPeriod,
  LlmRequestsPage,
  LlmRequestsQuery,
  TracedCall,
  TracedMessage,
} from './llm-trace.types.js';
import { SecretRedactor, truncated } from './redaction.js';

/**
 * Runs work in the async context of this module's loading, where no request's stores are set: a
 * trace is not part of the request whose LLM call it records, so the request's audit scope must
 * not count the trace's insert as a write of that request.
 */
const outsideAnyRequest = AsyncLocalStorage.snapshot();

/** Expired traces one insert deletes at most: the cost of retention stays bounded per call. */
const EXPIRED_PER_INSERT = 100;

/**
 * Hindsight's names for our calls: the operation a trace is filed under and the call's scope
 * (`retain` / `retain_extract_facts`, …), so a dashboard written for Hindsight filters the same.
 */
const HINDSIGHT_NAMES: Record<string, { operation: string; scope: string }> = {
  'extract-facts': { operation: 'retain', scope: 'retain_extract_facts' },
  consolidate: { operation: 'consolidation', scope: 'consolidation' },
  reflect: { operation: 'reflect', scope: 'reflect' },
  'refresh-mental-model': { operation: 'refresh_mental_model', scope: 'reflect' },
  'health-probe': { operation: 'verification', scope: 'verification' },
};

/**
 * Writes and reads the LLM traces (`llm_requests`). A trace is written after its call returned,
 * in a short transaction of its own, so no connection is ever held while the LLM answers; a
 * write that fails is logged and never reaches the caller of the LLM.
 */
@Injectable()
export class LlmTraceService {
  private readonly logger = new Logger('LlmTraces');
  private readonly settings: LlmTraceSettings;
  private readonly redactor: SecretRedactor;

  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(MEMORY_OPTIONS) options: ResolvedMemoryOptions,
  ) {
    this.settings = options.llmTrace;
    this.redactor = new SecretRedactor([options.llm.apiKey, options.embedder.apiKey, options.reranker.apiKey]);
  }

  get enabled(): boolean {
    return this.settings.enabled;
  }

  async record(call: TracedCall): Promise<void> {
    if (!this.settings.enabled) return;
    if (isConnectionHeld()) {
      // Only reachable in the guard's `warn` mode: the caller's transaction would carry the trace,
      // and a failed insert would roll back the caller's own writes.
      this.logger.warn(`LLM trace of '${call.operation}' for bank '${call.bankId}' not written: the call was made holding a connection`);
      return;
    }
    try {
      const names = HINDSIGHT_NAMES[call.operation] ?? {
        operation: call.operation.replace(/-/g, '_'),
        scope: call.operation.replace(/-/g, '_'),
      };
      const usage = call.usage;
      const input: TracedMessage[] = call.messages.map((message) => ({ role: message.role, content: this.keep(message.content) }));
      await outsideAnyRequest(() =>
        this.database.transaction(async (sql) => {
          await insertLlmRequest(sql, {
            bankId: call.bankId,
            operation: names.operation,
            scope: call.scope ?? names.scope,
            traceId: call.traceId ?? null,
            spanId: randomUUID(),
            provider: call.provider,
            model: call.model,
            status: call.error === undefined ? 'success' : 'error',
            startedAt: call.startedAt,
            endedAt: new Date(call.startedAt.getTime() + call.durationMs),
            durationMs: call.durationMs,
            // Hindsight records an absent count as null rather than 0.
            inputTokens: usage?.inputTokens || null,
            outputTokens: usage?.outputTokens || null,
            cachedTokens: usage?.cachedTokens || null,
            totalTokens: usage?.totalTokens || null,
            input,
            output: call.reply === null ? null : this.keep(call.reply),
            error: call.error === undefined ? null : this.keep(call.error),
            llmInfo: call.maxTokens === undefined ? {} : { request: { max_completion_tokens: call.maxTokens } },
            metadata: call.documentId === undefined ? {} : { document_id: call.documentId },
          });
          await deleteExpiredLlmRequests(sql, call.bankId, this.settings.retentionDays, EXPIRED_PER_INSERT);
        }),
      );
    } catch (error) {
      this.logger.warn(`LLM trace of '${call.operation}' for bank '${call.bankId}' not written: ${(error as Error).message}`);
    }
  }

  /** A bank that does not exist is a 404, as in Hindsight; one with tracing off has an empty page. */
  async list(bankId: string, query: LlmRequestsQuery): Promise<LlmRequestsPage> {
    return this.database.withConnection(async (sql) => {
      if (!(await bankExists(sql, bankId))) throw bankNotFound(bankId);
      const filter = { ...query };
      const page = query.group
        ? await llmRequestRunsPage(sql, bankId, filter, query.limit, query.offset)
        : await llmRequestsPage(sql, bankId, filter, query.limit, query.offset);
      return { items: page.rows.map(toLlmRequest), total: page.total };
    });
  }

  /** Counts and token sums per UTC day, as Hindsight buckets them for every period. */
  async stats(bankId: string, period: LlmRequestStatsPeriod, operation?: string): Promise<LlmRequestStats> {
    const start = statsPeriodStart(period, new Date());
    const rows = await this.database.withConnection(async (sql) => {
      if (!(await bankExists(sql, bankId))) throw bankNotFound(bankId);
      return llmRequestBuckets(sql, bankId, start, operation);
    });
    const buckets = new Map<string, LlmRequestStatsBucket>();
    for (const row of rows) {
      const bucket = buckets.get(row.time) ?? {
        time: row.time,
        statuses: {},
        total: 0,
        tokens: { input: 0, output: 0, cached: 0, total: 0 },
      };
      bucket.statuses[row.status as keyof LlmRequestStatsBucket['statuses']] = row.count;
      bucket.total += row.count;
      bucket.tokens.input += Number(row.input_tokens);
      bucket.tokens.output += Number(row.output_tokens);
      bucket.tokens.cached += Number(row.cached_tokens);
      bucket.tokens.total += Number(row.total_tokens);
      buckets.set(row.time, bucket);
    }
    return { period, trunc: 'day', start, buckets: [...buckets.values()] };
  }

  /** Redacted before it is cut, so a key straddling the cut cannot leave half of itself behind. */
  private keep(text: string): string {
    return stripUnstorable(truncated(this.redactor.redact(text), this.settings.maxChars));
  }
}

function toLlmRequest(row: LlmRequestRow): LlmRequest {
  return {
    id: row.id,
    bankId: row.bank_id,
    operation: row.operation,
    scope: row.scope,
    traceId: row.trace_id,
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    provider: row.provider,
    model: row.model,
    status: row.status,
    startedAt: new Date(row.started_at),
    endedAt: row.ended_at === null ? null : new Date(row.ended_at),
    durationMs: row.duration_ms,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedTokens: row.cached_tokens,
    totalTokens: row.total_tokens,
    input: (row.input as TracedMessage[] | null) ?? null,
    output: typeof row.output === 'string' ? row.output : row.output === null ? null : JSON.stringify(row.output),
    error: row.error,
    llmInfo: row.llm_info ?? {},
    metadata: row.metadata ?? {},
  };
}
