import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BENCHMARKS } from '../../bench/benchmarks/index.js';

/**
 * Keeps `npm run bench` working: the quick mode runs every benchmark once, here on a fiftieth of
 * the data.
 * It asserts that each produced its numbers, never what they are (speed is the benchmarks' job,
 * not the tests').
 */
describe('npm run bench -- --quick', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'bench-quick-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('runs every benchmark and reports finite figures for each', async () => {
    const out = path.join(directory, 'BENCHMARKS.md');
    const json = path.join(directory, 'figures.json');
    // `npm test` compiled the benchmarks (pretest), as `npm run bench` does (prebench).
    // A fiftieth of the data is enough to run every code path and keeps the run under two minutes.
    const child = spawn(process.execPath, ['dist/bench/run.js', '--quick', '--scale', '0.02', '--out', out, '--json', json], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    child.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve)); // output read to the end
    expect({ code, printed }).toMatchObject({ code: 0 });

    const report = JSON.parse(await readFile(json, 'utf8')) as { figures: Record<string, Record<string, unknown>> };
    // The embedded server has no pgvector: what needs it is skipped, and the report says so.
    const runnable = BENCHMARKS.filter((benchmark) => benchmark.requires !== 'pgvector');
    expect(Object.keys(report.figures).sort()).toEqual(runnable.map((benchmark) => benchmark.id).sort());
    for (const benchmark of runnable) {
      const figures = Object.entries(report.figures[benchmark.id]);
      expect({ id: benchmark.id, figures: figures.length }).not.toEqual({ id: benchmark.id, figures: 0 });
      // JSON writes NaN and Infinity as null, so a number here is a finite one.
      for (const [name, value] of figures)
        expect({ id: benchmark.id, name, value }).toEqual({ id: benchmark.id, name, value: expect.any(Number) });
    }
    const markdown = await readFile(out, 'utf8');
    for (const benchmark of BENCHMARKS) expect(markdown).toContain(benchmark.title);
    expect(markdown).toMatch(/- Machine: .+/);
    expect(markdown).toMatch(/- Node: v\d+/);
  }, 600_000);
});
