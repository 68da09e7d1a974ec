import Sequencer from '@jest/test-sequencer';

/**
 * Test files that each take a minute or more of a worker's time, longest first. Jest starts the
 * longest files first when its cache remembers their durations; on a fresh clone (CI) it has no
 * cache and goes by file size, which put the quick benchmark run, a small file that runs for two
 * minutes, near the end, where it ran alone on one worker while the other had nothing left.
 */
const SLOWEST = [
  'test/bench/bench-quick.spec.ts',
  'test/storage/pglite-image.spec.ts',
  'test/e2e/standalone.spec.ts',
  'test/console/console.spec.ts',
];

export default class SlowSuitesFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = SLOWEST.findIndex((suffix) => test.path.endsWith(suffix));
      return index === -1 ? SLOWEST.length : index;
    };
    // Array sort is stable: the rest keep Jest's own order.
    return [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
  }
}
