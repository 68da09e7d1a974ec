import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { FakeOpenAiServer } from '../../test/helpers/fake-openai-server.js';
import { DEFAULT_BANK_VECTOR_INDEXES } from '../../src/memory.options.js';
import { createBankIndex } from '../../src/storage/bank-vector-indexes.queries.js';
import { embeddingIndexing } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, type ResultTable, type Summary, fmt, scaled, summarize } from '../harness.js';
import {
  QUALITY_CATEGORIES,
  QUALITY_NOW,
  type QualityCategory,
  type QualityItem,
  type QualityQuestion,
  qualitySet,
} from '../quality/memory-quality-corpus.js';
import { CORPUS_NOW, type SyntheticMemory, syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

/**
 * nestjs-memory and Mem0's open-source library (`Memory` from `mem0ai/oss`, the pgvector store,
 * `infer: false`) side by side: both behind HTTP on 127.0.0.1, each in a process of its own, on
 * two databases of the same PostgreSQL server with pgvector, embedding through the same fake
 * OpenAI-compatible server (the hashing vectors our default embedder computes), fed the same
 * memories and asked the same questions by the same client.
 *
 * Mem0 lives in `bench/mem0/` (its own package.json and lockfile, never a dependency of the
 * module or of `npm test`); when `bench/mem0/node_modules` is missing this benchmark installs it
 * with `npm ci --prefix bench/mem0`, from the lockfile.
 */

const CORPUS_SEED = 20250618;
const QUERY_SEED = 11;
const DIMENSION = 384;
const BANK = 'bench';
const QUALITY_BANK = 'quality';
/** Items per ingest request; Mem0 gets the same memories as one `add` of that many messages. */
const INGEST_BATCH = 100;
/** Items per ingest request of the quality set, as `retainQualitySet` sends them. */
const QUALITY_BATCH = 50;
const CLIENTS = 8;
/**
 * Before anything is measured, each system answers this many questions of a seed of their own
 * from as many clients as our pool has connections (10, the default), so that every pooled
 * connection is warm, as in "Recall throughput": a new PostgreSQL session is slow for its first
 * recalls (docs/ARCHITECTURE.md, "Warm connections"), and with ten questions one after another
 * only one of ours was, so the measured questions that landed on another (the pool hands a
 * connection a background task just released) made our sequential p99 (87 to 96 ms in two runs
 * against 40 to 48 in a probe after this warm-up). Mem0 keeps one connection and gets the same
 * questions.
 */
const WARM_UP_SEED = 12;
const WARM_UP_CLIENTS = 10;
const WARM_UP_PER_CLIENT = 20;
/** The measured queries of each phase are split into rounds that alternate which system goes first. */
const ROUNDS = 4;
const HIT_AT = 5;
/**
 * Ours also answers, in a second variant, with about as many memories as Mem0's default top 20:
 * a 512-token budget and no entity observations (Mem0 returns none), so that the latencies can be
 * read apart from the size of the answer.
 */
const SIZED_MAX_TOKENS = 512;
const START_TIMEOUT_MS = 180_000;
const MEM0_DIRECTORY = path.resolve('bench/mem0');

type SystemName = 'ours' | 'mem0';
const SYSTEMS: readonly SystemName[] = ['ours', 'mem0'];
const LABEL: Record<SystemName, string> = { ours: 'nestjs-memory', mem0: 'Mem0 (mem0ai/oss)' };
/** What the search phases time: each system with its defaults, and ours with an answer sized like Mem0's. */
type SearcherName = SystemName | 'oursSized';
type Search = (query: string) => Promise<Answer>;

interface System {
  name: SystemName;
  database: { name: string; url: string; drop(): Promise<void> };
  server: ChildServer;
  /** Stores the batch, one memory per item. */
  ingest(batch: SyntheticMemory[]): Promise<void>;
  /**
   * What the query found with the system's defaults (or, `sized`, ours with an answer about as
   * large as Mem0's): texts best first, and the size of the answer.
   */
  search(query: string, sized?: boolean): Promise<Answer>;
  ingestQuality(items: QualityItem[]): Promise<void>;
  ask(question: QualityQuestion): Promise<string[]>;
  /** Memories stored for `bank`, counted in the system's own table. */
  countMemories(bank: string): Promise<number>;
}

interface ChildServer {
  url: string;
  stop(): Promise<void>;
}

interface Answer {
  texts: string[];
  bytes: number;
}

interface Latencies {
  samples: number[];
  wallMs: number;
  embeddingRequests: number;
  /** Results and response bytes over all the queries. */
  results: number;
  bytes: number;
}

interface RunOutcome {
  samples: number[];
  wallMs: number;
  results: number;
  bytes: number;
}

interface SystemResult {
  ingestMs: number;
  ingestEmbeddingRequests: number;
  memories: number;
  sequential: Latencies;
  concurrent: Latencies;
  databaseBytes: number;
  largest: TableSize[];
  quality: { hits: number; byCategory: Record<QualityCategory, number>; questions: number };
}

export const mem0Comparison: Benchmark = {
  id: 'mem0-comparison',
  title: "Side by side with Mem0's open-source library: ingest, search latency, hit@5, size",
  requires: 'pgvector',
  async run(context) {
    await assertPgvector(context);
    await ensureMem0Installed(context);
    const mem0Version = (
      JSON.parse(readFileSync(path.join(MEM0_DIRECTORY, 'node_modules/mem0ai/package.json'), 'utf8')) as { version: string }
    ).version;

    const size = scaled(context, 10_000);
    const sequentialQueries = Math.max(40, scaled(context, 200));
    const concurrentQueries = Math.max(80, scaled(context, 400));
    const corpus = take(syntheticMemories(CORPUS_SEED), size);
    const queries = syntheticQueries(QUERY_SEED, sequentialQueries + concurrentQueries);
    const warmUp = syntheticQueries(WARM_UP_SEED, context.quick ? WARM_UP_CLIENTS : WARM_UP_CLIENTS * WARM_UP_PER_CLIENT);
    const sequentialSet = queries.slice(0, sequentialQueries);
    const concurrentSet = queries.slice(sequentialQueries);
    const quality = qualitySet();

    const fake = await FakeOpenAiServer.start({ embeddingDimension: DIMENSION });
    const systems: Partial<Record<SystemName, System>> = {};
    const databases: Array<{ drop(): Promise<void> }> = [];
    try {
      const oursDatabase = await context.createDatabase('cmp_ours');
      databases.push(oursDatabase);
      const mem0Database = await context.createDatabase('cmp_mem0');
      databases.push(mem0Database);
      systems.ours = await startOurs(oursDatabase, fake);
      systems.mem0 = await startMem0(mem0Database, fake);
      const both = systems as Record<SystemName, System>;
      context.log(`mem0-comparison: servers up (ours ${both.ours.server.url}, Mem0 ${mem0Version} ${both.mem0.server.url})`);

      const partial = {} as Record<SystemName, Partial<SystemResult>>;
      for (const name of SYSTEMS) {
        const system = both[name];
        const embeddingsBefore = fake.requestCount('embeddings');
        const startedAt = performance.now();
        for (let offset = 0; offset < corpus.length; offset += INGEST_BATCH) {
          await system.ingest(corpus.slice(offset, offset + INGEST_BATCH));
        }
        // Ours writes no HNSW graph while a bank is small; from 10,000 memories the bank gets its
        // own, which a running server's maintenance round builds within minutes: built here as
        // that round builds it, and counted in the ingest.
        if (name === 'ours' && corpus.length >= BANK_INDEX_FROM) await buildOurBankIndex(system.database.url);
        const ingestMs = performance.now() - startedAt;
        const memories = await system.countMemories(BANK);
        if (memories !== corpus.length) throw new Error(`${LABEL[name]} stored ${memories} memories of ${corpus.length}`);
        // As autovacuum would soon after such a load; now, so that both are searched with statistics.
        await query(system.database.url, 'ANALYZE');
        const { bytes, largest } = await databaseSize(system.database.url);
        partial[name] = {
          ingestMs,
          ingestEmbeddingRequests: fake.requestCount('embeddings') - embeddingsBefore,
          memories,
          databaseBytes: bytes,
          largest,
        };
        context.log(`mem0-comparison: ${LABEL[name]} ingested ${memories} memories in ${(ingestMs / 1000).toFixed(1)} s`);
      }
      if (corpus.length >= BANK_INDEX_FROM) await assertOurVectorIndex(both.ours.database.url);

      const searchers: Record<SearcherName, Search> = {
        ours: (text) => both.ours.search(text),
        oursSized: (text) => both.ours.search(text, true),
        mem0: (text) => both.mem0.search(text),
      };
      for (const search of Object.values(searchers)) await concurrentRun(search, warmUp, WARM_UP_CLIENTS);
      const sequential = await measureInRounds(searchers, fake, sequentialSet, (search, set) => concurrentRun(search, set, 1));
      context.log(
        `mem0-comparison: sequential p50 ours ${fmt(summarize(sequential.ours.samples).median)} ms ` +
          `(sized ${fmt(summarize(sequential.oursSized.samples).median)} ms), Mem0 ${fmt(summarize(sequential.mem0.samples).median)} ms`,
      );
      const concurrent = await measureInRounds(searchers, fake, concurrentSet, (search, set) => concurrentRun(search, set, CLIENTS));
      context.log(
        `mem0-comparison: ${CLIENTS} clients ours ${fmt(throughput(concurrent.ours))}/s (sized ${fmt(throughput(concurrent.oursSized))}/s), ` +
          `Mem0 ${fmt(throughput(concurrent.mem0))}/s`,
      );

      for (const name of SYSTEMS) {
        await both[name].ingestQuality(quality.items);
        partial[name]!.quality = await scoreQuality(both[name], quality.questions);
        partial[name]!.sequential = sequential[name];
        partial[name]!.concurrent = concurrent[name];
        context.log(`mem0-comparison: ${LABEL[name]} hit@${HIT_AT} ${partial[name]!.quality.hits} of ${quality.questions.length}`);
      }
      const sized = { sequential: sequential.oursSized, concurrent: concurrent.oursSized };
      return report(context, partial as Record<SystemName, SystemResult>, sized, {
        size,
        mem0Version,
        warmUpQueries: warmUp.length,
        sequentialQueries,
        concurrentQueries,
        qualityItems: quality.items.length,
        qualityQuestions: quality.questions.length,
        questionsPerCategory: Object.fromEntries(
          QUALITY_CATEGORIES.map((category) => [category, quality.questions.filter((question) => question.category === category).length]),
        ) as Record<QualityCategory, number>,
      });
    } finally {
      for (const system of Object.values(systems)) await system.server.stop();
      await fake.close();
      for (const database of databases.reverse()) await database.drop();
    }
  },
};

// --- preconditions ---------------------------------------------------------------------------

async function assertPgvector(context: BenchmarkContext): Promise<void> {
  const rows = await query<{ default_version: string }>(
    context.postgresUrl,
    `SELECT default_version FROM pg_available_extensions WHERE name = 'vector'`,
  );
  if (rows.length === 0) {
    throw new Error(
      `mem0-comparison needs PostgreSQL with the pgvector extension (both systems store their vectors in it), and ${context.server.label} ` +
        'has none: run `npm run bench -- --only mem0-comparison --postgres-url postgres://USER@HOST:PORT/postgres` against a server with pgvector',
    );
  }
}

/**
 * Installs Mem0 from bench/mem0's lockfile when it is missing, so that `npm run bench` needs
 * nothing done by hand; a failed install stops the benchmark with npm's output.
 */
async function ensureMem0Installed(context: BenchmarkContext): Promise<void> {
  if (existsSync(path.join(MEM0_DIRECTORY, 'node_modules/mem0ai/package.json'))) return;
  context.log('mem0-comparison: bench/mem0/node_modules is missing: npm ci --prefix bench/mem0 (from its lockfile)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, ['ci', '--prefix', MEM0_DIRECTORY, '--no-audit', '--no-fund'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`mem0-comparison could not install Mem0: \`npm ci --prefix bench/mem0\` exited with ${code}:\n${output()}`);
  }
}

/** The bank size from which the server (default settings) gives a bank its own HNSW index. */
const BANK_INDEX_FROM = DEFAULT_BANK_VECTOR_INDEXES.minMemories ?? Infinity;

async function buildOurBankIndex(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-mem0-comparison' });
  await client.connect();
  try {
    const sql = { query: async <Row>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as Row[] };
    await createBankIndex(sql, embeddingIndexing(DIMENSION), BANK);
  } finally {
    await client.end();
  }
}

async function assertOurVectorIndex(url: string): Promise<void> {
  const rows = await query(url, `SELECT 1 FROM pg_indexes WHERE schemaname = 'public' AND indexdef ILIKE '%USING hnsw%'`);
  if (rows.length === 0) throw new Error('nestjs-memory came up without its HNSW index: the pgvector back end was not used');
}

// --- the two servers -------------------------------------------------------------------------

/** The environment of a child without the parent's memory, database and model settings. */
function childEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('MEMORY_') && !key.startsWith('OPENAI_') && !key.startsWith('MEM0_') && key !== 'DATABASE_URL',
    ),
  );
  return { ...inherited, NODE_OPTIONS: '', ...settings };
}

