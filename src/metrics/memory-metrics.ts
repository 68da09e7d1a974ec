import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EXTERNAL_CLIENT_KINDS } from '../external/external-call-guard.js';

/**
 * The kinds of queued operation the module's workers handle (`OperationsWorker.register`):
 * retain, consolidation, mental-model refresh. Spelled out here rather than imported, because
 * the services that own them depend on this file.
 */
export const OPERATION_KINDS = ['retain', 'consolidation', 'refresh_mental_model'] as const;

/**
 * The module's Prometheus metrics, in a registry of its own rather than prom-client's global
 * one: two modules in one process (two app instances in a test, or a host with its own
 * metrics) must not collide on metric names.
 */
@Injectable()
export class MemoryMetrics {
  readonly registry = new Registry();

  readonly guardViolations = new Counter({
    name: 'memory_connection_guard_violations_total',
    help: 'External calls attempted while the async context held a pooled database connection',
    labelNames: ['client'] as const,
    registers: [this.registry],
  });

  readonly externalCallDuration = new Histogram({
    name: 'memory_external_call_duration_seconds',
    help: 'Latency of embedder, LLM, reranker and webhook calls, by outcome (errors included)',
    labelNames: ['client', 'outcome'] as const,
    buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly watchdogReclaimed = new Counter({
    name: 'memory_watchdog_reclaimed_total',
    help: 'Claims (operations, memories) whose lease expired, handed back to the queue by the watchdog',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly retainedMemories = new Counter({
    name: 'memory_retained_memories_total',
    help: 'Memory units written by retain',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly retainRequests = new Counter({
    name: 'memory_retain_requests_total',
    help: 'Retain requests accepted',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly recallRequests = new Counter({
    name: 'memory_recall_requests_total',
    help: 'Recall requests answered',
    registers: [this.registry],
  });

  readonly recallDuration = new Histogram({
    name: 'memory_recall_duration_seconds',
    help: 'Time to answer a recall, embedding and rerank included',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly operationsFinished = new Counter({
    name: 'memory_operations_finished_total',
    help: 'Async operations that reached a final state',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpRequestDuration = new Histogram({
    name: 'memory_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly shutdownStepDuration = new Gauge({
    name: 'memory_shutdown_step_duration_seconds',
    help: 'Duration of the last run of each teardown step',
    labelNames: ['stage', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly poolAcquireWait = new Histogram({
    name: 'memory_db_pool_acquire_wait_seconds',
    help: 'Time a SQL scope waited for a pooled connection',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private poolStats: () => { inUse: number; waiting: number } | null = () => null;

  readonly poolInUse: Gauge = new Gauge({
    name: 'memory_db_pool_connections_in_use',
    help: 'Pooled database connections checked out now',
    registers: [this.registry],
    collect: (): void => this.poolInUse.set(this.poolStats()?.inUse ?? 0),
  });

  readonly poolWaiting: Gauge = new Gauge({
    name: 'memory_db_pool_waiting_acquirers',
    help: 'SQL scopes waiting for a pooled connection now',
    registers: [this.registry],
    collect: (): void => this.poolWaiting.set(this.poolStats()?.waiting ?? 0),
  });

  /** Where the pool gauges read from, at scrape time. */
  observePool(stats: () => { inUse: number; waiting: number } | null): void {
    this.poolStats = stats;
  }

  readonly consolidationLag = new Gauge({
    name: 'memory_consolidation_lag_seconds',
    help: 'Age of the oldest memory waiting for consolidation, as of the last batch or scheduler tick',
    registers: [this.registry],
  });

  readonly consolidatedMemories = new Counter({
    name: 'memory_consolidated_memories_total',
    help: 'Memories a consolidation batch finished: done (with or without an observation) or failed (attempt counted)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly consolidationObservations = new Counter({
    name: 'memory_consolidation_observations_total',
    help: 'Observation writes of consolidation by effect: created, updated, deleted, skipped',
    labelNames: ['effect'] as const,
    registers: [this.registry],
  });

  /**
   * Every labelled counter starts with a 0 sample for each label value it can take. A series
   * that does not exist yet has no sample, so `increase()` and `rate()` over it are empty rather
   * than 0, and its first increment is invisible to them: an alert on guard violations or failed
   * operations would miss the first one a fresh process has.
   */
  constructor() {
    for (const client of EXTERNAL_CLIENT_KINDS) this.guardViolations.inc({ client }, 0);
    for (const kind of ['operation', 'memory']) this.watchdogReclaimed.inc({ kind }, 0);
    for (const mode of ['sync', 'async']) {
      this.retainRequests.inc({ mode }, 0);
      this.retainedMemories.inc({ mode }, 0);
    }
    for (const kind of OPERATION_KINDS) {
      for (const status of ['completed', 'failed']) this.operationsFinished.inc({ kind, status }, 0);
    }
    for (const outcome of ['done', 'failed']) this.consolidatedMemories.inc({ outcome }, 0);
    for (const effect of ['created', 'updated', 'deleted', 'skipped']) this.consolidationObservations.inc({ effect }, 0);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
