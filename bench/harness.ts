import { createTestDatabase, dropTestDatabase } from '../test/helpers/postgres.js';

/**
 * What every benchmark gets: the scale (1 for `npm run bench`, 0.1 for `--quick`), a PostgreSQL
 * server of its own, and a way to say what it is doing. Benchmarks only measure and describe;
 * the runner decides where the numbers go.
 */
export interface BenchmarkContext {
  quick: boolean;
  /** Multiply data sizes by this (0.1 in quick mode) and round with `scaled()`. */
  scale: number;
  /** Superuser URL of the benchmark's PostgreSQL server (the `postgres` database). */
  postgresUrl: string;
  /** What that server is: the embedded one (no pgvector) or the one `--postgres-url` named. */
  server: BenchmarkServer;
  /** A fresh database on that server, dropped with `drop()` (sessions are terminated first). */
  createDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  log(message: string): void;
}

export interface BenchmarkServer {
  /** For captions: "PostgreSQL 15.18 + pgvector 0.8.6" or "PostgreSQL 16.4 without pgvector". */
  label: string;
  version: string;
  /** pgvector's version when the server can create the extension, else null (real[] fallback). */
  pgvector: string | null;
  /** True for the embedded server the runner started itself. */
  embedded: boolean;
  /** The settings the figures depend on, as the server reports them: "shared_buffers 1GB, huge_pages try". */
  settings: string;
}

export interface ResultTable {
  caption?: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface BenchmarkResult {
  /** Markdown: what runs, with which sizes, latencies, pool size, concurrency and seeds. */
  workload: string;
  tables: ResultTable[];
  /** Ratios, targets met or missed, and what the numbers mean; one bullet each. */
  findings: string[];
  /** The headline numbers by name; the test of `--quick` checks these are finite. */
  figures: Record<string, number>;
}

export interface Benchmark {
  id: string;
  title: string;
  /** Set when the benchmark means nothing without pgvector on the server: the runner skips it there. */
  requires?: 'pgvector';
  /** Set when a benchmark is too long for every run: it runs only when `--only` names it. */
  optIn?: boolean;
  run(context: BenchmarkContext): Promise<BenchmarkResult>;
}

export function scaled(context: BenchmarkContext, full: number, minimum = 1): number {
  return Math.max(minimum, Math.round(full * context.scale));
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile: the smallest sample with at least `p` percent of samples at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Formats a number for a table: integers as is, others with three significant digits. */
export function fmt(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a';
  const text = Number.isInteger(value) || Math.abs(value) >= 100 ? Math.round(value).toString() : value.toPrecision(3);
  return unit ? `${text} ${unit}` : text;
}

/** Milliseconds since `start` (from `performance.now()`). */
export function since(start: number): number {
  return performance.now() - start;
}

export async function createBenchDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const database = await createTestDatabase(`bench_${prefix}`);
  return { ...database, drop: () => dropTestDatabase(database.name) };
}