async function startOurs(database: System['database'], fake: FakeOpenAiServer): Promise<System> {
  const main = path.resolve('dist/src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run bench builds it)`);
  const server = await startChild(
    'nestjs-memory',
    [main],
    childEnvironment({
      DATABASE_URL: database.url,
      HOST: '127.0.0.1',
      PORT: '0',
      MEMORY_EMBEDDER: 'openai',
      MEMORY_EMBEDDING_MODEL: 'text-embedding-3-small',
      MEMORY_EMBEDDING_DIM: String(DIMENSION),
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'bench',
      MEMORY_LLM: 'none',
      MEMORY_CONSOLIDATION_CRON: 'off',
    }),
    (line) => /Listening on (http:\/\/[^\s"]+)/.exec(line)?.[1]?.replace('[::1]', '127.0.0.1'),
  );
  const v1 = `${server.url}/v1/default/banks`;
  return {
    name: 'ours',
    database,
    server,
    async ingest(batch) {
      await postJson(`${v1}/${BANK}/memories`, {
        items: batch.map((memory) => ({ content: memory.text, timestamp: memory.timestamp.toISOString() })),
      });
    },
    async search(text, sized = false) {
      const { body, bytes } = await postJsonSized(`${v1}/${BANK}/memories/recall`, {
        query: text,
        query_timestamp: CORPUS_NOW.toISOString(),
        ...(sized && { max_tokens: SIZED_MAX_TOKENS, include: { entities: null } }),
      });
      return { texts: (body.results as Array<{ text: string }>).map((result) => result.text), bytes };
    },
    async ingestQuality(items) {
      for (let offset = 0; offset < items.length; offset += QUALITY_BATCH) {
        await postJson(`${v1}/${QUALITY_BANK}/memories`, {
          items: items.slice(offset, offset + QUALITY_BATCH).map((item) => ({
            content: item.content,
            timestamp: item.timestamp.toISOString(),
            tags: item.tags ?? [],
          })),
        });
      }
    },
    async ask(question) {
      const body = await postJson(`${v1}/${QUALITY_BANK}/memories/recall`, {
        query: question.query,
        query_timestamp: QUALITY_NOW.toISOString(),
        ...(question.tags && { tags: question.tags, tags_match: 'all_strict' }),
      });
      return (body.results as Array<{ text: string }>).map((result) => result.text);
    },
    async countMemories(bank) {
      const [row] = await query<{ count: string }>(
        database.url,
        `SELECT count(*) AS count FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'`,
        [bank],
      );
      return Number(row.count);
    },
  };
}

/**
 * Mem0 keeps a user's memories apart by `user_id`; within a user, the quality set's user tags go
 * into the metadata (`scope`), which Mem0's search filters on exactly, as `all_strict` does ours.
 */
async function startMem0(database: System['database'], fake: FakeOpenAiServer): Promise<System> {
  const server = await startChild(
    'Mem0',
    [path.join(MEM0_DIRECTORY, 'server.mjs')],
    childEnvironment({
      DATABASE_URL: database.url,
      HOST: '127.0.0.1',
      PORT: '0',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'bench',
      MEM0_EMBEDDING_DIM: String(DIMENSION),
      MEM0_COLLECTION: 'memories',
    }),
    (line) => /"listening":"([^"]+)"/.exec(line)?.[1],
  );
  const scopeOf = (tags: string[] | undefined) => {
    if (tags && tags.length > 1) throw new Error('the Mem0 side maps exactly one user tag to a scope');
    return tags?.[0];
  };
  return {
    name: 'mem0',
    database,
    server,
    async ingest(batch) {
      await postJson(`${server.url}/memories`, {
        user_id: BANK,
        infer: false,
        messages: batch.map((memory) => ({ role: 'user', content: memory.text })),
      });
    },
    async search(text) {
      const { body, bytes } = await postJsonSized(`${server.url}/search`, { query: text, user_id: BANK });
      return { texts: (body.results as Array<{ memory: string }>).map((result) => result.memory), bytes };
    },
    async ingestQuality(items) {
      // One `add` per run of consecutive items of one scope, at most QUALITY_BATCH messages each.
      let offset = 0;
      while (offset < items.length) {
        const scope = scopeOf(items[offset].tags);
        let end = offset + 1;
        while (end < items.length && end - offset < QUALITY_BATCH && scopeOf(items[end].tags) === scope) end += 1;
        await postJson(`${server.url}/memories`, {
          user_id: QUALITY_BANK,
          infer: false,
          messages: items.slice(offset, end).map((item) => ({ role: 'user', content: item.content })),
          ...(scope && { metadata: { scope } }),
        });
        offset = end;
      }
    },
    async ask(question) {
      const scope = scopeOf(question.tags);
      const body = await postJson(`${server.url}/search`, {
        query: question.query,
        user_id: QUALITY_BANK,
        ...(scope && { filters: { scope } }),
      });
      return (body.results as Array<{ memory: string }>).map((result) => result.memory);
    },
    async countMemories(bank) {
      const [row] = await query<{ count: string }>(database.url, `SELECT count(*) AS count FROM memories WHERE payload->>'user_id' = $1`, [
        bank,
      ]);
      return Number(row.count);
    },
  };
}

function collectOutput(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 60) lines.splice(0, lines.length - 60);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => lines.join('\n');
}

