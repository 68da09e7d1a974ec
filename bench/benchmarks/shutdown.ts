import type { Benchmark } from '../harness.js';

export const shutdownTime: Benchmark = {
  id: 'shutdown',
  title: 'Shutdown under load: SIGTERM to exit',
  async run() {
    throw new Error('not written yet');
  },
};
