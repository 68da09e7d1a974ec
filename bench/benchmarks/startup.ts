import type { Benchmark } from '../harness.js';

export const startupTime: Benchmark = {
  id: 'startup',
  title: 'Startup: process start to ready',
  async run() {
    throw new Error('not written yet');
  },
};
