import { rm } from 'node:fs/promises';
import pg from 'pg';
import { type PostgresServer, startPostgresServer } from '../helpers/embedded-postgres-server.mjs';
import { eventually } from '../helpers/eventually.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';
import { type ReceivedRequest, WebhookReceiver } from '../helpers/webhook-receiver.js';

async function readiness(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
    await response.text();
    return response.status;
  } catch {
    return -1;
  }
}

function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

/**
 * One PostgreSQL server of its own for the file (the shared test server must not go down), taken
 * down and brought back on the same port and data directory while a standalone server runs.
 */
describe('PostgreSQL restart under a running server', () => {
  let postgres: PostgresServer | undefined;
  let port: number;
  let root: string | undefined;
  let server: StandaloneServer | undefined;
  let fake: FakeOpenAiServer | undefined;
  let receiver: WebhookReceiver | undefined;

  /** Stops the database, keeping its data; `restartDatabase` brings it back. */
  async function stopDatabase(): Promise<void> {
    const down = postgres!;
    postgres = undefined;
    await down.pause();
  }

  async function restartDatabase(): Promise<void> {
    postgres = await startPostgresServer({ port, root });
  }

  beforeAll(async () => {
    postgres = await startPostgresServer();
    ({ port, root } = postgres);
  });

  afterEach(async () => {
    await server?.stop('SIGKILL').catch(() => undefined);
    server = undefined;
    await fake?.close();
    fake = undefined;
    await receiver?.close();
    receiver = undefined;
    // A test that failed during the outage leaves the database down for the next one.
    if (!postgres) await restartDatabase();
  });

  afterAll(async () => {
    await postgres?.pause().catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  });

  it('turns unready while the database is down and recovers without an app restart', async () => {
    server = await startStandalone({ DATABASE_URL: postgres!.url, MEMORY_CONSOLIDATION_CRON: 'off', MEMORY_DB_POOL_SIZE: '4' });
    const url = server.url;
    expect(await readiness(url)).toBe(200);

    const retain = (text: string) => post(url, '/v1/default/banks/restart/memories', { items: [{ content: text }] });
    expect((await retain('Before the outage, Greta fed the llamas.')).status).toBe(200);

    await stopDatabase();
    await eventually(
      () => readiness(url),
      (status) => status === 503,
      15_000,
      250,
    );
    // The process itself survives the outage.
    expect(server.child.exitCode).toBeNull();

    await restartDatabase();
    await eventually(
      () => readiness(url),
      (status) => status === 200,
      20_000,
      250,
    );

    // Pooled connections broken by the restart must not make the next requests fail for long.
    await eventually(
      async () => (await retain('After the outage, Greta sheared the llamas.')).status,
      (status) => status === 200,
      10_000,
      500,
    );
    const recall = await post(url, '/v1/default/banks/restart/memories/recall', { query: 'What did Greta do with the llamas?' });
    expect(recall.status).toBe(200);
    const texts = ((await recall.json()) as { results: Array<{ text: string }> }).results.map((result) => result.text);
    expect(texts).toEqual(
      expect.arrayContaining(['Before the outage, Greta fed the llamas.', 'After the outage, Greta sheared the llamas.']),
    );

    expect(await server.stop('SIGTERM')).toBe(0);
  }, 90_000);

  /**
   * The database goes down while a queued consolidation waits on the LLM and three
   * `retain.completed` deliveries wait on a receiver that holds its answers; the test lets both
   * answers go during the outage.
   * After the restart the same process finishes the consolidation (its operation and memory leases
   * are short, through the environment) and records the deliveries the receiver already took: no
   * memory is consolidated twice, and each event reaches the receiver exactly once.
   */
  it('finishes a consolidation and its webhook deliveries that were running when the database went down', async () => {
    const BANK = 'outage';
    const SECRET = 'outage-secret';
    const TEXTS: Record<string, string[]> = {
      'doc-a': ['Hedda Brandt keeps bees behind the school.', 'Hedda Brandt sells the honey at the market.'],
      'doc-b': ['Ivo Maric restores old sailing boats.', 'Ivo Maric sails a restored boat every summer.'],
      'doc-c': ['Jana Novak teaches chess at the library.', 'Jana Novak won the city chess open.'],
    };

    const admin = new pg.Client({ connectionString: postgres!.url });
    await admin.connect();
    await admin.query('CREATE DATABASE outage').finally(() => admin.end());
    const databaseUrl = postgres!.url.replace(/\/postgres$/, '/outage');

    fake = await FakeOpenAiServer.start();
    fake.onChat((body: ChatRequestBody) => {
      const user = String(body.messages.at(-1)!.content);
      if (!user.startsWith('{')) {
        // Fact extraction at retain: the content, as one fact.
        return { facts: [{ text: user.slice(user.indexOf('Content:\n') + 'Content:\n'.length).trim(), fact_type: 'world', entities: [] }] };
      }
      // Consolidation: one observation per pair of memories, in the order given.
      const prompt = JSON.parse(user) as { memories: Array<{ id: string; text: string }> };
      const create = [];
      for (let index = 0; index < prompt.memories.length; index += 2) {
        const pair = prompt.memories.slice(index, index + 2);
        create.push({ text: `Observed: ${pair.map((memory) => memory.text).join(' / ')}`, source_ids: pair.map((memory) => memory.id) });
      }
      return { create };
    });
    // Holds its answers until the test lets them go, as the fake LLM does once paused.
    receiver = await new WebhookReceiver(SECRET, { kind: 'held', status: 200 }).start();

    server = await startStandalone({
      DATABASE_URL: databaseUrl,
      MEMORY_CONSOLIDATION_CRON: 'off',
      MEMORY_DB_POOL_SIZE: '4',
      MEMORY_LLM: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'x',
      MEMORY_AI_MAX_RETRIES: '0',
      MEMORY_AI_TIMEOUT_MS: '20000',
      MEMORY_OPERATIONS_LEASE_MS: '1500',
      MEMORY_OPERATIONS_POLL_MS: '100',
      MEMORY_CONSOLIDATION_LEASE_MS: '1500',
      // Longer than the outage: the result of a send that ended during it is still ours to write.
      MEMORY_WEBHOOK_LEASE_MS: '15000',
      MEMORY_WEBHOOK_POLL_MS: '100',
      MEMORY_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const url = server.url;
    const hooked = await post(url, `/v1/default/banks/${BANK}/webhooks`, {
      url: receiver.url,
      secret: SECRET,
      event_types: ['retain.completed', 'consolidation.completed'],
      http_config: { timeout_seconds: 10 },
    });
    expect(hooked.status).toBe(201);

    const retained = await Promise.all(
      Object.entries(TEXTS).map(([documentId, texts]) =>
        post(url, `/v1/default/banks/${BANK}/memories`, { items: texts.map((content) => ({ content, document_id: documentId })) }),
      ),
    );
    expect(retained.map((response) => response.status)).toEqual([200, 200, 200]);
    const releaseLlm = fake.pause('chat');
    const asked = fake.nextRequest('chat');
    const queued = await post(url, `/v1/default/banks/${BANK}/consolidate`, {});
    expect(queued.status).toBe(200);
    const operationId = ((await queued.json()) as { operation_id: string }).operation_id;

    // Both kinds of work are on the wire, waiting on their answers, when the database goes down.
    await asked;
    await eventually(
      () => receiver!.requests.length,
      (count) => count === 3,
      5000,
      20,
    );
    await stopDatabase();
    expect(fake.inFlight('chat')).toBe(1);
    await eventually(
      () => readiness(url),
      (status) => status === 503,
      10_000,
      100,
    );

    // Both answers land while the database is down: the LLM's, and the receiver's three, each of
    // which the dispatcher then fails to record (and says so once per delivery).
    receiver.always({ kind: 'status', status: 200 });
    expect(receiver.releaseHeld()).toBe(3);
    releaseLlm();
    await eventually(
      () => fake!.inFlight('chat'),
      (count) => count === 0,
      10_000,
      50,
    );
    const unrecorded = () =>
      new Set([...server!.output().matchAll(/Delivery (\S+): could not record the result \(/g)].map((match) => match[1]));
    await eventually(
      () => unrecorded().size,
      (count) => count === 3,
      15_000,
      50,
    );
    expect(server.child.exitCode).toBeNull();

    await restartDatabase();
    await eventually(
      () => readiness(url),
      (status) => status === 200,
      20_000,
      100,
    );

    const operation = await eventually(
      async () =>
        (await (await fetch(`${url}/v1/default/banks/${BANK}/operations/${operationId}`)).json()) as {
          status: string;
          retry_count: number;
        },
      (body) => body.status === 'completed' || body.status === 'failed',
      20_000,
      100,
    );
    expect(operation).toMatchObject({ status: 'completed' });
    // The attempt the outage broke was retried, by this same process.
    expect(operation.retry_count).toBeGreaterThanOrEqual(1);

    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      // The retry completes only after the batches of the attempt the outage broke, still running
      // in this process, have ended, and after claiming what they handed back
      // (ConsolidationService.consolidateOnceLeasesLapse). Waited for all the same, up to a bound,
      // rather than read once: what this asserts is that none is left pending, not the instant.
      const raw = await eventually(
        async () =>
          (
            await db.query<{ id: string; consolidation_status: string; lease_token: string | null }>(
              `SELECT id::text AS id, consolidation_status, lease_token::text AS lease_token, lease_expires_at - now() AS lease_left
                 FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'`,
              [BANK],
            )
          ).rows,
        (rows) => rows.length === 6 && rows.every((row) => row.consolidation_status === 'done'),
        20_000,
        100,
      );
      expect(raw).toHaveLength(6);
      expect(raw.map((row) => row.consolidation_status)).toEqual(raw.map(() => 'done'));
      const observations = (
        await db.query<{ source_memory_ids: string[]; observation_key: string | null }>(
          `SELECT source_memory_ids::text[] AS source_memory_ids, observation_key FROM memory_units
          WHERE bank_id = $1 AND fact_type = 'observation' AND state = 'valid'`,
          [BANK],
        )
      ).rows;
      expect(observations).toHaveLength(3);
      expect(new Set(observations.map((row) => row.observation_key)).size).toBe(3);
      // Each raw memory is the source of exactly one observation.
      expect(observations.flatMap((row) => row.source_memory_ids).sort()).toEqual(raw.map((row) => row.id).sort());

      // Every event delivered, and recorded as delivered on its first and only attempt. The retry
      // may find memories the broken attempt's batches still hold and queue a run of their own
      // for them (ConsolidationService, "What this attempt never claimed"), which announces its
      // own completion: waited for until no operation of the bank is left to run.
      const { rows: deliveries } = await eventually(
        async () => ({
          open: (
            await db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM operations WHERE bank_id = $1 AND status IN ('pending', 'processing')`,
              [BANK],
            )
          ).rows[0].n,
          rows: (
            await db.query<{ event_type: string; status: string; attempts: number }>(
              `SELECT event_type, status, attempts FROM webhook_deliveries WHERE bank_id = $1 ORDER BY event_type, created_at`,
              [BANK],
            )
          ).rows,
        }),
        ({ open, rows }) => open === 0 && rows.length >= 4 && rows.every((row) => row.status === 'delivered'),
        20_000,
        100,
      );
      const runs = deliveries.filter((row) => row.event_type === 'consolidation.completed').length;
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(deliveries).toEqual([
        ...Array.from({ length: runs }, () => ({ event_type: 'consolidation.completed', status: 'delivered', attempts: 1 })),
        ...Object.keys(TEXTS).map(() => ({ event_type: 'retain.completed', status: 'delivered', attempts: 1 })),
      ]);
      expect(receiver.requests).toHaveLength(deliveries.length);
    } finally {
      await db.end();
    }

    const eventKey = (request: ReceivedRequest) =>
      request.body.event === 'consolidation.completed'
        ? `consolidation:${request.body.operation_id}`
        : `retain:${request.body.data.document_id}`;
    expect(receiver.requests.every((request) => request.verified && request.body.bank_id === BANK)).toBe(true);
    const accepted = receiver.accepted.map(eventKey);
    expect(accepted).toEqual(expect.arrayContaining([`consolidation:${operationId}`, 'retain:doc-a', 'retain:doc-b', 'retain:doc-c']));
    // One event per run and document, and not one of them sent twice (each was recorded on its
    // first attempt, above).
    expect(new Set(accepted).size).toBe(accepted.length);
    const completed = receiver.accepted.filter((request) => request.body.event === 'consolidation.completed');
    expect(completed.every((request) => request.body.status === 'completed')).toBe(true);
    expect(completed.reduce((created, request) => created + Number(request.body.data.observations_created), 0)).toBe(3);

    // Polling through the outage (every 100 ms) is reported once per loop, and once when it
    // recovers: not once per poll. A loop logs its recovery at its first successful claim after
    // the restart, which may come after the work above is done: wait for every one of them.
    const failedLoops = () => [...server!.output().matchAll(/(Worker \d+|Webhook loop \d+) could not claim/g)].map((match) => match[1]);
    const recovered = (loop: string) =>
      new RegExp(`${loop} can claim (work|deliveries) again after \\d+ failed attempt`).test(server!.output());
    expect(failedLoops().length).toBeGreaterThan(0);
    await eventually(
      () => failedLoops().filter((loop) => !recovered(loop)),
      (waiting) => waiting.length === 0,
      10_000,
    );

    expect(await server.stop('SIGTERM')).toBe(0);
    // The output is complete now: still one failure line per loop.
    expect(new Set(failedLoops()).size).toBe(failedLoops().length);
  }, 90_000);
});
