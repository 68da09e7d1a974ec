import type { Benchmark, BenchmarkResult, ResultTable } from './harness.js';

export interface ReportEnvironment {
  date: string;
  mode: string;
  machine: string;
  node: string;
  /** The PostgreSQL the run used, for the title: every table of the run is on it (or on PGlite). */
  server: string;
  postgres: string;
  pglite: string;
  commit: string;
}

export interface RunResult {
  benchmark: Benchmark;
  result?: BenchmarkResult;
  error?: string;
  /** Why the runner did not run it on this server. */
  skipped?: string;
  seconds: number;
}

function renderTable(table: ResultTable): string {
  const lines = [];
  if (table.caption) lines.push(`*${table.caption}*`, '');
  lines.push(`| ${table.columns.join(' | ')} |`, `|${table.columns.map(() => ' --- ').join('|')}|`);
  for (const row of table.rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

export function renderReport(environment: ReportEnvironment, results: RunResult[], totalSeconds: number): string {
  const sections = [
    `# Benchmarks on ${environment.server}`,
    '',
    'Written by `npm run bench` (all benchmarks in one process, one run). Rerun it to reproduce; every',
    'workload below names its sizes and seeds. Latencies are in milliseconds.',
    '',
    `- Date: ${environment.date}`,
    `- Mode: ${environment.mode}`,
    `- Machine: ${environment.machine}`,
    `- Node: ${environment.node}`,
    `- PostgreSQL: ${environment.postgres}`,
    `- PGlite: ${environment.pglite}`,
    `- Commit: ${environment.commit}`,
    `- Total time: ${totalSeconds.toFixed(0)} s`,
  ];
  results.forEach(({ benchmark, result, error, skipped, seconds }, index) => {
    sections.push('', `## ${index + 1}. ${benchmark.title}`, '');
    if (skipped) {
      sections.push(`*Skipped:* ${skipped}.`);
      return;
    }
    if (!result) {
      sections.push('**Failed:**', '', '```', error ?? 'unknown error', '```');
      return;
    }
    sections.push(result.workload.trim(), '');
    for (const table of result.tables) sections.push(renderTable(table), '');
    if (result.findings.length) sections.push(...result.findings.map((finding) => `- ${finding}`), '');
    sections.push(`<sub>${seconds.toFixed(0)} s</sub>`);
  });
  return `${sections.join('\n')}\n`;
}