/** Spawns a server and resolves with its URL once a line of its output names it. */
async function startChild(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  urlFrom: (line: string) => string | undefined,
): Promise<ChildServer> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const url = urlFrom(line);
          if (url) {
            clearTimeout(timer);
            resolve(url);
          }
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before listening`));
      });
    });
    return { url, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; its last output:\n${output()}`, { cause: error });
  }
}

// --- measuring -------------------------------------------------------------------------------

async function postJsonSized(url: string, body: unknown): Promise<{ body: any; bytes: number }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return { body: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

async function postJson(url: string, body: unknown): Promise<any> {
  return (await postJsonSized(url, body)).body;
}

/** `clients` loops sharing one queue of queries, each sending its next as soon as its last is answered (1: sequential). */
async function concurrentRun(search: Search, set: string[], clients: number): Promise<RunOutcome> {
  const outcome: RunOutcome = { samples: [], wallMs: 0, results: 0, bytes: 0 };
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < set.length) {
        const text = set[next++];
        const sent = performance.now();
        const answer = await search(text);
        outcome.samples.push(performance.now() - sent);
        outcome.results += answer.texts.length;
        outcome.bytes += answer.bytes;
      }
    }),
  );
  outcome.wallMs = performance.now() - startedAt;
  return outcome;
}

