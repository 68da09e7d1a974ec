import type { Benchmark } from '../harness.js';

export const poolStarvation: Benchmark = {
  id: 'pool-starvation',
  title: 'Pool starvation: recall during consolidation, ours against a connection-holding baseline',
  async run() {
    throw new Error('not written yet');
  },
};
