import { type StandaloneServer, startStandalone } from '../../test/helpers/standalone-server.js';
import { bootQuietApp } from '../quiet-app.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, fmt, scaled, since, summarize } from '../harness.js';
import { prepareMemories, seedBank, settleAfterLoad } from '../seed/bulk-seed.js';
import { CORPUS_NOW, syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 20250618;
const QUERY_SEED = 11;
/** Questions of their own for the warm-up, so that no measured question has been asked before. */
const WARM_UP_SEED = 12;
/**
 * Recalls per pooled connection before the levels are measured: a new PostgreSQL session is slow
 * for its first recalls, about a hundred at 100k memories (docs/ARCHITECTURE.md, "Warm connections"), and with three
 * warm-up recalls on one connection, the 8-client level measured seven cold connections against a
 * single client's warm one. A server in use has warm connections; this measures that server.
 */
const WARM_UP_PER_CONNECTION = 40;
const DIMENSION = 384;
const BANK = 'bench';
const POOL_SIZE = 10;
const CLIENTS = [1, 8, 32] as const;

interface Level {
  clients: number;
  requests: number;
  wallMs: number;
  latencies: number[];
}

/**
 * Recall under concurrency over HTTP: the standalone server (a child process, so the clients'
 * event loop is not the server's) on a pool of 10, one bank grown to 10k and then 100k memories,
 * and 1, 8 and 32 clients each sending recalls back to back.
 */
export const recallConcurrency: Benchmark = {
  id: 'recall-concurrency',
  title: 'Recall throughput with 1, 8 and 32 concurrent HTTP clients',
  async run(context) {
    // Quick mode (run by every `npm test`, on a server without pgvector where a recall scans the
    // bank exactly) measures the smaller bank only, with a couple of recalls per client.
    const sizes = context.quick ? [scaled(context, 10_000)] : [scaled(context, 10_000), scaled(context, 100_000)];
    const perClient = context.quick ? 2 : 40;
    const corpus = prepareMemories(take(syntheticMemories(CORPUS_SEED), sizes.at(-1)!), DIMENSION);
    const queries = syntheticQueries(QUERY_SEED, 200);
    const warmUpQueries = syntheticQueries(WARM_UP_SEED, context.quick ? POOL_SIZE : POOL_SIZE * WARM_UP_PER_CONNECTION);
    const database = await context.createDatabase('concurrency');
    const results: Array<{ size: number; levels: Level[] }> = [];
    try {
      let seeded = 0;
      for (const size of sizes) {
        await seed(database.url, corpus.slice(seeded, size));
        seeded = size;
        const server = await startStandalone({
          DATABASE_URL: database.url,
          MEMORY_DB_POOL_SIZE: String(POOL_SIZE),
          MEMORY_CONSOLIDATION_CRON: 'off',
          MEMORY_EMBEDDING_DIM: String(DIMENSION),
          LOG_LEVEL: 'warn',
        });
        try {
          const levels: Level[] = [];
          // Every connection of the pool in use at once, each answering its share of the warm-up.
          await measureLevel(server, warmUpQueries, POOL_SIZE, warmUpQueries.length / POOL_SIZE);
          for (const clients of CLIENTS) {
            levels.push(await measureLevel(server, queries, clients, clients === 1 ? perClient * 2 : perClient));
            context.log(
              `recall-concurrency: ${size} memories, ${clients} client(s): p99 ${fmt(summarize(levels.at(-1)!.latencies).p99, 'ms')}`,
            );
          }
          results.push({ size, levels });
        } finally {
          await server.stop();
        }
      }
    } finally {
      await database.drop();
    }
    return report(context, results);
  },
};

async function seed(url: string, memories: ReturnType<typeof prepareMemories>): Promise<void> {
  const app = await bootQuietApp(url);
  try {
    const database = app.get(MemoryDatabase);
    await seedBank(database, app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND), BANK, memories);
    await settleAfterLoad(database);
  } finally {
    await app.close();
  }
}