/**
 * Runs the set on every searcher in ROUNDS slices, rotating which goes first, so that a burst of
 * load from elsewhere on the machine falls on all of them rather than on one.
 */
async function measureInRounds(
  searchers: Record<SearcherName, Search>,
  fake: FakeOpenAiServer,
  set: string[],
  run: (search: Search, set: string[]) => Promise<RunOutcome>,
): Promise<Record<SearcherName, Latencies>> {
  const names = Object.keys(searchers) as SearcherName[];
  const results = Object.fromEntries(
    names.map((name) => [name, { samples: [], wallMs: 0, embeddingRequests: 0, results: 0, bytes: 0 }]),
  ) as unknown as Record<SearcherName, Latencies>;
  const slice = Math.ceil(set.length / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const part = set.slice(round * slice, (round + 1) * slice);
    if (part.length === 0) break;
    const order = names.map((_, index) => names[(index + round) % names.length]);
    for (const name of order) {
      const before = fake.requestCount('embeddings');
      const outcome = await run(searchers[name], part);
      results[name].samples.push(...outcome.samples);
      results[name].wallMs += outcome.wallMs;
      results[name].results += outcome.results;
      results[name].bytes += outcome.bytes;
      results[name].embeddingRequests += fake.requestCount('embeddings') - before;
    }
  }
  return results;
}

