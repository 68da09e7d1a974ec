import { randomUUID } from 'node:crypto';
import { HindsightClient, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type HttpApp, startHttpApp } from './http-app.js';

type RawClient = ReturnType<typeof createClient>;

interface Backend {
  name: string;
  databaseUrl(): Promise<{ url: string; drop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  { name: 'PGlite', databaseUrl: async () => ({ url: `pglite://memory/parity-operations-${randomUUID()}`, drop: async () => undefined }) },
  {
    name: 'PostgreSQL',
    databaseUrl: async () => {
      const database = await createTestDatabase('parity_ops');
      return { url: database.url, drop: () => dropTestDatabase(database.name) };
    },
  },
];

/**
 * Hindsight's operation, bank-maintenance and memory-maintenance routes, driven through its own
 * client (0.9.1) against the server in process, on both back ends. Every refused request is
 * checked to have changed nothing.
 */
describe.each(BACKENDS)('operations and maintenance routes on $name', (backend) => {
  let http: HttpApp;
  let drop: () => Promise<void>;
  let client: HindsightClient;
  let raw: RawClient;
  let database: MemoryDatabase;

  beforeAll(async () => {
    const target = await backend.databaseUrl();
    drop = target.drop;
    http = await startHttpApp({ DATABASE_URL: target.url, MEMORY_OPERATIONS_POLL_MS: '50' });
    client = new HindsightClient({ baseUrl: http.url });
    raw = createClient(createConfig({ baseUrl: http.url }));
    database = http.app.get(MemoryDatabase);
  });

  afterAll(async () => {
    await http?.close();
    await drop?.();
  });

  const operationStatus = (bankId: string, operationId: string) =>
    sdk.getOperationStatus({ client: raw, path: { bank_id: bankId, operation_id: operationId } });

  async function consolidated(bankId: string): Promise<string> {
    const queued = await sdk.triggerConsolidation({ client: raw, path: { bank_id: bankId } });
    expect(queued.response.status).toBe(200);
    const operationId = queued.data!.operation_id;
    const done = await eventually(
      () => operationStatus(bankId, operationId),
      (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
    );
    expect(done.data?.status).toBe('completed');
    return operationId;
  }

  async function operationRow(operationId: string) {
    const [row] = await database.query<{ status: string; attempts: number }>(`SELECT status, attempts FROM operations WHERE id = $1`, [
      operationId,
    ]);
    return row;
  }

  describe('operations', () => {
    const bank = 'ops-bank';

    beforeAll(async () => {
      await client.createBank(bank, {});
    });

    it('reports next_retry_at, progress and child_operations as the spec shapes them', async () => {
      const operationId = await consolidated(bank);
      const status = await operationStatus(bank, operationId);
      expect(status.data).toMatchObject({
        operation_id: operationId,
        status: 'completed',
        operation_type: 'consolidation',
        error_message: null,
        retry_count: 0,
        next_retry_at: null,
        progress: null,
        child_operations: null,
      });
      const listed = await sdk.listOperations({ client: raw, path: { bank_id: bank } });
      expect(listed.data?.operations.find((operation) => operation.id === operationId)).toMatchObject({
        status: 'completed',
        next_retry_at: null,
        progress: null,
        error_message: null,
      });
    });

    it('a pending operation backing off shows when it is due again', async () => {
      const [row] = await database.query<{ id: string }>(
        `INSERT INTO operations (bank_id, kind, payload, status, error, attempts, lease_expires_at)
         VALUES ($1, 'parity-unhandled', '{}', 'pending', 'first attempt failed', 1, now() + interval '1 hour') RETURNING id`,
        [bank],
      );
      const status = await operationStatus(bank, row.id);
      expect(status.data).toMatchObject({ status: 'pending', error_message: 'first attempt failed' });
      expect(new Date(status.data!.next_retry_at!).getTime()).toBeGreaterThan(Date.now());
    });

    it('retries a failed operation, which then runs to completion', async () => {
      const operationId = await consolidated(bank);
      await database.query(`UPDATE operations SET status = 'failed', error = 'provider down', attempts = 3 WHERE id = $1`, [operationId]);

      const retried = await sdk.retryOperation({ client: raw, path: { bank_id: bank, operation_id: operationId } });
      expect(retried.response.status).toBe(200);
      expect(retried.data).toEqual({ success: true, message: `Operation ${operationId} queued for retry`, operation_id: operationId });

      const done = await eventually(
        () => operationStatus(bank, operationId),
        (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
      );
      expect(done.data).toMatchObject({ status: 'completed', error_message: null, retry_count: 0 });
    });

    it('refuses to retry what did not fail, or what does not exist, and changes nothing', async () => {
      const operationId = await consolidated(bank);
      const completed = await sdk.retryOperation({ client: raw, path: { bank_id: bank, operation_id: operationId } });
      expect(completed.response.status).toBe(409);
      expect(completed.error).toMatchObject({ detail: expect.stringMatching(/completed.*only failed/) });
      expect(await operationRow(operationId)).toMatchObject({ status: 'completed' });

      const unknown = await sdk.retryOperation({ client: raw, path: { bank_id: bank, operation_id: randomUUID() } });
      expect(unknown.response.status).toBe(404);
      const malformed = await sdk.retryOperation({ client: raw, path: { bank_id: bank, operation_id: 'not-a-uuid' } });
      expect(malformed.response.status).toBe(400);
      expect(malformed.error).toMatchObject({ detail: expect.stringContaining('operation_id') });
      const noBank = await sdk.retryOperation({ client: raw, path: { bank_id: 'no-such-bank', operation_id: operationId } });
      expect(noBank.response.status).toBe(404);
    });

    it('cancelling a finished operation is a 409 naming its status', async () => {
      const operationId = await consolidated(bank);
      const cancelled = await sdk.cancelOperation({ client: raw, path: { bank_id: bank, operation_id: operationId } });
      expect(cancelled.response.status).toBe(409);
      expect(cancelled.error).toMatchObject({ detail: expect.stringContaining('completed') });
      expect(await operationRow(operationId)).toMatchObject({ status: 'completed' });
    });

    it('deletes finished operations, and refuses queued ones until they are cancelled', async () => {
      const operationId = await consolidated(bank);
      const deleted = await sdk.deleteOperation({ client: raw, path: { bank_id: bank, operation_id: operationId } });
      expect(deleted.data).toEqual({ success: true, message: `Operation ${operationId} deleted`, operation_id: operationId });
      expect((await operationStatus(bank, operationId)).data).toEqual({ operation_id: operationId, status: 'not_found' });
      const again = await sdk.deleteOperation({ client: raw, path: { bank_id: bank, operation_id: operationId } });
      expect(again.response.status).toBe(404);

      // A kind no worker handles stays pending for as long as the test needs.
      const [row] = await database.query<{ id: string }>(
        `INSERT INTO operations (bank_id, kind, payload) VALUES ($1, 'parity-unhandled', '{}') RETURNING id`,
        [bank],
      );
      const pending = await sdk.deleteOperation({ client: raw, path: { bank_id: bank, operation_id: row.id } });
      expect(pending.response.status).toBe(409);
      expect(pending.error).toMatchObject({ detail: expect.stringContaining('pending') });
      expect(await operationRow(row.id)).toMatchObject({ status: 'pending' });

      const cancelled = await sdk.cancelOperation({ client: raw, path: { bank_id: bank, operation_id: row.id } });
      expect(cancelled.data).toMatchObject({ success: true, operation_id: row.id });
      const gone = await sdk.deleteOperation({ client: raw, path: { bank_id: bank, operation_id: row.id } });
      expect(gone.response.status).toBe(200);
      expect(await operationRow(row.id)).toBeUndefined();

      const malformed = await sdk.deleteOperation({ client: raw, path: { bank_id: bank, operation_id: 'nope' } });
      expect(malformed.response.status).toBe(400);
    });
  });

  describe('bank maintenance', () => {
    it('appends background to the mission, and refuses empty content or a missing bank', async () => {
      await client.createBank('background-bank', { reflectMission: 'I was born in Texas.' });
      const added = await sdk.addBankBackground({
        client: raw,
        path: { bank_id: 'background-bank' },
        body: { content: 'I am a software engineer.' },
      });
      expect(added.data).toEqual({
        mission: 'I was born in Texas. I am a software engineer.',
        background: 'I was born in Texas. I am a software engineer.',
        disposition: { skepticism: 3, literalism: 3, empathy: 3 },
      });
      expect((await client.getBankProfile('background-bank')).mission).toBe('I was born in Texas. I am a software engineer.');

      const blank = await sdk.addBankBackground({ client: raw, path: { bank_id: 'background-bank' }, body: { content: '   ' } });
      expect(blank.response.status).toBe(422);
      expect(JSON.stringify(blank.error)).toContain('content');
      const missing = await sdk.addBankBackground({ client: raw, path: { bank_id: 'background-bank' }, body: {} as { content: string } });
      expect(missing.response.status).toBe(422);
      expect((await client.getBankProfile('background-bank')).mission).toBe('I was born in Texas. I am a software engineer.');

      const noBank = await sdk.addBankBackground({ client: raw, path: { bank_id: 'no-background-bank' }, body: { content: 'x' } });
      expect(noBank.response.status).toBe(404);
      expect(await database.query(`SELECT id FROM banks WHERE id = 'no-background-bank'`)).toEqual([]);
    });

    it('clears the observations, and the next consolidation builds them again', async () => {
      const bank = 'observations-bank';
      await client.retainBatch(bank, [{ content: 'Alice plays the violin.' }, { content: 'Alice practises the violin every morning.' }]);
      await consolidated(bank);
      const before = await client.listMemories(bank, { type: 'observation' });
      expect(before.items.length).toBeGreaterThan(0);

      const cleared = await sdk.clearObservations({ client: raw, path: { bank_id: bank } });
      expect(cleared.data).toMatchObject({ success: true, deleted_count: before.items.length });
      expect((await client.listMemories(bank, { type: 'observation' })).items).toEqual([]);
      expect((await client.listMemories(bank, { type: 'world' })).items).toHaveLength(2);

      await consolidated(bank);
      expect((await client.listMemories(bank, { type: 'observation' })).items.length).toBeGreaterThan(0);

      const noBank = await sdk.clearObservations({ client: raw, path: { bank_id: 'no-observations-bank' } });
      expect(noBank.response.status).toBe(404);
    });

    it('recovers memories whose consolidation failed', async () => {
      const bank = 'recover-bank';
      await client.retainBatch(bank, [{ content: 'Bruno repairs clocks.' }, { content: 'Carla bakes sourdough.' }]);
      await database.query(
        `UPDATE memory_units SET consolidation_status = 'failed', consolidation_attempts = 5, consolidation_error = 'llm down'
          WHERE bank_id = $1 AND fact_type <> 'observation'`,
        [bank],
      );
      const recovered = await sdk.recoverConsolidation({ client: raw, path: { bank_id: bank } });
      expect(recovered.data).toEqual({ retried_count: 2 });
      const rows = await database.query<{ consolidation_status: string; consolidation_attempts: number }>(
        `SELECT consolidation_status, consolidation_attempts FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'`,
        [bank],
      );
      expect(rows).toEqual([
        { consolidation_status: 'pending', consolidation_attempts: 0 },
        { consolidation_status: 'pending', consolidation_attempts: 0 },
      ]);
      expect((await sdk.recoverConsolidation({ client: raw, path: { bank_id: bank } })).data).toEqual({ retried_count: 0 });
      expect((await sdk.recoverConsolidation({ client: raw, path: { bank_id: 'no-recover-bank' } })).response.status).toBe(404);
    });

    it('reports the LLM as not configured when the server has none', async () => {
      await client.createBank('llm-bank', {});
      const health = await sdk.testBankLlm({ client: raw, path: { bank_id: 'llm-bank' } });
      expect(health.data).toEqual({
        bank_id: 'llm-bank',
        operations: [
          { operation: 'retain', ok: false, status: 'not_configured' },
          { operation: 'consolidation', ok: false, status: 'not_configured' },
          { operation: 'reflect', ok: false, status: 'not_configured' },
        ],
      });
      expect((await sdk.testBankLlm({ client: raw, path: { bank_id: 'no-llm-bank' } })).response.status).toBe(404);
      expect((await client.getVersion()).features?.bank_llm_health).toBe(true);
    });
  });
});
