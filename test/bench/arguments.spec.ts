import { BenchArgumentsError, parseArguments } from '../../bench/arguments.js';

describe('npm run bench arguments', () => {
  it('refuse a flag they do not know, naming it, instead of starting a full run', () => {
    expect(() => parseArguments(['--quik'])).toThrow(new BenchArgumentsError("Unknown option '--quik'"));
    expect(() => parseArguments(['recall-latency'])).toThrow(/recall-latency/);
  });

  it('answer --help rather than running anything', () => {
    expect(parseArguments(['--help'])).toBe('help');
    expect(parseArguments(['--only', 'recall-latency', '-h'])).toBe('help');
  });

  it('refuse an unknown benchmark, a flag without its value and a scale out of range', () => {
    expect(() => parseArguments(['--only', 'recall-latencyy'])).toThrow(/unknown benchmark 'recall-latencyy'/);
    expect(() => parseArguments(['--only', '--quick'])).toThrow(/--only/);
    expect(() => parseArguments(['--scale', '2'])).toThrow(/--scale must be a number in \(0, 1\]/);
  });

  it('read the flags of a pgvector run', () => {
    expect(
      parseArguments([
        '--only',
        'recall-latency, retain-throughput',
        '--postgres-url',
        'postgres://u@h/db',
        '--json',
        'r.json',
        '--append',
      ]),
    ).toEqual({
      quick: false,
      scale: undefined,
      only: new Set(['recall-latency', 'retain-throughput']),
      out: 'BENCHMARKS.md',
      append: true,
      json: 'r.json',
      postgresUrl: 'postgres://u@h/db',
    });
    expect(parseArguments(['--quick'])).toMatchObject({ quick: true, out: 'BENCHMARKS.quick.md' });
  });
});
