#!/usr/bin/env node
// Runs the test suite N times in a row while every core is kept busy, to find the tests that
// pass on a quiet machine and fail on a loaded one (a race, a sleep that is too short).
//
//   npm run test:soak -- 5                      the whole suite, five times
//   npm run test:soak -- 2 test/lifecycle       jest arguments after N select a subset
//   npm run test:soak -- 3 --burners 1          one spinning thread instead of one per core
//
// Each run is `npm test` itself (build included) with `--json --outputFile` added, so jest
// reports what passed and failed; its console output goes to a log file per run. One line is
// printed per run, and at the end every test that failed in any run, with the runs it failed in.
// Exits 1 when any run had a failure.
//
// The burners are worker threads that spin at normal priority: they compete with jest, the
// PostgreSQL server and the child processes the tests start, as other work on a shared machine
// does. A lowered priority would let the suite take the cores back whenever it wants them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

const USAGE = 'usage: npm run test:soak -- <runs> [--burners <count>] [jest arguments…]';

function parseArguments(argv) {
  const [first, ...rest] = argv;
  const runs = Number(first);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(USAGE);
    process.exit(2);
  }
  let burners = availableParallelism();
  const jestArgs = [];
  for (let index = 0; index < rest.length; index += 1) {
    if (rest[index] === '--burners') {
      burners = Number(rest[index + 1]);
      index += 1;
      if (!Number.isInteger(burners) || burners < 0) {
        console.error(USAGE);
        process.exit(2);
      }
    } else {
      jestArgs.push(rest[index]);
    }
  }
  return { runs, burners, jestArgs };
}

/** One thread per burner, each spinning until terminated. */
function startBurners(count) {
  const spin = 'let x = 0; for (;;) { x = (x * 1103515245 + 12345) % 2147483648; }';
  return Array.from({ length: count }, () => new Worker(spin, { eval: true }));
}

/** `npm test` with jest's JSON report; resolves once the process group has exited. */
function runSuite(jestArgs, reportFile, logFile, children) {
  return new Promise((resolve) => {
    const args = ['test', '--', '--json', `--outputFile=${reportFile}`, ...jestArgs];
    // Its own process group, so an interrupt can end npm, jest and whatever the tests started.
    const child = spawn('npm', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.once('close', (code, signal) => {
      children.delete(child);
      writeFileSync(logFile, Buffer.concat(output));
      resolve({ code, signal });
    });
  });
}

/** Passed, failed and total counts and the failed tests' names, from jest's JSON report. */
function readReport(reportFile) {
  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch {
    return null;
  }
  const failures = [];
  for (const file of report.testResults ?? []) {
    const where = path.relative(process.cwd(), file.name);
    const failed = (file.assertionResults ?? []).filter((result) => result.status === 'failed');
    for (const result of failed) failures.push(`${where} › ${result.fullName}`);
    // A file that failed without a failed test did not run (a compile error, a hook that threw).
    if (file.status === 'failed' && failed.length === 0) {
      const reason =
        String(file.message ?? '')
          .split('\n')
          .find((line) => line.trim()) ?? 'failed to run';
      failures.push(`${where} › (file failed: ${reason.trim()})`);
    }
  }
  return {
    passed: report.numPassedTests ?? 0,
    failed: report.numFailedTests ?? 0,
    total: report.numTotalTests ?? 0,
    failures,
  };
}

async function main() {
  const { runs, burners, jestArgs } = parseArguments(process.argv.slice(2));
  const directory = mkdtempSync(path.join(tmpdir(), 'soak-'));
  const children = new Set();
  const workers = startBurners(burners);
  const stopAll = () => {
    for (const child of children) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    for (const worker of workers) void worker.terminate();
  };
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  process.once('SIGTERM', () => {
    stopAll();
    process.exit(143);
  });

  const subset = jestArgs.length ? ` (jest ${jestArgs.join(' ')})` : '';
  console.log(
    `soak: ${runs} run(s) of npm test${subset}, ${burners} spinning thread(s) on ${availableParallelism()} core(s); logs in ${directory}`,
  );
  const failedIn = new Map();
  let anyFailure = false;
  try {
    for (let run = 1; run <= runs; run += 1) {
      const reportFile = path.join(directory, `run-${run}.json`);
      const logFile = path.join(directory, `run-${run}.log`);
      const started = performance.now();
      const { code, signal } = await runSuite(jestArgs, reportFile, logFile, children);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const report = readReport(reportFile);
      if (!report) {
        anyFailure = true;
        const failure = `(no jest report: npm test exited ${signal ?? code}; see ${logFile})`;
        failedIn.set(failure, [...(failedIn.get(failure) ?? []), run]);
        console.log(`run ${run}: no report (exit ${signal ?? code}), ${seconds}s`);
        continue;
      }
      const failed = report.failures.length > 0 || code !== 0;
      if (failed) anyFailure = true;
      for (const failure of report.failures) failedIn.set(failure, [...(failedIn.get(failure) ?? []), run]);
      console.log(
        `run ${run}: ${report.passed} passed, ${report.failed} failed, ${report.total} total, ${seconds}s` +
          (code !== 0 && report.failures.length === 0 ? ` (npm test exited ${signal ?? code}; see ${logFile})` : ''),
      );
    }
  } finally {
    stopAll();
  }

  if (failedIn.size === 0) {
    console.log(anyFailure ? 'soak: failures, see the logs above' : `soak: no test failed in ${runs} run(s)`);
  } else {
    console.log(`soak: ${failedIn.size} test(s) failed in at least one run:`);
    for (const [failure, inRuns] of failedIn) console.log(`  ${failure}  [run ${inRuns.join(', ')}]`);
  }
  process.exitCode = anyFailure ? 1 : 0;
}

await main();