function throughput(latencies: Latencies): number {
  return latencies.samples.length / (latencies.wallMs / 1000);
}

async function scoreQuality(system: System, questions: QualityQuestion[]): Promise<SystemResult['quality']> {
  const byCategory = Object.fromEntries(QUALITY_CATEGORIES.map((category) => [category, 0])) as Record<QualityCategory, number>;
  let hits = 0;
  for (const question of questions) {
    const top = (await system.ask(question)).slice(0, HIT_AT);
    // Mem0 stores an item whole, ours by sentence (a sentence that goes on about the person the
    // one before names stays with it): a hit is every answer sentence inside one of the first
    // five texts, whichever way they were stored.
    if (question.answers.every((answer) => top.some((text) => text.includes(answer)))) {
      hits += 1;
      byCategory[question.category] += 1;
    }
  }
  return { hits, byCategory, questions: questions.length };
}

async function query<Row extends Record<string, unknown> = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-mem0-comparison' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

interface TableSize {
  relation: string;
  /** With its indexes and TOAST. */
  bytes: number;
  indexBytes: number;
}

/** Every table of the database with its indexes and TOAST (`pg_total_relation_size`), summed. */
async function databaseSize(url: string): Promise<{ bytes: number; largest: TableSize[] }> {
  const rows = await query<{ relation: string; bytes: string; index_bytes: string }>(
    url,
    `SELECT c.relname AS relation, pg_total_relation_size(c.oid) AS bytes, pg_indexes_size(c.oid) AS index_bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 2 DESC`,
  );
  const tables = rows.map((row) => ({ relation: row.relation, bytes: Number(row.bytes), indexBytes: Number(row.index_bytes) }));
  return { bytes: tables.reduce((sum, table) => sum + table.bytes, 0), largest: tables.slice(0, 3) };
}

// --- the report ------------------------------------------------------------------------------

interface Sizes {
  size: number;
  mem0Version: string;
  warmUpQueries: number;
  sequentialQueries: number;
  concurrentQueries: number;
  qualityItems: number;
  qualityQuestions: number;
  questionsPerCategory: Record<QualityCategory, number>;
}

