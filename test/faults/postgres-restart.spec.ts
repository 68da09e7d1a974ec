import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PostgresServer, startPostgresServer } from '../helpers/embedded-postgres-server.mjs';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';

/** Polls until `accept` holds or the deadline passes; returns the last value and whether it was accepted. */
async function pollUntil<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (accept(last)) return { value: last, ok: true, ms: timeoutMs - (deadline - Date.now()) };
    if (Date.now() >= deadline) return { value: last, ok: false, ms: timeoutMs };
    await sleep(everyMs);
  }
}

async function readiness(url: string): Promise<number> {
  try {
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
    await response.text();
    return response.status;
  } catch {
    return -1;
  }
}

describe('PostgreSQL restart under a running server', () => {
  let postgres: PostgresServer | undefined;
  let server: StandaloneServer | undefined;
  let root: string | undefined;

  afterAll(async () => {
    await server?.stop('SIGKILL').catch(() => undefined);
    await postgres?.pause().catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  });

  it('turns unready while the database is down and recovers without an app restart', async () => {
    postgres = await startPostgresServer();
    root = postgres.root;
    const port = postgres.port;
    server = await startStandalone({ DATABASE_URL: postgres.url, MEMORY_CONSOLIDATION_CRON: 'off', MEMORY_DB_POOL_SIZE: '4' });
    const url = server.url;
    expect(await readiness(url)).toBe(200);

    const retain = (text: string) =>
      fetch(`${url}/v1/default/banks/restart/memories`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ content: text }] }),
        signal: AbortSignal.timeout(10_000),
      });
    expect((await retain('Before the outage, Greta fed the llamas.')).status).toBe(200);

    const down = postgres;
    postgres = undefined;
    await down.pause();
    const unready = await pollUntil(() => readiness(url), (status) => status === 503, 15_000);
    expect(unready).toMatchObject({ ok: true, value: 503 });
    // The process itself survives the outage.
    expect(server.child.exitCode).toBeNull();

    postgres = await startPostgresServer({ port, root });
    const ready = await pollUntil(() => readiness(url), (status) => status === 200, 20_000);
    expect(ready).toMatchObject({ ok: true, value: 200 });

    // Pooled connections broken by the restart must not make the next requests fail for long.
    const retained = await pollUntil(async () => (await retain('After the outage, Greta sheared the llamas.')).status, (status) => status === 200, 10_000, 500);
    expect(retained).toMatchObject({ ok: true, value: 200 });
    const recall = await fetch(`${url}/v1/default/banks/restart/memories/recall`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'What did Greta do with the llamas?' }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(recall.status).toBe(200);
    const texts = ((await recall.json()) as { results: Array<{ text: string }> }).results.map((result) => result.text);
    expect(texts).toEqual(expect.arrayContaining(['Before the outage, Greta fed the llamas.', 'After the outage, Greta sheared the llamas.']));

    expect(await server.stop('SIGTERM')).toBe(0);
  }, 90_000);
});
