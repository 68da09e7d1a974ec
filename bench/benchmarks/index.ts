import type { Benchmark } from '../harness.js';
import { bankIndexPlanning } from './bank-index-planning.js';
import { consolidationThroughput } from './consolidation-throughput.js';
import { documentTransfer } from './document-transfer.js';
import { mem0Comparison } from './mem0-comparison.js';
import { memoryQuality } from './memory-quality.js';
import { mixedLoad } from './mixed-load.js';
import { newBankStatistics } from './new-bank-statistics.js';
import { poolStarvation } from './pool-starvation.js';
import { recallConcurrency } from './recall-concurrency.js';
import { recallLatency } from './recall-latency.js';
import { recallMillion } from './recall-million.js';
import { recallScale } from './recall-scale.js';
import { retainThroughput } from './retain-throughput.js';
import { shutdownTime } from './shutdown.js';
import { startupTime } from './startup.js';

/** In the order of the report (and of issue #7). */
export const BENCHMARKS: Benchmark[] = [
  poolStarvation,
  recallLatency,
  recallScale,
  bankIndexPlanning,
  newBankStatistics,
  recallMillion,
  recallConcurrency,
  retainThroughput,
  shutdownTime,
  startupTime,
  memoryQuality,
  mixedLoad,
  mem0Comparison,
  consolidationThroughput,
  documentTransfer,
];
