import type { Benchmark } from '../harness.js';

export const recallLatency: Benchmark = {
  id: 'recall-latency',
  title: 'Recall latency at 10k and 100k memories per bank',
  async run() {
    throw new Error('not written yet');
  },
};
