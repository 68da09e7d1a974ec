import pg from 'pg';
import { eventually, occurrences } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';
import { type ReceivedRequest, WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Instance A (a child process) is `kill -9`ed while the webhook receiver holds three of its sends
 * open; instance B (a second child) takes the deliveries over once A's leases have expired and
 * sends them again to the receiver, which now answers 200. A delivery A finished before the
 * crash is not sent again. Each retain is told apart by its document id.
 *
 * The lease on a delivery is the longer of `MEMORY_WEBHOOK_LEASE_MS` and the webhook's timeout
 * plus a 5 s margin, so with a 2 s timeout and a 1 s lease, A's claims run out 7 s after they
 * were made (30 s with the default lease).
 */
const BANK = 'hooked';
const SECRET = 'kill9-secret';
const TIMEOUT_SECONDS = 2;
const LEASE_CAP_MS = TIMEOUT_SECONDS * 1000 + 5000;

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  lease_owner: string | null;
  lease_left_ms: number | null;
  lease_expires_ms: number | null;
  delivered_ms: number | null;
  last_response_status: number | null;
  document_id: string;
}

const documentOf = (request: ReceivedRequest): string => request.body.data.document_id;

describe('kill -9 during webhook delivery (PostgreSQL, two instances)', () => {
  let database: { name: string; url: string } | undefined;
  let receiver: WebhookReceiver | undefined;
  let db: pg.Client | undefined;
  const children: StandaloneServer[] = [];

  const deliveries = async (): Promise<DeliveryRow[]> =>
    (
      await db!.query<DeliveryRow>(
        `SELECT id::text AS id, status, attempts, lease_owner, last_response_status,
                (extract(epoch FROM lease_expires_at - now()) * 1000)::int AS lease_left_ms,
                (extract(epoch FROM lease_expires_at) * 1000)::float8 AS lease_expires_ms,
                (extract(epoch FROM delivered_at) * 1000)::float8 AS delivered_ms,
                payload->'data'->>'document_id' AS document_id
           FROM webhook_deliveries WHERE bank_id = $1 ORDER BY document_id`,
        [BANK],
      )
    ).rows;

  beforeAll(async () => {
    database = await createTestDatabase('faults_kill9_delivery');
    receiver = await new WebhookReceiver(SECRET).start();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    for (const child of children) await child.stop('SIGKILL').catch(() => undefined);
    await receiver?.close();
    await db?.end().catch(() => undefined);
    if (database) await dropTestDatabase(database.name).catch(() => undefined);
  });

  it('B reclaims the deliveries a SIGKILLed A was sending and delivers each event exactly once', async () => {
    const env = {
      DATABASE_URL: database!.url,
      MEMORY_CONSOLIDATION_CRON: 'off',
      MEMORY_DB_POOL_SIZE: '3',
      MEMORY_WEBHOOK_ALLOW_PRIVATE: 'true',
      MEMORY_WEBHOOK_LEASE_MS: '1000',
      MEMORY_WEBHOOK_POLL_MS: '100',
    };
    const a = await startStandalone(env);
    children.push(a);
    const post = (base: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const retain = (base: string, documentId: string) =>
      post(base, `/v1/default/banks/${BANK}/memories`, {
        items: [{ content: `Delivery test note ${documentId}.`, document_id: documentId }],
      });

    const created = await post(a.url, `/v1/default/banks/${BANK}/webhooks`, {
      url: receiver!.url,
      secret: SECRET,
      event_types: ['retain.completed'],
      http_config: { timeout_seconds: TIMEOUT_SECONDS },
    });
    expect(created.status).toBe(201);
    const webhookId = ((await created.json()) as { id: string }).id;

    // One event A delivers before the crash: B must not send it again.
    expect((await retain(a.url, 'doc-0')).status).toBe(200);
    await eventually(deliveries, (rows) => rows.length === 1 && rows[0].status === 'delivered', 10_000);

    // Three events whose sends the receiver holds open until A dies.
    receiver!.always({ kind: 'hang' });
    const held = ['doc-1', 'doc-2', 'doc-3'];
    const retained = await Promise.all(held.map((documentId) => retain(a.url, documentId)));
    expect(retained.map((response) => response.status)).toEqual([200, 200, 200]);
    await eventually(
      () => receiver!.requests.filter((request) => request.answered === 'hang').length,
      (count) => count === held.length,
      10_000,
    );

    const beforeKill = await deliveries();
    const inFlight = beforeKill.filter((row) => row.document_id !== 'doc-0');
    expect(inFlight.map((row) => [row.document_id, row.status, row.attempts])).toEqual(
      held.map((documentId) => [documentId, 'processing', 1]),
    );
    expect(inFlight.every((row) => row.lease_owner!.includes(`-${a.child.pid}-`))).toBe(true);
    // The lease the environment asked for, stretched to the timeout: not the default 30 s.
    expect(Math.max(...inFlight.map((row) => row.lease_left_ms!))).toBeLessThanOrEqual(LEASE_CAP_MS);

    a.child.kill('SIGKILL');
    await a.exited;
    expect(a.child.signalCode).toBe('SIGKILL');
    receiver!.always({ kind: 'status', status: 200 });

    const b = await startStandalone(env);
    children.push(b);
    const settled = await eventually(deliveries, (rows) => rows.length === 4 && rows.every((row) => row.status === 'delivered'), 20_000);
    // B waited for A's leases to run out (by the database's clock) rather than taking them early.
    for (const row of inFlight) {
      expect(settled.find((each) => each.id === row.id)!.delivered_ms).toBeGreaterThanOrEqual(row.lease_expires_ms!);
    }

    expect(settled.map((row) => [row.document_id, row.attempts, row.last_response_status, row.lease_owner])).toEqual([
      ['doc-0', 1, 200, null],
      ['doc-1', 2, 200, null],
      ['doc-2', 2, 200, null],
      ['doc-3', 2, 200, null],
    ]);
    // B logs each delivery after its commit, so the lines may trail the rows: wait for them.
    const redelivered = () => occurrences(b.output(), /delivered on attempt 2/g);
    await eventually(redelivered, (count) => count >= held.length, 10_000);

    // What the receiver saw: every request signed, each event acted on (answered 200) exactly once.
    expect(receiver!.requests.every((request) => request.verified)).toBe(true);
    expect(receiver!.requests.every((request) => request.body.event === 'retain.completed' && request.body.bank_id === BANK)).toBe(true);
    expect(receiver!.accepted.map(documentOf).sort()).toEqual(['doc-0', ...held]);
    expect(
      receiver!.requests
        .filter((request) => request.answered === 'hang')
        .map(documentOf)
        .sort(),
    ).toEqual(held);
    expect(receiver!.requests).toHaveLength(1 + 2 * held.length);

    // The public view of the same deliveries, from the surviving instance.
    const listed = await fetch(`${b.url}/v1/default/banks/${BANK}/webhooks/${webhookId}/deliveries`);
    expect(listed.status).toBe(200);
    const items = ((await listed.json()) as { items: Array<{ status: string; attempts: number }> }).items;
    expect(items.map((item) => item.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);

    expect(await b.stop('SIGTERM')).toBe(0);
    // B is gone and its output complete: nothing was sent or logged after what was counted above.
    expect(redelivered()).toBe(held.length);
    expect(receiver!.requests).toHaveLength(1 + 2 * held.length);
  }, 60_000);
});