function report(
  context: BenchmarkContext,
  results: Record<SystemName, SystemResult>,
  sized: { sequential: Latencies; concurrent: Latencies },
  sizes: Sizes,
) {
  const { ours, mem0 } = results;
  const ingestRate = (result: SystemResult) => result.memories / (result.ingestMs / 1000);
  const seq = {
    ours: summarize(ours.sequential.samples),
    mem0: summarize(mem0.sequential.samples),
    sized: summarize(sized.sequential.samples),
  };
  const conc = {
    ours: summarize(ours.concurrent.samples),
    mem0: summarize(mem0.concurrent.samples),
    sized: summarize(sized.concurrent.samples),
  };
  const mb = (bytes: number) => bytes / 2 ** 20;
  const ratio = (a: number, b: number) => `${fmt(a / b)}×`;

  interface Row {
    figure: string;
    ours: number;
    mem0: number;
    /** Ours with an answer sized like Mem0's, where the figure depends on the answer. */
    sized?: number;
    unit: string;
    higherIsBetter: boolean;
  }
  const latencyRows = (label: string, summaries: Record<SearcherName, Summary>): Row[] =>
    (['median', 'p95', 'p99'] as const).map((stat) => ({
      figure: `search ${stat === 'median' ? 'p50' : stat}, ${label}`,
      ours: summaries.ours[stat],
      mem0: summaries.mem0[stat],
      sized: summaries.oursSized[stat],
      unit: 'ms',
      higherIsBetter: false,
    }));
  const rows: Row[] = [
    { figure: 'ingest', ours: ingestRate(ours), mem0: ingestRate(mem0), unit: 'memories/s', higherIsBetter: true },
    ...latencyRows('sequential', { ours: seq.ours, mem0: seq.mem0, oursSized: seq.sized }),
    {
      figure: `search throughput, ${CLIENTS} clients`,
      ours: throughput(ours.concurrent),
      mem0: throughput(mem0.concurrent),
      sized: throughput(sized.concurrent),
      unit: 'queries/s',
      higherIsBetter: true,
    },
    ...latencyRows(`${CLIENTS} clients`, { ours: conc.ours, mem0: conc.mem0, oursSized: conc.sized }),
    {
      figure: `hit@${HIT_AT}, quality set`,
      ours: ours.quality.hits,
      mem0: mem0.quality.hits,
      unit: `of ${sizes.qualityQuestions}`,
      higherIsBetter: true,
    },
    {
      figure: `database size, ${sizes.size.toLocaleString('en')} memories`,
      ours: mb(ours.databaseBytes),
      mem0: mb(mem0.databaseBytes),
      unit: 'MiB',
      higherIsBetter: false,
    },
  ];
  const better = (a: number, b: number, higherIsBetter: boolean) => (higherIsBetter ? a > b : a < b);
  const ahead = (row: Row) => better(row.ours, row.mem0, row.higherIsBetter);
  const mainTable: ResultTable = {
    caption:
      `${context.server.label}; ${sizes.size.toLocaleString('en')} memories each; ours / Mem0 is the ratio of the two figures. ` +
      `The last two columns: ours answering with about as many memories as Mem0 (${SIZED_MAX_TOKENS} tokens, no entities)`,
    columns: ['figure', 'unit', 'nestjs-memory', 'Mem0', 'ours / Mem0', 'ahead', 'ours, Mem0-sized answer', 'its ratio'],
    rows: rows.map((row) => [
      row.figure,
      row.unit,
      fmt(row.ours),
      fmt(row.mem0),
      ratio(row.ours, row.mem0),
      ahead(row) ? 'ours' : 'Mem0',
      row.sized === undefined ? '' : fmt(row.sized),
      row.sized === undefined ? '' : `${ratio(row.sized, row.mem0)}${better(row.sized, row.mem0, row.higherIsBetter) ? '' : ' (behind)'}`,
    ]),
  };
  const qualityTable: ResultTable = {
    caption: `hit@${HIT_AT} per category of the quality set (questions whose answers are all among the first five results)`,
    columns: ['category', 'questions', 'nestjs-memory', 'Mem0'],
    rows: QUALITY_CATEGORIES.map((category) => [
      category,
      sizes.questionsPerCategory[category],
      ours.quality.byCategory[category],
      mem0.quality.byCategory[category],
    ]),
  };
  const perQuery = (latencies: Latencies) => latencies.embeddingRequests / latencies.samples.length;
  const perAnswer = (latencies: Latencies) => latencies.results / latencies.samples.length;
  const kib = (latencies: Latencies) => latencies.bytes / latencies.samples.length / 1024;
  const answerTable: ResultTable = {
    caption: 'What each query cost and returned (sequential phase)',
    columns: ['per query', 'nestjs-memory', 'Mem0', 'ours, Mem0-sized answer'],
    rows: [
      ['results in the answer (mean)', fmt(perAnswer(ours.sequential)), fmt(perAnswer(mem0.sequential)), fmt(perAnswer(sized.sequential))],
      ['answer size (KiB, mean)', fmt(kib(ours.sequential)), fmt(kib(mem0.sequential)), fmt(kib(sized.sequential))],
      ['embedding requests', fmt(perQuery(ours.sequential)), fmt(perQuery(mem0.sequential)), fmt(perQuery(sized.sequential))],
    ],
  };
  const sizeTable: ResultTable = {
    caption: 'Largest tables after the ingest, before the quality set: in all (with TOAST and indexes), and the indexes alone',
    columns: ['system', 'table', 'MiB', 'of which indexes'],
    rows: SYSTEMS.flatMap((name) =>
      results[name].largest.map((table) => [LABEL[name], table.relation, fmt(mb(table.bytes)), fmt(mb(table.indexBytes))]),
    ),
  };

  const behind = rows.filter((row) => !ahead(row));
  const categoriesBehind = QUALITY_CATEGORIES.filter((category) => mem0.quality.byCategory[category] > ours.quality.byCategory[category]);
  const qualityNote =
    categoriesBehind.length === 0
      ? 'Mem0 scores higher in no category.'
      : `Mem0 scores higher in ${categoriesBehind
          .map((category) => `${category} (${mem0.quality.byCategory[category]} against ${ours.quality.byCategory[category]})`)
          .join(', ')}.` +
        (categoriesBehind.includes('pronoun')
          ? ' Mem0 stores an item whole, so an answer that refers back with a pronoun keeps the sentence naming the person; ours keeps it with that sentence only where it states no time of its own and nothing supersession keys.'
          : '');
  const findings = [
    `Ingest: ${fmt(ingestRate(ours))} against ${fmt(ingestRate(mem0))} memories/s, ${ratio(ingestRate(ours), ingestRate(mem0))} Mem0's. ` +
      `Ours embeds a request's items in batches (embedding requests per request of ${INGEST_BATCH}: ${fmt(ours.ingestEmbeddingRequests / (sizes.size / INGEST_BATCH))}) ` +
      "before taking a connection, then writes them, their entities and links in one transaction; Mem0's `add` with `infer: false` loops over the " +
      'messages, one embedding request and one INSERT each, awaited in turn ' +
      `(embedding requests per memory: ${fmt(mem0.ingestEmbeddingRequests / sizes.size)}).`,
    `Sequential search: p50 ${ratio(seq.ours.median, seq.mem0.median)}, p95 ${ratio(seq.ours.p95, seq.mem0.p95)}, p99 ${ratio(seq.ours.p99, seq.mem0.p99)} ` +
      `Mem0's (${fmt(seq.ours.median)} against ${fmt(seq.mem0.median)} ms at p50). Answering with about as many memories as Mem0 ` +
      `(${fmt(perAnswer(sized.sequential))} against ${fmt(perAnswer(ours.sequential))} by default), ours takes ${fmt(seq.sized.median)} ms at p50, ` +
      `${ratio(seq.sized.median, seq.mem0.median)} Mem0's${seq.sized.median < seq.mem0.median ? '' : ', still behind'}.`,
    `${CLIENTS} clients: ${fmt(throughput(ours.concurrent))} against ${fmt(throughput(mem0.concurrent))} queries/s, ` +
      `${ratio(throughput(ours.concurrent), throughput(mem0.concurrent))} Mem0's throughput; p99 ${ratio(conc.ours.p99, conc.mem0.p99)} ` +
      `(${fmt(conc.ours.p99)} against ${fmt(conc.mem0.p99)} ms). With the Mem0-sized answer: ${fmt(throughput(sized.concurrent))} queries/s ` +
      `(${ratio(throughput(sized.concurrent), throughput(mem0.concurrent))}), p99 ${fmt(conc.sized.p99)} ms (${ratio(conc.sized.p99, conc.mem0.p99)}).`,
    `hit@${HIT_AT}: ${ours.quality.hits} against ${mem0.quality.hits} of ${sizes.qualityQuestions} questions (${ratio(ours.quality.hits, mem0.quality.hits)}). ` +
      qualityNote,
    `Database size after ${sizes.size.toLocaleString('en')} memories: ${fmt(mb(ours.databaseBytes))} against ${fmt(mb(mem0.databaseBytes))} MiB ` +
      `(${ratio(ours.databaseBytes, mem0.databaseBytes)}; ${fmt(ours.databaseBytes / sizes.size)} against ${fmt(mem0.databaseBytes / sizes.size)} bytes per memory).`,
    `Per query, ours (embedding requests: ${fmt(perQuery(ours.sequential))}): embeds the question before taking a connection, then, ` +
      'outside any transaction, checks the bank and runs four arms of 50 candidates each on its pooled connection, the semantic and ' +
      'keyword arms on a second one beside the entity and temporal arms while the pool is mostly idle (semantic: the HNSW index with ' +
      'an iterative scan restricted to the bank; keyword: the `search_vector` full-text column and its GIN index, words ORed; entity: ' +
      "the names in the question and the memories linked to them; temporal: the question's time range against indexed " +
      "occurred/mentioned bounds, only when the question names a time); reads the candidates' rows with their entities and those " +
      "entities' observations in one statement (in two halves on the two connections); fuses them by reciprocal rank, lets " +
      'superseded facts give way to their successors and trims to the 4,096-token budget. Answers everything that fits the budget.',
    `Per query, Mem0 ${sizes.mem0Version} (embedding requests: ${fmt(perQuery(mem0.sequential))}): embeds the question; the pgvector store ` +
      '(one `pg.Client`, so every query of the process is serialised on one connection) runs an exact cosine scan of the ' +
      "user's rows (`ORDER BY vector <=> q LIMIT 60`, no index unless `hnsw: true`) and a keyword query that computes " +
      "`to_tsvector('simple', payload->>'textLemmatized')` for every row (no index exists for it); extracts proper nouns and " +
      'compounds from the question, embeds them in one more request and searches the `memories_entities` collection for each ' +
      '(empty with `infer: false`, which links no entities); then ranks the 60 semantic candidates only, by cosine + ' +
      'BM25-like keyword score + entity boost, dropping those under cosine 0.1. Answers the top 20 (its default).',
    behind.length === 0 ? 'nestjs-memory is ahead on every figure.' : `Behind Mem0 on: ${behind.map((row) => row.figure).join(', ')}.`,
  ];

  const figures: Record<string, number> = {};
  for (const row of rows) {
    const key = row.figure
      .replace(/[^a-z0-9]+/gi, '_')
      .replace(/^_|_$/g, '')
      .toLowerCase();
    figures[`ours_${key}`] = row.ours;
    figures[`mem0_${key}`] = row.mem0;
    figures[`ratio_${key}`] = row.ours / row.mem0;
    if (row.sized !== undefined) {
      figures[`ours_sized_${key}`] = row.sized;
      figures[`ratio_sized_${key}`] = row.sized / row.mem0;
    }
  }

  const workload = [
    `Both systems behind HTTP on 127.0.0.1, each a Node process of its own, on two databases of one ${context.server.label} server: ` +
      `nestjs-memory's standalone server (\`dist/src/main.js\`: pool of 10, no LLM, consolidation schedule off; the bank's own HNSW ` +
      'index, built after the load as its maintenance round builds it, within the ingest time) and ' +
      `Mem0 ${sizes.mem0Version}'s \`Memory\` from \`mem0ai/oss\` behind \`bench/mem0/server.mjs\` (pgvector store as configured by ` +
      'default, i.e. no vector index; history store off; telemetry off). Both embed through the same fake OpenAI-compatible server ' +
      `(\`test/helpers/fake-openai-server.ts\`, in the benchmark's process), which returns the hashing embedder's vectors, dimension ${DIMENSION}.`,
    `Ingest: ${sizes.size.toLocaleString('en')} synthetic memories (\`bench/seed/synthetic-memories.ts\`, seed ${CORPUS_SEED}), one sentence each, ` +
      `in requests of ${INGEST_BATCH} sent one after another: ours \`POST /v1/default/banks/${BANK}/memories\` with ${INGEST_BATCH} items ` +
      `(sync retain, with the item's timestamp); Mem0 one \`add\` of ${INGEST_BATCH} user messages with \`infer: false\` ` +
      "(user_id `bench`; Mem0's OSS `add` refuses a timestamp). Then `ANALYZE` on both databases, and the size of every table.",
    `Search: questions from seed ${QUERY_SEED} naming a person, a thing and a time. First each system answers ${sizes.warmUpQueries} questions of ` +
      `seed ${WARM_UP_SEED} from ${WARM_UP_CLIENTS} clients, so that every connection of our pool is warm (a new PostgreSQL session is ` +
      'slow for its first recalls) and no measured question has been asked; then ' +
      `${sizes.sequentialQueries} one after another and ${sizes.concurrentQueries} from ${CLIENTS} concurrent clients, in ${ROUNDS} rounds ` +
      'that rotate which goes first. Each with its defaults: ours recall (budget `mid`, 4,096 tokens, entity observations, asked at ' +
      "the corpus's now), Mem0 `search` (top 20, threshold 0.1); and ours once more with an answer about the size of Mem0's " +
      `(\`max_tokens: ${SIZED_MAX_TOKENS}\`, \`include.entities: null\`). Latency is measured at the client, around the HTTP request.`,
    `hit@${HIT_AT}: the quality set (\`bench/quality/memory-quality-corpus.ts\`, ${sizes.qualityItems} items, ${sizes.qualityQuestions} questions) ` +
      `retained into a fresh bank (ours, ${QUALITY_BATCH} items a request, with timestamps and user tags) and a fresh user (Mem0, the items ` +
      'as messages, user tags as a `scope` metadata value); a question scores when every answer sentence is inside one of the first five ' +
      'results. Tag-scoped questions filter on their tag on both (ours `all_strict`, Mem0 a metadata filter).',
    context.scale < 1 ? `Scaled to ${context.scale} of the full size.` : '',
  ]
    .filter(Boolean)
    .join('\n\n');

  return { workload, tables: [mainTable, answerTable, qualityTable, sizeTable], findings, figures };
}