async function measureLevel(server: StandaloneServer, queries: string[], clients: number, perClient: number): Promise<Level> {
  const latencies: number[] = [];
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let sent = 0; sent < perClient; sent += 1) {
        const query = queries[next++ % queries.length];
        const requestStartedAt = performance.now();
        const response = await fetch(`${server.url}/v1/default/banks/${BANK}/memories/recall`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query, query_timestamp: CORPUS_NOW.toISOString() }),
        });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`recall answered ${response.status}`);
        latencies.push(since(requestStartedAt));
      }
    }),
  );
  return { clients, requests: clients * perClient, wallMs: since(startedAt), latencies };
}

function report(context: BenchmarkContext, results: Array<{ size: number; levels: Level[] }>) {
  const label = (size: number) => (size >= 1000 ? `${size / 1000}k` : String(size));
  const table: ResultTable = {
    caption: `${context.server.label}, standalone server, pool of ${POOL_SIZE}`,
    columns: ['memories', 'clients', 'recalls', 'recalls/s', 'p50 (ms)', 'p99 (ms)', 'p99 / one client p99'],
    rows: results.flatMap(({ size, levels }) => {
      const alone = summarize(levels[0].latencies).p99;
      return levels.map((level) => {
        const summary = summarize(level.latencies);
        return [
          size,
          level.clients,
          level.requests,
          fmt(level.requests / (level.wallMs / 1000)),
          fmt(summary.median),
          fmt(summary.p99),
          fmt(summary.p99 / alone),
        ];
      });
    }),
  };
  const figures: Record<string, number> = {};
  const findings: string[] = [];
  for (const { size, levels } of results) {
    const alone = summarize(levels[0].latencies).p99;
    const eight = levels.find((level) => level.clients === 8)!;
    const ratio = summarize(eight.latencies).p99 / alone;
    findings.push(
      `${label(size)} memories: p99 with 8 clients is ${fmt(ratio)}× the single client's p99 (target ≤ 3: ${ratio <= 3 ? 'met' : 'missed'}); ` +
        `throughput ${levels.map((level) => `${fmt(level.requests / (level.wallMs / 1000))}/s with ${level.clients}`).join(', ')}.`,
    );
    for (const level of levels) {
      figures[`${label(size)}_${level.clients}_clients_per_s`] = level.requests / (level.wallMs / 1000);
      figures[`${label(size)}_${level.clients}_clients_p99`] = summarize(level.latencies).p99;
    }
  }
  const workload = [
    `The built standalone server (\`dist/src/main.js\`, a child process) on a database of ${context.server.label}, pool of ${POOL_SIZE}, ` +
      `consolidation off, hashing embedder (dimension ${DIMENSION}), no reranker. One bank seeded in bulk with the recall-latency ` +
      `corpus (seed ${CORPUS_SEED}): ${results.map((result) => label(result.size)).join(', then ')} memories.`,
    `Clients: 1, 8 and 32 loops in the benchmark process, each sending \`POST /v1/default/banks/${BANK}/memories/recall\` back to ` +
      `back with questions from seed ${QUERY_SEED} (a person, a thing, a time), defaults of the API (budget mid, 4,096 tokens, ` +
      `entities on). First ${POOL_SIZE} clients send ${context.quick ? 'one recall' : `${WARM_UP_PER_CONNECTION} recalls`} each of ` +
      `questions from seed ${WARM_UP_SEED}, so that every pooled connection is warm (a new PostgreSQL session is slow for its ` +
      'first recalls, about a hundred at 100k memories; docs/ARCHITECTURE.md, "Warm connections") and no measured question has been asked. Latency is from request to the last byte of the answer; recalls/s is the requests ' +
      'of a level over its wall time.',
    context.quick ? 'Quick mode: the smaller bank only, at a tenth of its size, and two recalls per client.' : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return { workload, tables: [table], findings, figures };
}
