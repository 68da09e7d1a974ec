import type { Benchmark } from '../harness.js';
import { memoryQuality } from './memory-quality.js';
import { poolStarvation } from './pool-starvation.js';
import { recallLatency } from './recall-latency.js';
import { retainThroughput } from './retain-throughput.js';
import { shutdownTime } from './shutdown.js';
import { startupTime } from './startup.js';

/** In the order of the report (and of issue #7). */
export const BENCHMARKS: Benchmark[] = [poolStarvation, recallLatency, retainThroughput, shutdownTime, startupTime, memoryQuality];
