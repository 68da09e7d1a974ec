import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { AiClients, createAiClients } from '../../src/external/ai-clients.js';
import { ConnectionHeldAcrossExternalCallError, ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { HashingEmbedder } from '../../src/external/hashing-embedder.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { LogCapture } from '../helpers/log-capture.js';
import { settingsAgainst, TEST_DIMENSION } from './ai-client-settings.js';

// Any JSON object: these calls test the guard, not the reply.
const ANY_OBJECT = z.record(z.string(), z.unknown());

/** Invariant 1 (docs/ARCHITECTURE.md): no external call while the async context holds a pooled connection. */
describe('every AI client refuses to run inside a SQL scope', () => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;
  let fake: FakeOpenAiServer;
  let guard: ExternalCallGuard;
  let clients: AiClients;

  const calls: Record<string, () => Promise<unknown>> = {
    'the hashing embedder': () => new HashingEmbedder(guard, 16).embed(['hello']),
    'the openai embedder': () => clients.embedder.embed(['hello']),
    'the LLM': () => clients.llm!.completeJson({ operation: 'probe', system: 'JSON', user: 'hi', schema: ANY_OBJECT }),
    'the reranker': () => clients.reranker!.rerank('hello', ['hello world']),
  };

  beforeAll(async () => {
    new LogCapture().install();
    registry = new DataSourceRegistry();
    const dataSource: DataSource = await registry.acquire('pglite://memory/external-guard-test');
    database = new MemoryDatabase(dataSource);
    fake = await FakeOpenAiServer.start({ embeddingDimension: TEST_DIMENSION });
    guard = new ExternalCallGuard('strict');
    clients = createAiClients(settingsAgainst(fake), guard);
  });

  afterEach(() => fake.reset());

  afterAll(async () => {
    await clients?.close();
    await fake?.close();
    await registry?.closeAll();
  });

  it.each(Object.keys(calls))('%s throws ConnectionHeldAcrossExternalCallError and counts it', async (name) => {
    const violationsBefore = guard.violations;

    const inside = database.withConnection(async (sql) => {
      await sql.query('SELECT 1');
      return calls[name]();
    });

    await expect(inside).rejects.toBeInstanceOf(ConnectionHeldAcrossExternalCallError);
    expect(guard.violations).toBe(violationsBefore + 1);
    expect(fake.requestCount()).toBe(0);
  });

  it.each(Object.keys(calls))('%s runs once the scope has released its connection', async (name) => {
    const violationsBefore = guard.violations;
    await database.withConnection((sql) => sql.query('SELECT 1'));

    await expect(calls[name]()).resolves.toBeDefined();
    expect(guard.violations).toBe(violationsBefore);
  });

  it('is refused inside a transaction too, which rolls back', async () => {
    await database.query('CREATE TEMP TABLE IF NOT EXISTS guard_probe (n int)');

    const inside = database.transaction(async (sql) => {
      await sql.query('INSERT INTO guard_probe VALUES (1)');
      await clients.embedder.embed(['inside a transaction']);
    });

    await expect(inside).rejects.toBeInstanceOf(ConnectionHeldAcrossExternalCallError);
    await expect(database.query('SELECT count(*)::int AS n FROM guard_probe')).resolves.toEqual([{ n: 0 }]);
  });

  it('in warn mode lets the call through but still counts it', async () => {
    const violated: string[] = [];
    const warnGuard = new ExternalCallGuard('warn', { onViolation: (client) => void violated.push(client) });
    const warnClients = createAiClients(settingsAgainst(fake), warnGuard);
    try {
      const vectors = await database.withConnection(() => warnClients.embedder.embed(['counted']));

      expect(vectors).toHaveLength(1);
      expect(warnGuard.violations).toBe(1);
      expect(violated).toEqual(['embedder']);
    } finally {
      await warnClients.close();
    }
  });
});
