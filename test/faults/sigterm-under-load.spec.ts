import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';

/**
 * SIGTERM while 20 clients retain (sync and async): the process exits 0 within its shutdown
 * deadline, and nothing the server acknowledged is lost — every 2xx sync retain is stored, and
 * every accepted async operation is completed, at the latest by a second server on the same DB.
 */
const SHUTDOWN_TIMEOUT_MS = 5000;
const EXIT_MARGIN_MS = 4000;
const CLIENTS = 20;
const BANK = 'load';

interface Acked {
  sync: string[];
  async: Array<{ marker: string; operationId: string }>;
}

async function clientLoop(
  url: string,
  client: number,
  stopAt: { stopped: boolean },
  acked: Acked,
  counts: { sent: number; failed: number },
) {
  for (let n = 0; !stopAt.stopped; n += 1) {
    const isAsync = n % 2 === 1;
    const marker = `marker-c${client}-n${n}-${isAsync ? 'async' : 'sync'} zebra${client}x${n}`;
    counts.sent += 1;
    try {
      const response = await fetch(`${url}/v1/default/banks/${BANK}/memories`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ content: marker }], async: isAsync }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status >= 200 && response.status < 300) {
        const body = JSON.parse(text);
        if (isAsync) {
          expect(body.operation_id).toEqual(expect.any(String));
          acked.async.push({ marker, operationId: body.operation_id });
        } else {
          acked.sync.push(marker);
        }
      } else {
        counts.failed += 1;
        // Refused while shutting down: fine, but never a 500.
        expect(response.status).not.toBe(500);
      }
    } catch {
      counts.failed += 1; // connection refused / reset once the server stops listening
      if (stopAt.stopped) return;
      await sleep(20); // a client's pause before it tries again: part of the load, not a wait for anything
    }
  }
}

describe('SIGTERM under load (PostgreSQL)', () => {
  let database: { name: string; url: string } | undefined;
  const servers: StandaloneServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('faults_sigterm');
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL').catch(() => undefined);
    if (database) await dropTestDatabase(database.name).catch(() => undefined);
  });

  it('exits 0 within the deadline and loses no acknowledged retain', async () => {
    const env = {
      DATABASE_URL: database!.url,
      MEMORY_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      MEMORY_CONSOLIDATION_CRON: 'off',
      MEMORY_DB_POOL_SIZE: '8',
    };
    const first = await startStandalone(env);
    servers.push(first);
    expect((await fetch(`${first.url}/health/ready`)).status).toBe(200);

    const acked: Acked = { sync: [], async: [] };
    const counts = { sent: 0, failed: 0 };
    const stop = { stopped: false };
    const loops = Array.from({ length: CLIENTS }, (_, client) => clientLoop(first.url, client, stop, acked, counts));

    // SIGTERM mid-stream, once the server has acknowledged more retains than there are clients
    // (the load is real); the clients go on until the process is gone, so requests race the shutdown.
    await eventually(
      () => acked.sync.length + acked.async.length,
      (count) => count > CLIENTS,
      30_000,
    );
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const giveUp = new AbortController();
    const exitDeadline = sleep(SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS, 'timeout' as const, { signal: giveUp.signal }).catch(
      () => 'exited' as const,
    );
    const exit = await Promise.race([first.exited, exitDeadline]);
    giveUp.abort();
    const exitMs = Date.now() - signalledAt;
    stop.stopped = true;
    await Promise.all(loops);

    expect({ exit, exitMs: exitMs <= SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS }).toEqual({ exit: 0, exitMs: true });
    expect(acked.sync.length + acked.async.length).toBeGreaterThan(CLIENTS); // the load was real
    expect(first.output()).not.toMatch(/Shutdown step '[^']+' (failed|timed out)/);

    // Every acknowledged sync retain is stored.
    const client = new pg.Client({ connectionString: database!.url });
    await client.connect();
    try {
      const stored = new Set(
        (await client.query<{ text: string }>(`SELECT text FROM memory_units WHERE bank_id = $1`, [BANK])).rows.map((row) => row.text),
      );
      expect(acked.sync.filter((marker) => !stored.has(marker))).toEqual([]);

      // Accepted async operations: pending or completed, none lost, none failed.
      const ids = acked.async.map((each) => each.operationId);
      const rows = (
        await client.query<{ id: string; status: string }>(`SELECT id::text AS id, status FROM operations WHERE id = ANY($1::uuid[])`, [
          ids,
        ])
      ).rows;
      const statusOf = new Map(rows.map((row) => [row.id, row.status]));
      expect(ids.filter((id) => !statusOf.has(id))).toEqual([]);
      expect(ids.filter((id) => !['pending', 'completed'].includes(statusOf.get(id)!)).map((id) => `${id}:${statusOf.get(id)}`)).toEqual(
        [],
      );

      // A second server on the same database completes what is still pending.
      const second = await startStandalone(env);
      servers.push(second);
      const statusOnSecond = async (operationId: string) => {
        const response = await fetch(`${second.url}/v1/default/banks/${BANK}/operations/${operationId}`);
        return ((await response.json()) as { status: string }).status;
      };
      // Stops at the first failed or lost operation rather than waiting out the deadline for it.
      const statuses = await eventually(
        () => Promise.all(acked.async.map((each) => statusOnSecond(each.operationId))),
        (all) => all.every((status) => status !== 'pending' && status !== 'processing'),
        25_000,
        250,
      );
      expect(
        acked.async.map((each, index) => `${each.operationId}:${statuses[index]}`).filter((entry) => !entry.endsWith(':completed')),
      ).toEqual([]);

      const after = new Set(
        (await client.query<{ text: string }>(`SELECT text FROM memory_units WHERE bank_id = $1`, [BANK])).rows.map((row) => row.text),
      );
      expect([...acked.sync, ...acked.async.map((each) => each.marker)].filter((marker) => !after.has(marker))).toEqual([]);
      expect(await second.stop('SIGTERM')).toBe(0);
    } finally {
      await client.end();
    }
  }, 90_000);
});
