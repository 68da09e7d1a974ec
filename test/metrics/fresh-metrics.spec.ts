import type { INestApplicationContext } from '@nestjs/common';
import { CONSOLIDATION_OPERATION } from '../../src/consolidation/consolidation.service.js';
import { EXTERNAL_CLIENT_KINDS } from '../../src/external/external-call-guard.js';
import { REFRESH_MENTAL_MODEL } from '../../src/mental-models/mental-model.types.js';
import { MemoryMetrics, OPERATION_KINDS } from '../../src/metrics/memory-metrics.js';
import { bootOnPglite } from '../helpers/memory-app.js';

/** `name{a="x",b="y"} 0`, as prom-client writes a sample, labels in declaration order. */
function zeroSample(name: string, labels: Record<string, string>): string {
  const text = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .join(',');
  return `${name}{${text}} 0`;
}

/**
 * Alerts read counters through `increase()`, which sees nothing of a series that has no sample
 * yet: the first guard violation or failed operation of a fresh process would go unnoticed. So
 * every labelled counter has a 0 sample for each of its label values from the first scrape.
 */
describe('the metrics of a fresh process', () => {
  let app: INestApplicationContext;
  let lines: string[];

  beforeAll(async () => {
    app = await bootOnPglite('fresh-metrics');
    lines = (await app.get(MemoryMetrics).metrics()).split('\n');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('names every kind of operation the workers handle', () => {
    expect([...OPERATION_KINDS].sort()).toEqual(['retain', CONSOLIDATION_OPERATION, REFRESH_MENTAL_MODEL].sort());
  });

  const expected: Array<[string, Record<string, string>[]]> = [
    ['memory_connection_guard_violations_total', EXTERNAL_CLIENT_KINDS.map((client) => ({ client }))],
    ['memory_operations_finished_total', OPERATION_KINDS.flatMap((kind) => ['completed', 'failed'].map((status) => ({ kind, status })))],
    ['memory_consolidated_memories_total', ['done', 'failed'].map((outcome) => ({ outcome }))],
    ['memory_watchdog_reclaimed_total', ['operation', 'memory'].map((kind) => ({ kind }))],
    ['memory_retain_requests_total', ['sync', 'async'].map((mode) => ({ mode }))],
    ['memory_retained_memories_total', ['sync', 'async'].map((mode) => ({ mode }))],
    ['memory_consolidation_observations_total', ['created', 'updated', 'deleted', 'skipped'].map((effect) => ({ effect }))],
  ];

  it.each(expected)('exports a 0 sample of %s for each label value', (name, labelSets) => {
    const samples = lines.filter((line) => line.startsWith(`${name}{`));
    expect(samples.sort()).toEqual(labelSets.map((labels) => zeroSample(name, labels)).sort());
  });
});
