// Mem0's open-source library (`Memory` from `mem0ai/oss`) behind a small HTTP server on
// 127.0.0.1, for the mem0-comparison benchmark (bench/benchmarks/mem0-comparison.ts). It is not
// part of nestjs-memory: this folder has its own package.json and node_modules.
//
// Configuration (environment):
//   DATABASE_URL          PostgreSQL with pgvector (the `pgvector` vector store, one table)
//   OPENAI_BASE_URL       OpenAI-compatible base URL, including /v1 (the embedder and the LLM)
//   OPENAI_API_KEY        its key (default `bench`)
//   MEM0_EMBEDDING_DIM    embedding dimension (default 384)
//   MEM0_COLLECTION       table name (default `memories`)
//   MEM0_HNSW             `true` for Mem0's optional HNSW index (default: none, exact scan)
//   HOST, PORT            where to listen (default 127.0.0.1, 0 = a free port)
//
// Routes, shaped like Mem0's own REST server:
//   POST /memories  {messages: [{role, content}], user_id, metadata?, infer?}  -> Memory.add
//   POST /search    {query, user_id, top_k?, filters?}                         -> Memory.search
//   GET  /health
// Once ready it prints one JSON line, {"listening": "http://127.0.0.1:<port>"}, on stdout.
//
// Telemetry is off (MEM0_TELEMETRY=false, set before the library loads) and Mem0's notice state
// goes to a temporary MEM0_DIR, so that nothing leaves the machine and nothing is written to ~.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

process.env.MEM0_TELEMETRY = 'false';
process.env.MEM0_DIR ??= mkdtempSync(path.join(tmpdir(), 'mem0-bench-'));

const { Memory } = await import('mem0ai/oss');

const databaseUrl = process.env.DATABASE_URL;
const openAiBaseUrl = process.env.OPENAI_BASE_URL;
if (!databaseUrl || !openAiBaseUrl) {
  console.error('bench/mem0/server.mjs needs DATABASE_URL and OPENAI_BASE_URL');
  process.exit(2);
}
const apiKey = process.env.OPENAI_API_KEY ?? 'bench';
const dimension = Number(process.env.MEM0_EMBEDDING_DIM ?? 384);

const memory = new Memory({
  version: 'v1.1',
  embedder: {
    provider: 'openai',
    config: { apiKey, baseURL: openAiBaseUrl, model: 'text-embedding-3-small', embeddingDims: dimension },
  },
  vectorStore: {
    provider: 'pgvector',
    config: {
      connectionString: databaseUrl,
      collectionName: process.env.MEM0_COLLECTION ?? 'memories',
      dimension,
      embeddingModelDims: dimension,
      hnsw: process.env.MEM0_HNSW === 'true',
    },
  },
  // Never called with `infer: false`; configured so that nothing defaults to api.openai.com.
  llm: { provider: 'openai', config: { apiKey, baseURL: openAiBaseUrl, model: 'gpt-4o-mini' } },
  // The history store is SQLite (better-sqlite3, a native module); the comparison measures the
  // memories themselves, and without history Mem0 does strictly less work per add.
  disableHistory: true,
});

const routes = {
  'POST /memories': async (body) => {
    const { messages, user_id: userId, metadata, infer = false } = body;
    return memory.add(messages, { userId, metadata, infer });
  },
  'POST /search': async (body) => {
    const { query, user_id: userId, top_k: topK, filters } = body;
    return memory.search(query, { filters: { ...filters, user_id: userId }, ...(topK !== undefined && { topK }) });
  },
  'GET /health': async () => ({ status: 'ok' }),
};

function readJson(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

function send(response, status, payload) {
  const text = JSON.stringify(payload);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const server = createServer(async (request, response) => {
  const route = routes[`${request.method} ${(request.url ?? '').split('?')[0]}`];
  if (!route) return send(response, 404, { detail: `no route for ${request.method} ${request.url}` });
  let body;
  try {
    body = await readJson(request);
  } catch {
    return send(response, 400, { detail: 'request body is not JSON' });
  }
  try {
    send(response, 200, await route(body));
  } catch (error) {
    send(response, 500, { detail: error instanceof Error ? error.message : String(error) });
  }
});

// The first call waits for Memory's initialisation (the vector store's connection, the
// extension and the table): the server listens only once Mem0 can answer.
await memory.getAll({ filters: { user_id: 'startup-probe' }, topK: 1 });

server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  process.stdout.write(`${JSON.stringify({ listening: `http://${address}:${port}` })}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
