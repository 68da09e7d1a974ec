import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { WebhooksService } from '../../src/webhooks/webhooks.service.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import pg from 'pg';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const WEBHOOKS = { allowPrivate: true, pollIntervalMs: 25, backoffMs: 20, maxAttempts: 3 };

describe('a webhook send cut short by shutdown (PostgreSQL, two instances)', () => {
  let database: { name: string; url: string };
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await createTestDatabase('webhooks_fleet');
    receiver = await new WebhookReceiver('fleet-secret').answerNext({ kind: 'hang' }).start();
  });

  afterAll(async () => {
    await receiver?.close();
    if (database) await dropTestDatabase(database.name);
  });

  it('goes back to pending without counting the attempt, and another instance delivers it exactly once', async () => {
    const first = await bootStartedMemory({
      databaseUrl: database.url,
      shutdownTimeoutMs: 1500,
      watchdogIntervalMs: 60_000,
      webhooks: WEBHOOKS,
    });
    const bankId = 'fleet-bank';
    // A timeout far beyond the shutdown budget: only the shutdown can end this send.
    await first.app.get(WebhooksService).create(bankId, {
      url: receiver.url,
      secret: receiver.secret,
      eventTypes: ['retain.completed'],
      httpConfig: { timeout_seconds: 60 },
    });
    await first.app.get(RetainService).retain(bankId, { items: [{ content: 'Ivy keeps bees.' }] });
    await eventually(
      () => receiver.requests.length,
      (count) => count === 1,
    );

    const started = Date.now();
    await first.app.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(first.reports.find((report) => report.stage === 'webhooks')).toMatchObject({ outcome: 'done' });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT status, attempts, lease_owner FROM webhook_deliveries WHERE bank_id = $1`, [bankId]);
      expect(rows).toEqual([{ status: 'pending', attempts: 0, lease_owner: null }]);
    } finally {
      await client.end();
    }

    const second = await bootStartedMemory({ databaseUrl: database.url, watchdogIntervalMs: 60_000, webhooks: WEBHOOKS });
    try {
      const db = second.app.get(MemoryDatabase);
      const rows = await eventually(
        () =>
          db.query<{ status: string; attempts: number }>(`SELECT status, attempts FROM webhook_deliveries WHERE bank_id = $1`, [bankId]),
        (found) => found.length === 1 && found[0].status === 'delivered',
      );
      // One attempt only: the abandoned one was handed back uncounted.
      expect(rows[0].attempts).toBe(1);
      expect(receiver.requests.map((request) => request.answered)).toEqual(['hang', 200]);
      expect(receiver.accepted).toHaveLength(1);
      expect(receiver.requests[0].rawBody).toBe(receiver.requests[1].rawBody);
    } finally {
      await second.app.close();
    }
  });
});
