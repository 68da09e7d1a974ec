import { parseArgs } from 'node:util';
import { BENCHMARKS } from './benchmarks/index.js';

export const BENCH_USAGE =
  'npm run bench [-- --quick] [--only id,id] [--scale 0.5] [--postgres-url URL] [--out FILE] [--append] [--json FILE] [--help]';

export interface BenchArguments {
  quick: boolean;
  /** Overrides the data scale (1 full, 0.1 quick), for trying a benchmark at an in-between size. */
  scale?: number;
  only?: Set<string>;
  out: string;
  append: boolean;
  json?: string;
  postgresUrl?: string;
}

const OPTIONS = {
  quick: { type: 'boolean', default: false },
  only: { type: 'string' },
  scale: { type: 'string' },
  'postgres-url': { type: 'string' },
  out: { type: 'string' },
  append: { type: 'boolean', default: false },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** A command line `npm run bench` cannot run: the run stops before starting anything. */
export class BenchArgumentsError extends Error {}

/**
 * The command line of `npm run bench`, or `'help'`. Strict: a flag it does not know is an error
 * that names it, never ignored, because a full run takes a quarter of an hour and a mistyped
 * `--only` or a `--help` used to start it.
 */
export function parseArguments(argv: string[]): BenchArguments | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: false, options: OPTIONS });
  } catch (error) {
    // parseArgs's own refusals: an unknown flag, a flag without its value.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new BenchArgumentsError((error as Error).message);
    throw error;
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const known = new Set(BENCHMARKS.map((benchmark) => benchmark.id));
  const wanted = values.only === undefined ? undefined : new Set(values.only.split(',').map((id) => id.trim()));
  for (const id of wanted ?? [])
    if (!known.has(id)) throw new BenchArgumentsError(`--only: unknown benchmark '${id}' (known: ${[...known].join(', ')})`);
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && !(scale > 0 && scale <= 1)) throw new BenchArgumentsError('--scale must be a number in (0, 1]');
  return {
    quick: values.quick,
    scale,
    only: wanted,
    out: values.out ?? (values.quick ? 'BENCHMARKS.quick.md' : 'BENCHMARKS.md'),
    append: values.append,
    json: values.json,
    postgresUrl: values['postgres-url'],
  };
}
