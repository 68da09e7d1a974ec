import type { Benchmark } from '../harness.js';

export const retainThroughput: Benchmark = {
  id: 'retain-throughput',
  title: 'Retain throughput, sync and async, batches of 1, 10 and 100',
  async run() {
    throw new Error('not written yet');
  },
};
