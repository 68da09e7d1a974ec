import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStandalone } from '../../test/helpers/standalone-server.js';
import { type Benchmark, type BenchmarkContext, fmt, since, summarize } from '../harness.js';

const FULL_RUNS = 5;
/**
 * One run of four starts costs about ten seconds on two idle cores (a first PGlite start alone
 * takes four); two would break the quick mode's budget.
 */
const QUICK_RUNS = 1;
const POLL_INTERVAL_MS = 10;
/** An idle server has nothing to drain: a stop slower than this is waiting on something. */
const SLOW_IDLE_STOP_MS = 500;
/** A start slower than this is a failure, not a sample (the first PGlite start takes seconds). */
const START_TIMEOUT_MS = 60_000;

type CaseId = 'pglite-first' | 'pglite-restart' | 'postgres-first' | 'postgres-restart';

const CASES: Array<{ id: CaseId; label: string }> = [
  { id: 'pglite-first', label: 'PGlite, first start (new data directory, migrations)' },
  { id: 'pglite-restart', label: 'PGlite, restart on the same directory' },
  { id: 'postgres-first', label: 'PostgreSQL, first start (new database, migrations)' },
  { id: 'postgres-restart', label: 'PostgreSQL, restart on the same database' },
];

interface StartSample {
  readyMs: number;
  listeningMs: number;
  /** Probe answers other than 200 once the server listened (503 while starting). */
  notReadyAnswers: number;
  /** SIGTERM to exit of the idle server, for comparison with the shutdown benchmark. */
  idleShutdownMs: number;
  exitCode: number | null;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** A difference of medians, which noise can turn negative when the real one is small. */
function longerOrShorter(differenceMs: number): string {
  return `${fmt(Math.abs(differenceMs))} ms ${differenceMs >= 0 ? 'longer' : 'shorter'}`;
}

/** A port that was free a moment ago: the server needs one we know before it says where it listens. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The probe's status, or 0 while nothing listens yet. */
async function probeReady(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/**
 * Spawns the server and polls readiness from the moment of spawn, not from "Listening on":
 * the figure is what an orchestrator waiting on the probe sees. Then stops it with SIGTERM.
 */
async function startOnce(env: Record<string, string>): Promise<StartSample> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const start = performance.now();
  let listeningMs = Number.NaN;
  let failure: unknown;
  const starting = startStandalone({ ...env, PORT: String(port) }, START_TIMEOUT_MS).then(
    (server) => {
      listeningMs = since(start);
      return server;
    },
    (error: unknown) => {
      failure = error;
      return undefined;
    },
  );
  let notReadyAnswers = 0;
  for (;;) {
    const status = await probeReady(url);
    if (status === 200) break;
    if (status !== 0) notReadyAnswers += 1;
    // startStandalone kills a child that does not listen in time; one that listens but never
    // turns ready is ours to kill.
    if (failure) throw failure;
    if (since(start) > START_TIMEOUT_MS) {
      await (await starting)?.stop('SIGKILL');
      throw new Error(`listening but not ready after ${START_TIMEOUT_MS} ms (${env.DATABASE_URL})`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  const readyMs = since(start);
  const server = await starting;
  if (!server) throw failure;
  const signalled = performance.now();
  const exitCode = await server.stop('SIGTERM');
  return { readyMs, listeningMs, notReadyAnswers, idleShutdownMs: since(signalled), exitCode };
}

async function pgliteRun(): Promise<Record<'pglite-first' | 'pglite-restart', StartSample>> {
  const directory = await mkdtemp(path.join(tmpdir(), 'memory-bench-startup-'));
  try {
    const env = { DATABASE_URL: `pglite://${directory}/db` };
    return { 'pglite-first': await startOnce(env), 'pglite-restart': await startOnce(env) };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function postgresRun(context: BenchmarkContext): Promise<Record<'postgres-first' | 'postgres-restart', StartSample>> {
  const database = await context.createDatabase('startup');
  try {
    const env = { DATABASE_URL: database.url };
    return { 'postgres-first': await startOnce(env), 'postgres-restart': await startOnce(env) };
  } finally {
    await database.drop();
  }
}

export const startupTime: Benchmark = {
  id: 'startup',
  title: 'Startup: process start to ready',
  async run(context) {
    const runs = context.quick ? QUICK_RUNS : FULL_RUNS;
    const samples = new Map<CaseId, StartSample[]>(CASES.map(({ id }) => [id, []]));
    for (let run = 1; run <= runs; run += 1) {
      const results = { ...(await pgliteRun()), ...(await postgresRun(context)) };
      for (const [id, sample] of Object.entries(results) as Array<[CaseId, StartSample]>) samples.get(id)!.push(sample);
      context.log(`startup run ${run}/${runs}: ${CASES.map(({ id }) => `${id} ${fmt(results[id].readyMs)} ms`).join(', ')}`);
    }

    const stats = new Map(
      CASES.map(({ id }) => {
        const of = samples.get(id)!;
        return [
          id,
          {
            ready: summarize(of.map((sample) => sample.readyMs)),
            listening: summarize(of.map((sample) => sample.listeningMs)),
            idleShutdown: summarize(of.map((sample) => sample.idleShutdownMs)),
            exitCodes: [...new Set(of.map((sample) => String(sample.exitCode)))].join(', '),
          },
        ];
      }),
    );
    const ready = (id: CaseId) => stats.get(id)!.ready.median;
    const migrationsPglite = ready('pglite-first') - ready('pglite-restart');
    const migrationsPostgres = ready('postgres-first') - ready('postgres-restart');
    const all = [...samples.values()].flat();
    const totalStarts = all.length;
    const notReady = all.reduce((sum, sample) => sum + sample.notReadyAnswers, 0);
    const readyAfterListening = summarize(all.map((sample) => sample.readyMs - sample.listeningMs));
    const idleShutdown = summarize(all.map((sample) => sample.idleShutdownMs));
    const slowStops = all.filter((sample) => sample.idleShutdownMs > SLOW_IDLE_STOP_MS).length;

    return {
      workload: [
        `The built standalone server (\`node dist/src/main.js\`) is spawned with default settings (hashing embedder,`,
        `no LLM, pool of 10, default consolidation cron) on a port chosen beforehand, and \`GET /health/ready\` is`,
        `polled every ${POLL_INTERVAL_MS} ms from the moment of spawn until it answers 200. "Listening" is when the`,
        `"Listening on" line reaches this process. Each server is then stopped with SIGTERM (idle) and its exit`,
        `timed. One run = a new PGlite data directory (\`pglite://<temp dir>/db\`) started twice, then a new`,
        `database on the benchmark's PostgreSQL server (created before the clock starts) started twice; ${plural(runs, 'run')}.`,
        `Temp directories and databases are removed after each run. No randomness.`,
      ].join('\n'),
      tables: [
        {
          caption: `Spawn to first /health/ready 200, ms (${plural(runs, 'run')})`,
          columns: ['case', 'ready p50', 'ready p95', 'ready max', 'listening p50', 'idle SIGTERM→exit p50', 'exit codes'],
          rows: CASES.map(({ id, label }) => {
            const of = stats.get(id)!;
            return [
              label,
              fmt(of.ready.median),
              fmt(of.ready.p95),
              fmt(of.ready.max),
              fmt(of.listening.median),
              fmt(of.idleShutdown.median),
              of.exitCodes,
            ];
          }),
        },
      ],
      findings: [
        `PGlite: the first start (the new directory filled from the kept fresh-cluster image, which earlier ` +
          `in-memory databases on this machine made, then the migrations) takes ` +
          `${longerOrShorter(migrationsPglite)} than a restart (median); a restart is ready in ${fmt(ready('pglite-restart'))} ms.`,
        `PostgreSQL: the first start (the migrations on an empty database) takes ${longerOrShorter(migrationsPostgres)} ` +
          `than a restart (median); a restart is ready in ${fmt(ready('postgres-restart'))} ms.`,
        notReady === 0
          ? `The probe never answered 503 once the server listened (${totalStarts} starts): the workers start and ` +
            `readiness turns green before the HTTP server listens. The first 200 came a median ` +
            `${fmt(readyAfterListening.median)} ms (max ${fmt(readyAfterListening.max)} ms) after the "Listening on" line ` +
            `reached this process.`
          : `The probe answered non-200 ${notReady} time(s) after the server listened (${totalStarts} starts).`,
        `Idle SIGTERM→exit right after ready: median ${fmt(idleShutdown.median)} ms, max ${fmt(idleShutdown.max)} ms; ` +
          `${slowStops} of ${totalStarts} stops took longer than ${SLOW_IDLE_STOP_MS} ms.`,
      ],
      figures: {
        pglite_first_ready_p50_ms: ready('pglite-first'),
        pglite_restart_ready_p50_ms: ready('pglite-restart'),
        postgres_first_ready_p50_ms: ready('postgres-first'),
        postgres_restart_ready_p50_ms: ready('postgres-restart'),
        pglite_first_ready_p95_ms: stats.get('pglite-first')!.ready.p95,
        postgres_first_ready_p95_ms: stats.get('postgres-first')!.ready.p95,
      },
    };
  },
};
