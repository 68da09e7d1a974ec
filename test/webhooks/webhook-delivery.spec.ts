import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { MemoryException } from '../../src/memory.exception.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { WebhooksService } from '../../src/webhooks/webhooks.service.js';
import { eventually } from '../helpers/eventually.js';
import { bootMemory, bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const SECRET = 'receiver-secret';
const FAST = { allowPrivate: true, pollIntervalMs: 25, backoffMs: 20, maxAttempts: 3, timeoutMs: 2000 };

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  payload: any;
  last_error: string | null;
  last_response_status: number | null;
}

describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('webhook delivery on %s', (_label, backend) => {
  let app: INestApplicationContext;
  let databaseName: string | undefined;
  let url: string;
  let receiver: WebhookReceiver | undefined;
  let bankSeq = 0;
  let logs: string[] = [];

  const service = () => app.get(WebhooksService);
  const retain = () => app.get(RetainService);
  const deliveriesOf = (bankId: string) =>
    app.get(MemoryDatabase).query<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE bank_id = $1 ORDER BY created_at`, [bankId]);
  const newBank = () => `hooks-${backend}-${++bankSeq}`;

  async function subscribedBank(target: WebhookReceiver, httpConfig: { timeout_seconds?: number } = {}): Promise<string> {
    const bankId = newBank();
    await service().create(bankId, { url: target.url, secret: target.secret, eventTypes: ['retain.completed'], httpConfig });
    return bankId;
  }

  /**
   * The bank's one delivery once it reached `status`. A delivery row exists from the commit of
   * the retain that announced it, and every send is preceded by a claim that counts an attempt;
   * `delivered` and `failed` are never claimed again. So a row settled in one of them, with
   * `attempts` n, was sent exactly n times, and nothing more will be sent: no need to wait and
   * see whether a duplicate shows up.
   */
  async function settled(bankId: string, status: 'delivered' | 'failed'): Promise<DeliveryRow> {
    const [row] = await eventually(
      () => deliveriesOf(bankId),
      (rows) => rows.length === 1 && rows[0].status === status,
      10_000,
    );
    return row;
  }

  beforeAll(async () => {
    if (backend === 'postgres') {
      const database = await createTestDatabase('webhooks');
      databaseName = database.name;
      url = database.url;
    } else {
      url = 'pglite://memory/webhook-delivery';
    }
    const booted = await bootStartedMemory({ databaseUrl: url, poolSize: 4, watchdogIntervalMs: 60_000, webhooks: FAST });
    app = booted.app;
    logs = booted.logs.lines;
  });

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  afterAll(async () => {
    await app?.close();
    if (databaseName) await dropTestDatabase(databaseName);
  });

  it('delivers one signed retain.completed payload for a sync retain', async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    const bankId = await subscribedBank(receiver);
    const outcome = await retain().retain(bankId, { items: [{ content: 'Alice moved to Lisbon in 2021.', documentId: 'doc-1' }] });

    const row = await settled(bankId, 'delivered');
    expect(row.attempts).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request.verified).toBe(true);
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    // Hindsight's payload: a sync retain gets an operation id of its own, in Hindsight's form.
    expect(request.body).toEqual({
      event: 'retain.completed',
      bank_id: bankId,
      operation_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      status: 'completed',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { document_id: 'doc-1', memory_unit_count: outcome.memoryIds.length },
    });
    expect(outcome.memoryIds.length).toBeGreaterThan(0);
  });

  it('omits the signature when the webhook has no secret, and skips webhooks not subscribed or disabled', async () => {
    receiver = await new WebhookReceiver(null).start();
    const bankId = await subscribedBank(receiver);
    await service().create(bankId, { url: receiver.url, eventTypes: ['consolidation.completed'] });
    await service().create(bankId, { url: receiver.url, eventTypes: ['retain.completed'], enabled: false });
    await retain().retain(bankId, { items: [{ content: 'Bob likes tea.' }] });

    // One row: the retain's commit wrote none for the webhooks not subscribed or disabled.
    expect((await settled(bankId, 'delivered')).attempts).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0].headers['x-hindsight-signature']).toBeUndefined();
    expect(receiver.requests[0].verified).toBe(true);
  });

  it('retries a receiver that answers 500 twice and delivers on attempt 3, exactly once', async () => {
    receiver = await new WebhookReceiver(SECRET).answerNext({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }).start();
    const bankId = await subscribedBank(receiver);
    await retain().retain(bankId, { items: [{ content: 'Carol runs a bakery.' }] });

    const row = await settled(bankId, 'delivered');
    expect(row.attempts).toBe(3);
    expect(row.last_response_status).toBe(200);
    expect(receiver.requests.map((request) => request.answered)).toEqual([500, 500, 200]);
    expect(receiver.accepted).toHaveLength(1);
    // Every attempt carries the same event, signed the same way.
    expect(new Set(receiver.requests.map((request) => request.rawBody)).size).toBe(1);
  });

  it('times out a receiver that hangs, retries, and delivers once it answers', async () => {
    receiver = await new WebhookReceiver(SECRET).answerNext({ kind: 'hang' }).start();
    const bankId = await subscribedBank(receiver, { timeout_seconds: 0.3 });
    await retain().retain(bankId, { items: [{ content: 'Dave plays chess.' }] });

    const row = await settled(bankId, 'delivered');
    expect(row.attempts).toBe(2);
    expect(receiver.requests.map((request) => request.answered)).toEqual(['hang', 200]);
    expect(receiver.accepted).toHaveLength(1);
  });

  it('waits for a receiver that answers slowly but within the timeout', async () => {
    receiver = await new WebhookReceiver(SECRET).answerNext({ kind: 'slow', delayMs: 400, status: 204 }).start();
    const bankId = await subscribedBank(receiver, { timeout_seconds: 2 });
    await retain().retain(bankId, { items: [{ content: 'Erin paints.' }] });

    const row = await settled(bankId, 'delivered');
    expect(row.attempts).toBe(1);
    expect(row.last_response_status).toBe(204);
    expect(receiver.requests).toHaveLength(1);
  });

  it('marks a delivery failed once maxAttempts are spent, and lists it as failed', async () => {
    receiver = await new WebhookReceiver(SECRET, { kind: 'status', status: 500 }).start();
    const bankId = await subscribedBank(receiver);
    await retain().retain(bankId, { items: [{ content: 'Frank sails.' }] });

    const row = await settled(bankId, 'failed');
    expect(row.attempts).toBe(FAST.maxAttempts);
    expect(row.last_response_status).toBe(500);
    expect(row.last_error).toMatch(/HTTP 500/);
    expect(receiver.requests).toHaveLength(FAST.maxAttempts);
    const [webhook] = await service().list(bankId);
    const page = await service().deliveries(bankId, webhook.id, { limit: 10 });
    expect(page.items.map((item) => [item.status, item.attempts])).toEqual([['failed', FAST.maxAttempts]]);
  });

  it('writes the outbox row in the retain transaction: a retain that fails at commit leaves no delivery', async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    const bankId = await subscribedBank(receiver);
    const database = app.get(MemoryDatabase);
    // Fails at COMMIT, after the retain wrote its memories and its outbox row.
    await database.query(`
      CREATE OR REPLACE FUNCTION webhook_test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned memory'; END $$`);
    await database.query(`DROP TRIGGER IF EXISTS webhook_test_poison ON memory_units`);
    await database.query(`
      CREATE CONSTRAINT TRIGGER webhook_test_poison AFTER INSERT ON memory_units
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (NEW.text LIKE '%poison%') EXECUTE FUNCTION webhook_test_poison()`);
    try {
      await expect(retain().retain(bankId, { items: [{ content: 'This memory is poison.' }] })).rejects.toThrow(/poisoned memory/);
      expect(await deliveriesOf(bankId)).toEqual([]);
      expect(await database.query(`SELECT id FROM memory_units WHERE bank_id = $1`, [bankId])).toEqual([]);

      await retain().retain(bankId, { items: [{ content: 'This memory is fine.' }] });
      await settled(bankId, 'delivered');
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0].body.data).toEqual({});
    } finally {
      await database.query(`DROP TRIGGER IF EXISTS webhook_test_poison ON memory_units`);
    }
  });

  it('writes the result of a send again while the database refuses it, and does not send it twice', async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    const bankId = await subscribedBank(receiver);
    const database = app.get(MemoryDatabase);
    // The receiver answers 200, then the database refuses to record it for a while. Each refusal
    // draws from a sequence, which the rollback of the refused write does not undo: a count of
    // the attempts to record the result.
    await database.query(`DROP SEQUENCE IF EXISTS webhook_test_refusals`);
    await database.query(`CREATE SEQUENCE webhook_test_refusals`);
    await database.query(`
      CREATE OR REPLACE FUNCTION webhook_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM nextval('webhook_test_refusals'); RAISE EXCEPTION 'result refused'; END $$`);
    const refusals = async () =>
      Number(
        (await database.query<{ n: string }>(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM webhook_test_refusals`))[0].n,
      );
    await database.query(`DROP TRIGGER IF EXISTS webhook_test_refuse ON webhook_deliveries`);
    await database.query(`
      CREATE TRIGGER webhook_test_refuse BEFORE UPDATE ON webhook_deliveries FOR EACH ROW
        WHEN (NEW.status = 'delivered' AND NEW.bank_id = '${bankId}') EXECUTE FUNCTION webhook_test_refuse()`);
    try {
      await retain().retain(bankId, { items: [{ content: 'Ivy restores clocks.' }] });
      await eventually(() => logs.some((line) => line.includes('could not record the result (result refused)')), Boolean, 10_000);
      // The first write and two retries refused: the dispatcher kept trying to record, not to send.
      await eventually(refusals, (count) => count >= 3, 10_000);
      expect(receiver.requests).toHaveLength(1);
      expect(await deliveriesOf(bankId)).toEqual([expect.objectContaining({ status: 'processing', attempts: 1 })]);
    } finally {
      await database.query(`DROP TRIGGER IF EXISTS webhook_test_refuse ON webhook_deliveries`);
      await database.query(`DROP SEQUENCE IF EXISTS webhook_test_refusals`);
    }

    const row = await settled(bankId, 'delivered');
    expect(row.attempts).toBe(1);
    expect(row.last_response_status).toBe(200);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.accepted).toHaveLength(1);
  });

  it('announces a queued retain with its operation id', async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    const bankId = await subscribedBank(receiver);
    const outcome = await retain().retain(bankId, { items: [{ content: 'Gina writes poems.' }], async: true });

    await settled(bankId, 'delivered');
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0].body).toMatchObject({ event: 'retain.completed', operation_id: outcome.operationId, status: 'completed' });
  });

  it("announces each document of a retain once, with its items' tags and memory count, and each item without one", async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    const bankId = await subscribedBank(receiver);
    await retain().retain(bankId, {
      items: [
        { content: 'Jules rows on the river.', documentId: 'log', tags: ['sport'] },
        { content: 'Jules rows every Sunday.', documentId: 'log', tags: ['sport', 'weekly'] },
        { content: 'Kim bakes bread.', tags: ['food'] },
        { content: 'Lou knits scarves.' },
      ],
      documentTags: ['batch'],
    });

    const rows = await eventually(
      () => deliveriesOf(bankId),
      (found) => found.length === 3 && found.every((row) => row.status === 'delivered'),
      10_000,
    );
    const units = await app
      .get(MemoryDatabase)
      .query<{ n: number }>(`SELECT count(*)::int AS n FROM memory_units WHERE bank_id = $1 AND document_id = 'log'`, [bankId]);
    const sent = receiver.requests.map((request) => request.body);
    expect(sent).toHaveLength(3);
    expect(sent.map((body) => body.data)).toEqual(
      expect.arrayContaining([{ document_id: 'log', tags: ['sport', 'weekly'], memory_unit_count: units[0].n }, { tags: ['food'] }, {}]),
    );
    expect(units[0].n).toBeGreaterThan(0);
    // One retain, one operation id, one moment.
    expect(new Set(sent.map((body) => body.operation_id)).size).toBe(1);
    expect(new Set(sent.map((body) => body.timestamp)).size).toBe(1);
    expect(rows.every((row) => row.attempts === 1)).toBe(true);
  });

  it("sends consolidation.completed with Hindsight's observation counts", async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    const bankId = newBank();
    await service().create(bankId, { url: receiver.url, secret: SECRET, eventTypes: ['consolidation.completed'] });
    await retain().retain(bankId, { items: [{ content: 'Mia Ruiz grows tomatoes. Mia Ruiz grows tomatoes in her garden.' }] });
    const { operationId } = await app.get(ConsolidationService).requestConsolidation(bankId);

    await settled(bankId, 'delivered');
    expect(receiver.requests).toHaveLength(1);
    const { body } = receiver.requests[0];
    expect(body).toEqual({
      event: 'consolidation.completed',
      bank_id: bankId,
      operation_id: operationId,
      status: 'completed',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { observations_created: expect.any(Number), observations_updated: expect.any(Number), observations_deleted: 0 },
    });
    expect(body.data.observations_created + body.data.observations_updated).toBeGreaterThan(0);
  });

  it('refuses a loopback URL without allowPrivate, at create and again before sending', async () => {
    receiver = await new WebhookReceiver(SECRET).start();
    // A database of its own: the suite's permissive instance must not deliver what this one refuses.
    const own = backend === 'postgres' ? await createTestDatabase('webhooks_strict') : undefined;
    const strict = await bootStartedMemory({
      databaseUrl: own?.url ?? 'pglite://memory/webhook-strict',
      watchdogIntervalMs: 60_000,
      webhooks: { ...FAST, allowPrivate: false },
    });
    try {
      const strictService = strict.app.get(WebhooksService);
      for (const refused of [
        receiver.url,
        'http://localhost:9/hook',
        'http://[::1]:9/hook',
        'http://10.1.2.3/hook',
        'http://169.254.169.254/latest',
        'http://[fd00::1]/x',
        'http://0.0.0.0/x',
        'ftp://example.com/x',
      ]) {
        const error = await strictService.create('strict-bank', { url: refused }).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(MemoryException);
        expect(error).toMatchObject({ field: 'url' });
      }
      expect(await strictService.list('strict-bank')).toEqual([]);

      // A webhook whose host has come to resolve to a private address since it was saved (here:
      // written past the API): the send is refused too, and the receiver sees nothing.
      const bankId = `strict-${backend}`;
      await strict.app.get(MemoryDatabase).transaction(async (sql) => {
        await sql.query(`INSERT INTO banks (id) VALUES ($1) ON CONFLICT DO NOTHING`, [bankId]);
        await sql.query(`INSERT INTO webhooks (bank_id, url, event_types) VALUES ($1, $2, '{retain.completed}')`, [bankId, receiver!.url]);
      });
      await strict.app.get(RetainService).retain(bankId, { items: [{ content: 'Hank climbs.' }] });
      const rows = await eventually(
        () => strict.app!.get(MemoryDatabase).query<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE bank_id = $1`, [bankId]),
        (found) => found.length === 1 && found[0].attempts >= 1 && found[0].status !== 'processing',
        10_000,
      );
      expect(rows[0].last_error).toMatch(/loopback, private or link-local/);
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await strict.app.close();
      if (own) await dropTestDatabase(own.name);
    }
  });
});

describe('webhook delivery wake-up', () => {
  it('sends a delivery as soon as its retain commits, without waiting for the next poll', async () => {
    const receiver = await new WebhookReceiver(SECRET).start();
    // A poll interval no test would wait for: only the commit can wake the dispatcher.
    const booted = await bootMemory({
      databaseUrl: 'pglite://memory/webhook-wake',
      watchdogIntervalMs: 60_000,
      webhooks: { ...FAST, pollIntervalMs: 600_000 },
    });
    try {
      if (!booted.app) throw booted.startupError;
      const app = booted.app;
      await app.get(WebhooksService).create('wake', { url: receiver.url, secret: SECRET, eventTypes: ['retain.completed'] });
      await app.get(RetainService).retain('wake', { items: [{ content: 'Dora paints lighthouses.' }] });
      const requests = await eventually(
        () => Promise.resolve(receiver.requests),
        (received) => received.length === 1,
        5000,
      );
      expect(requests[0].verified).toBe(true);
      expect(requests[0].body).toMatchObject({ event: 'retain.completed', bank_id: 'wake' });
    } finally {
      await booted.app?.close();
      await receiver.close();
    }
  });
});
