import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory, type StartedMemory } from '../helpers/memory-app.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';

/**
 * Instance A (a child process) is `kill -9`ed while its consolidation batch waits on the LLM;
 * instance B (in process) takes over the operation and the memories once A's leases have
 * expired, and finishes: every memory consolidated once, no duplicate observation.
 *
 * A gets short leases through its environment (`MEMORY_OPERATIONS_LEASE_MS`,
 * `MEMORY_CONSOLIDATION_LEASE_MS`), so nothing but the clock ends them: B waits them out
 * rather than finding them edited. The memories' lease outlasts the operation's, as it does with
 * the defaults (60 s and 30 s): B always reclaims the operation while A's batch is still leased,
 * and the operation must wait that lease out rather than complete with the batch left over.
 */
const BANK = 'b';
const TEXTS = [
  'Ingrid Vale grows tomatoes on her balcony.',
  'Ingrid Vale grows basil next to the tomatoes.',
  'Oskar Lind repairs old radios.',
  'Oskar Lind sells repaired radios at the fair.',
  'Petra Holm swims in the harbour every morning.',
  'Petra Holm swims even in winter.',
];
const LEASE_MS = 1500;
const MEMORY_LEASE_MS = 4000;

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms: ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('kill -9 during consolidation (PostgreSQL, two instances)', () => {
  let database: { name: string; url: string } | undefined;
  let fake: FakeOpenAiServer | undefined;
  let db: pg.Client | undefined;
  const children: StandaloneServer[] = [];
  let b: StartedMemory | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('faults_kill9');
    fake = await FakeOpenAiServer.start();
    // One observation per pair of memories, in the order given.
    fake.onChat((body: ChatRequestBody) => {
      const prompt = JSON.parse(String(body.messages.at(-1)!.content)) as { memories: Array<{ id: string; text: string }> };
      const create = [];
      for (let index = 0; index < prompt.memories.length; index += 2) {
        const pair = prompt.memories.slice(index, index + 2);
        create.push({ text: `Observed: ${pair.map((memory) => memory.text).join(' / ')}`, source_ids: pair.map((memory) => memory.id) });
      }
      return { create };
    });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    for (const child of children) await child.stop('SIGKILL').catch(() => undefined);
    await b?.app?.close().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await fake?.close();
    if (database) await dropTestDatabase(database.name).catch(() => undefined);
  });

  it('B reclaims the operation and the memories of a SIGKILLed A and consolidates each memory exactly once', async () => {
    const base = { DATABASE_URL: database!.url, MEMORY_CONSOLIDATION_CRON: 'off', MEMORY_DB_POOL_SIZE: '3' };

    // Seed through a server without an LLM (with one, retain would ask the fake to extract facts).
    const seeder = await startStandalone(base);
    children.push(seeder);
    const retained = await fetch(`${seeder.url}/v1/default/banks/${BANK}/memories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        items: TEXTS.map((content, index) => ({ content, timestamp: new Date(Date.UTC(2025, 0, 1, 0, index)).toISOString() })),
      }),
    });
    expect(retained.status).toBe(200);
    expect(await seeder.stop('SIGTERM')).toBe(0);
    const raw = (
      await db!.query<{ id: string }>(`SELECT id::text AS id FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'`, [BANK])
    ).rows;
    expect(raw).toHaveLength(TEXTS.length);

    // A: consolidation blocked on the LLM.
    const release = fake!.pause('chat');
    const arrived = fake!.nextRequest('chat');
    const a = await startStandalone({
      ...base,
      MEMORY_LLM: 'openai',
      OPENAI_BASE_URL: fake!.baseUrl,
      OPENAI_API_KEY: 'x',
      MEMORY_AI_MAX_RETRIES: '0',
      MEMORY_AI_TIMEOUT_MS: '60000',
      MEMORY_OPERATIONS_LEASE_MS: String(LEASE_MS),
      MEMORY_CONSOLIDATION_LEASE_MS: String(MEMORY_LEASE_MS),
    });
    children.push(a);
    const queued = await fetch(`${a.url}/v1/default/banks/${BANK}/consolidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(queued.status).toBe(200);
    const operationId = ((await queued.json()) as { operation_id: string }).operation_id;
    await withTimeout(arrived, 20_000, 'A never asked the LLM');

    // A holds everything under the leases its environment asked for (the defaults are 30 s and 60 s).
    const leaseLeftMs = `(extract(epoch FROM lease_expires_at - now()) * 1000)::int`;
    const claimed = (
      await db!.query<{ left_ms: number }>(
        `SELECT ${leaseLeftMs} AS left_ms FROM memory_units WHERE bank_id = $1 AND consolidation_status = 'claimed'`,
        [BANK],
      )
    ).rows;
    expect(claimed).toHaveLength(TEXTS.length);
    expect(Math.max(...claimed.map((row) => row.left_ms))).toBeLessThanOrEqual(MEMORY_LEASE_MS);
    const [operationBefore] = (
      await db!.query(`SELECT status, lease_owner, ${leaseLeftMs} AS left_ms FROM operations WHERE id = $1`, [operationId])
    ).rows;
    expect(operationBefore.status).toBe('processing');
    expect(operationBefore.lease_owner).toContain(`-${a.child.pid}-`);
    expect(operationBefore.left_ms).toBeLessThanOrEqual(LEASE_MS);

    a.child.kill('SIGKILL');
    expect(await withTimeout(a.exited, 5000, 'A did not die')).toBeNull();
    expect(a.child.signalCode).toBe('SIGKILL');

    release();

    b = await bootStartedMemory({
      databaseUrl: database!.url,
      instanceId: 'instance-b',
      poolSize: 3,
      watchdogIntervalMs: 60_000,
      llm: { provider: 'openai', baseUrl: fake!.baseUrl, apiKey: 'x', maxRetries: 0, timeoutMs: 10_000 },
      consolidation: { leaseMs: LEASE_MS, cron: null },
      operations: { leaseMs: LEASE_MS, pollIntervalMs: 100 },
    });
    const app: INestApplicationContext = b.app;

    // B's worker takes over A's operation and finishes it.
    type OperationRow = { status: string; attempts: number; result: any; lease_owner: string | null };
    const operation = await eventually(
      async () =>
        (await db!.query<OperationRow>(`SELECT status, attempts, result, lease_owner FROM operations WHERE id = $1`, [operationId]))
          .rows[0],
      (row) => row?.status === 'completed' || row?.status === 'failed',
      20_000,
      100,
    );
    expect(operation).toMatchObject({ status: 'completed' });
    expect(operation!.attempts).toBeGreaterThanOrEqual(2);
    // B's run did A's batch itself: it waited out the memories' lease before completing.
    expect(operation!.result).toMatchObject({ created: TEXTS.length / 2, memories_consolidated: TEXTS.length });
    // Nothing left to do on a second pass: a double run is a no-op.
    const again = await app.get(ConsolidationService).consolidateBank(BANK);
    expect(again).toMatchObject({ created: 0, memories_consolidated: 0 });

    const memories = (
      await db!.query<{ id: string; consolidation_status: string; lease_owner: string | null }>(
        `SELECT id::text AS id, consolidation_status, lease_owner FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'`,
        [BANK],
      )
    ).rows;
    expect(memories.map((row) => row.consolidation_status)).toEqual(TEXTS.map(() => 'done'));
    expect(memories.filter((row) => row.lease_owner !== null)).toEqual([]);

    const observations = (
      await db!.query<{ id: string; source_memory_ids: string[]; observation_key: string | null }>(
        `SELECT id::text AS id, source_memory_ids::text[] AS source_memory_ids, observation_key FROM memory_units
        WHERE bank_id = $1 AND fact_type = 'observation' AND state = 'valid'`,
        [BANK],
      )
    ).rows;
    expect(observations).toHaveLength(TEXTS.length / 2);
    const sourceSets = observations.map((row) => [...row.source_memory_ids].sort().join(','));
    expect(new Set(sourceSets).size).toBe(sourceSets.length);
    const keys = observations.map((row) => row.observation_key);
    expect(keys.every((key) => key !== null)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    // Each raw memory is the source of exactly one observation.
    const sources = observations.flatMap((row) => row.source_memory_ids).sort();
    expect(sources).toEqual(raw.map((row) => row.id).sort());
  }, 90_000);
});
