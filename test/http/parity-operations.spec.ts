import { randomUUID } from 'node:crypto';
import { HindsightClient, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { type NewLlmRequest, deleteExpiredLlmRequests, insertLlmRequest } from '../../src/llm-traces/llm-traces.queries.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type HttpApp, startHttpApp } from './http-app.js';

type RawClient = ReturnType<typeof createClient>;

/** The fields of a listed memory these tests read; the client types list items loosely. */
interface ListedMemory {
  id: string;
  text: string;
  source_memory_ids?: string[];
}

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
      expect(completed.error).toMatchObject({ detail: expect.stringMatching(/status is 'completed', expected 'failed' or 'cancelled'/) });
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
      // A cancelled operation can be queued again, as in Hindsight, and cancelled once more.
      expect((await sdk.retryOperation({ client: raw, path: { bank_id: bank, operation_id: row.id } })).response.status).toBe(200);
      expect(await operationRow(row.id)).toMatchObject({ status: 'pending' });
      expect((await sdk.cancelOperation({ client: raw, path: { bank_id: bank, operation_id: row.id } })).response.status).toBe(200);
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
  describe('memory maintenance', () => {
    const bank = 'memory-maintenance-bank';
    let dana: string;
    let erin: string;

    const memory = (id: string) =>
      sdk.getMemory({ client: raw, path: { bank_id: bank, memory_id: id } }).then((response) => response.data as Record<string, unknown>);
    const listed = (type: string) => client.listMemories(bank, { type }).then((page) => page.items as unknown as ListedMemory[]);
    const observations = () => listed('observation');

    beforeAll(async () => {
      await client.retainBatch(bank, [
        { content: 'Dana adopted a greyhound named Comet.', tags: ['user:dana'] },
        { content: 'Dana walks Comet every morning.', tags: ['user:dana'] },
        { content: 'Erin speaks Basque.' },
        { content: 'Erin teaches Basque in Bilbao.' },
      ]);
      const worlds = await listed('world');
      dana = worlds.find((item) => item.text.startsWith('Dana adopted'))!.id;
      erin = worlds.find((item) => item.text === 'Erin speaks Basque.')!.id;
      await consolidated(bank);
    });

    it('lists the observation scopes, most populous first', async () => {
      const scopes = await sdk.listObservationScopes({ client: raw, path: { bank_id: bank } });
      const all = await observations();
      expect(scopes.data?.scopes.map((scope) => scope.tags).sort()).toEqual([[], ['user:dana']]);
      expect(scopes.data?.scopes.reduce((sum, scope) => sum + scope.count, 0)).toBe(all.length);
      const counts = scopes.data!.scopes.map((scope) => scope.count);
      expect([...counts].sort((a, b) => b - a)).toEqual(counts);
      expect((await sdk.listObservationScopes({ client: raw, path: { bank_id: 'no-scopes-bank' } })).data).toEqual({ scopes: [] });
    });

    it("shows an observation's changes with their source facts resolved; a plain memory has none", async () => {
      const before = (await observations()).find((item) => item.source_memory_ids?.includes(dana))!;
      const fresh = await sdk.getObservationHistory({ client: raw, path: { bank_id: bank, memory_id: before.id } });
      expect(fresh.data).toEqual([]);

      await client.retainBatch(bank, [
        { content: 'Dana adopted a greyhound named Comet and walks Comet every morning.', tags: ['user:dana'] },
      ]);
      const added = (await listed('world')).find(
        (item) => item.text === 'Dana adopted a greyhound named Comet and walks Comet every morning.',
      )!.id;
      await consolidated(bank);
      const after = (await observations()).find((item) => item.id === before.id)!;
      expect(after.source_memory_ids).toContain(added);

      const history = await sdk.getObservationHistory({ client: raw, path: { bank_id: bank, memory_id: before.id } });
      const entries = history.data as Array<{
        previous_text: string;
        previous_tags: string[];
        changed_at: string;
        new_source_memory_ids: string[];
        source_facts: Array<{ id: string; text: string | null; is_new: boolean }>;
      }>;
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ previous_text: before.text, previous_tags: ['user:dana'], new_source_memory_ids: [added] });
      expect(new Date(entries[0].changed_at).getTime()).toBeGreaterThan(0);
      expect(entries[0].source_facts.map((fact) => fact.id).sort()).toEqual([...after.source_memory_ids!].sort());
      expect(entries[0].source_facts.find((fact) => fact.id === added)).toEqual(
        expect.objectContaining({ text: 'Dana adopted a greyhound named Comet and walks Comet every morning.', is_new: true }),
      );
      expect(entries[0].source_facts.find((fact) => fact.id === dana)).toMatchObject({ is_new: false });

      expect((await sdk.getObservationHistory({ client: raw, path: { bank_id: bank, memory_id: dana } })).data).toEqual([]);
      expect((await sdk.getObservationHistory({ client: raw, path: { bank_id: bank, memory_id: randomUUID() } })).response.status).toBe(
        404,
      );
      const malformed = await sdk.getObservationHistory({ client: raw, path: { bank_id: bank, memory_id: 'not-a-uuid' } });
      expect(malformed.response.status).toBe(400);
      expect(JSON.stringify(malformed.error)).toContain('memory_id');

      // The history goes with its observation.
      await sdk.clearMemoryObservations({ client: raw, path: { bank_id: bank, memory_id: added } });
      expect(await database.query(`SELECT 1 FROM observation_history WHERE observation_id = $1`, [before.id])).toEqual([]);
      // Let the consolidation that clearing queued finish before the next test counts observations.
      await eventually(observations, (items) => items.some((item) => item.source_memory_ids?.includes(added)));
    });

    it('clears the observations built on one memory, keeps the memory, and consolidation rebuilds them', async () => {
      const built = (await observations()).filter((item) => item.source_memory_ids?.includes(erin));
      expect(built.length).toBeGreaterThan(0);
      const untouched = (await observations()).filter((item) => !item.source_memory_ids?.includes(erin)).map((item) => item.id);

      const cleared = await sdk.clearMemoryObservations({ client: raw, path: { bank_id: bank, memory_id: erin } });
      expect(cleared.data).toEqual({ deleted_count: built.length });
      expect((await memory(erin)).text).toBe('Erin speaks Basque.');
      const remaining = await observations();
      expect(remaining.map((item) => item.id).sort()).toEqual([...untouched].sort());

      // The route queued a consolidation of its own: the memory gets fresh observations without a trigger.
      await eventually(observations, (items) => items.some((item) => item.source_memory_ids?.includes(erin)));

      const ofObservation = await sdk.clearMemoryObservations({ client: raw, path: { bank_id: bank, memory_id: remaining[0].id! } });
      expect(ofObservation.response.status).toBe(422);
      expect(JSON.stringify(ofObservation.error)).toContain('memory_id');
      expect((await observations()).map((item) => item.id)).toContain(remaining[0].id);
      expect((await sdk.clearMemoryObservations({ client: raw, path: { bank_id: bank, memory_id: randomUUID() } })).response.status).toBe(
        404,
      );
      expect((await sdk.clearMemoryObservations({ client: raw, path: { bank_id: 'no-such-bank', memory_id: erin } })).response.status).toBe(
        404,
      );
    });

    it("PATCH changes a memory's dates, type and entities", async () => {
      await client.retainBatch('patch-bank', [{ content: 'Farid opened a bakery in Lyon.', timestamp: '2024-01-10T00:00:00Z' }]);
      const [target] = (await client.listMemories('patch-bank', { type: 'world' })).items as unknown as ListedMemory[];
      const updated = await sdk.updateMemory({
        client: raw,
        path: { bank_id: 'patch-bank', memory_id: target.id! },
        body: {
          occurred_start: '2023-05-01T00:00:00Z',
          occurred_end: '2023-05-31T00:00:00Z',
          fact_type: 'experience',
          entities: ['Farid', 'Boulangerie Lumière'],
        },
      });
      expect(updated.response.status).toBe(200);
      const after = await sdk.getMemory({ client: raw, path: { bank_id: 'patch-bank', memory_id: target.id! } });
      expect(after.data).toMatchObject({
        type: 'experience',
        occurred_start: '2023-05-01T00:00:00.000Z',
        occurred_end: '2023-05-31T00:00:00.000Z',
        text: 'Farid opened a bakery in Lyon.',
      });
      expect([...(after.data as { entities: string[] }).entities].sort()).toEqual(['Boulangerie Lumière', 'Farid']);

      const cleared = await sdk.updateMemory({
        client: raw,
        path: { bank_id: 'patch-bank', memory_id: target.id! },
        body: { occurred_end: '', entities: [] },
      });
      expect(cleared.response.status).toBe(200);
      const bare = (await sdk.getMemory({ client: raw, path: { bank_id: 'patch-bank', memory_id: target.id! } })).data!;
      expect(bare).toMatchObject({ occurred_start: '2023-05-01T00:00:00.000Z', occurred_end: null, entities: [] });
    });

    it('PATCH refuses bad dates, types and entities and changes nothing', async () => {
      const before = await memory(dana);
      const refused: Array<[Record<string, unknown>, string]> = [
        [{ occurred_start: 'last tuesday' }, 'occurred_start'],
        [{ occurred_start: '2024-02-01T00:00:00Z', occurred_end: '2024-01-01T00:00:00Z' }, 'occurred_end'],
        [{ occurred_end: '1999-01-01T00:00:00Z' }, 'occurred_end'],
        [{ fact_type: 'observation' }, 'fact_type'],
        [{ entities: ['Dana', '  '] }, 'entities'],
        [{ entities: 'Dana' }, 'entities'],
      ];
      for (const [body, field] of refused) {
        const response = await sdk.updateMemory({ client: raw, path: { bank_id: bank, memory_id: dana }, body: body as never });
        expect([response.response.status, field]).toEqual([422, field]);
        expect(JSON.stringify(response.error)).toContain(field);
      }
      expect(await memory(dana)).toEqual(before);
    });

    it('dry-run extraction returns the facts retain would write and stores nothing', async () => {
      const before = await client.listMemories(bank);
      const extracted = await sdk.dryRunExtractMemories({
        client: raw,
        path: { bank_id: bank },
        body: { content: 'Gustav moved to Oslo in 2021. He teaches chemistry.', timestamp: '2024-06-01T00:00:00Z' },
      });
      expect(extracted.response.status).toBe(200);
      expect(extracted.data?.facts?.map((fact) => fact.text)).toEqual(['Gustav moved to Oslo in 2021.', 'He teaches chemistry.']);
      expect(extracted.data?.facts?.[0]).toMatchObject({ fact_type: 'world', entities: expect.arrayContaining(['Gustav', 'Oslo']) });
      expect(extracted.data?.usage).toMatchObject({ input_tokens: 0, output_tokens: 0, total_tokens: 0 });
      expect((await client.listMemories(bank)).total).toBe(before.total);

      const override = await sdk.dryRunExtractMemories({
        client: raw,
        path: { bank_id: bank },
        body: { content: 'Hana paints.', retain_mission: 'Only hobbies' },
      });
      expect(override.response.status).toBe(400);
      expect(JSON.stringify(override.error)).toContain('retain_mission');
      const blank = await sdk.dryRunExtractMemories({ client: raw, path: { bank_id: bank }, body: { content: '  ' } });
      expect(blank.response.status).toBe(422);
      expect(JSON.stringify(blank.error)).toContain('content');
      const noBank = await sdk.dryRunExtractMemories({ client: raw, path: { bank_id: 'no-dry-run-bank' }, body: { content: 'Ivo runs.' } });
      expect(noBank.response.status).toBe(404);
      expect((await client.listMemories(bank)).total).toBe(before.total);
    });
  });

  /**
   * The traces' SQL on both back ends. Tracing is off in this app (its LLM is `none`), so the rows
   * are written through the query module the tracing client uses; the LLM path is proven below.
   */
  describe('LLM traces', () => {
    const bank = 'trace-sql-bank';
    const day = 86_400_000;

    const trace = (overrides: Partial<NewLlmRequest>): NewLlmRequest => ({
      bankId: bank,
      operation: 'retain',
      scope: 'retain_extract_facts',
      traceId: 'run-1',
      spanId: randomUUID(),
      provider: 'openai',
      model: 'gpt-4o-mini',
      status: 'success',
      startedAt: new Date(Date.now() - 60_000),
      endedAt: new Date(Date.now() - 59_000),
      durationMs: 1000,
      inputTokens: 10,
      outputTokens: 4,
      cachedTokens: null,
      totalTokens: 14,
      input: [{ role: 'user', content: 'Content: Ada builds boats.' }],
      output: '{"facts":[]}',
      error: null,
      llmInfo: {},
      metadata: { document_id: 'doc-a' },
      ...overrides,
    });
    const list = (query: Record<string, unknown> = {}, bankId = bank) =>
      sdk.listLlmRequests({ client: raw, path: { bank_id: bankId }, query: query as never });

    beforeAll(async () => {
      await client.createBank(bank, {});
      await database.transaction(async (sql) => {
        await insertLlmRequest(sql, trace({}));
        await insertLlmRequest(sql, trace({ startedAt: new Date(Date.now() - 50_000), metadata: { document_id: 'doc-b' } }));
        await insertLlmRequest(
          sql,
          trace({
            traceId: 'run-2',
            operation: 'consolidation',
            scope: 'consolidation',
            status: 'error',
            startedAt: new Date(Date.now() - 40_000),
            inputTokens: null,
            outputTokens: null,
            totalTokens: null,
            output: null,
            error: 'ExternalServiceError: llm (openai) failed [http 500]',
            metadata: {},
          }),
        );
        await insertLlmRequest(sql, trace({ traceId: 'run-0', startedAt: new Date(Date.now() - 3 * day) }));
      });
    });

    it('lists newest first, filters and paginates by call or by run, and counts per day', async () => {
      const all = await list();
      expect(all.response.status).toBe(200);
      expect(all.data).toMatchObject({ bank_id: bank, total: 4, limit: 50, offset: 0 });
      expect(all.data!.items.map((item) => item.trace_id)).toEqual(['run-2', 'run-1', 'run-1', 'run-0']);
      expect(all.data!.items[1]).toMatchObject({
        operation: 'retain',
        scope: 'retain_extract_facts',
        status: 'success',
        input_tokens: 10,
        total_tokens: 14,
        cached_tokens: null,
        input: [{ role: 'user', content: 'Content: Ada builds boats.' }],
        output: '{"facts":[]}',
        metadata: { document_id: 'doc-b' },
        llm_info: {},
      });

      expect((await list({ status: 'error' })).data!.items.map((item) => item.error)).toEqual([expect.stringContaining('http 500')]);
      expect((await list({ operation: 'retain', scope: 'retain_extract_facts', provider: 'openai' })).data!.total).toBe(3);
      expect((await list({ document_id: 'doc-a' })).data!.total).toBe(2);
      expect((await list({ trace_id: 'run-1' })).data!.total).toBe(2);
      const recent = await list({
        start_date: new Date(Date.now() - day).toISOString(),
        end_date: new Date(Date.now() - 45_000).toISOString(),
      });
      expect(recent.data!.items.map((item) => item.metadata)).toEqual([{ document_id: 'doc-b' }, { document_id: 'doc-a' }]);
      const page = await list({ limit: 1, offset: 1 });
      expect(page.data).toMatchObject({ total: 4, limit: 1, offset: 1, items: [{ trace_id: 'run-1' }] });

      const runs = await list({ group: true, limit: 2 });
      expect(runs.data!.total).toBe(3);
      expect(runs.data!.items.map((item) => item.trace_id)).toEqual(['run-2', 'run-1', 'run-1']);

      const week = await sdk.llmRequestStats({ client: raw, path: { bank_id: bank } });
      expect(week.data).toMatchObject({ bank_id: bank, period: '7d', trunc: 'day' });
      const buckets = week.data!.buckets;
      expect(buckets.length).toBeGreaterThanOrEqual(2);
      expect(buckets.every((bucket) => /^\d{4}-\d{2}-\d{2}T00:00:00\+00:00$/.test(bucket.time))).toBe(true);
      expect(buckets.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(4);
      expect(buckets.reduce((sum, bucket) => sum + (bucket.statuses.error ?? 0), 0)).toBe(1);
      expect(buckets.reduce((sum, bucket) => sum + bucket.tokens.input, 0)).toBe(30);
      const today = await sdk.llmRequestStats({
        client: raw,
        path: { bank_id: bank },
        query: { period: '1d', operation: 'consolidation' },
      });
      expect(today.data!.buckets).toEqual([
        { time: expect.any(String), statuses: { error: 1 }, total: 1, tokens: { input: 0, output: 0, cached: 0, total: 0 } },
      ]);
    });

    it('answers 422 naming a bad parameter, 404 for a bank that does not exist, and reports tracing off', async () => {
      const refused: Array<[Record<string, unknown>, string]> = [
        [{ status: 'failed' }, 'status'],
        [{ limit: 0 }, 'limit'],
        [{ limit: 501 }, 'limit'],
        [{ offset: -1 }, 'offset'],
        [{ start_date: 'yesterday' }, 'start_date'],
        [{ end_date: '2026-13-40T00:00:00Z' }, 'end_date'],
        [{ group: 'sometimes' }, 'group'],
        [{ memory_id: randomUUID() }, 'memory_id'],
      ];
      for (const [query, parameter] of refused) {
        const answer = await list(query);
        expect([query, answer.response.status]).toEqual([query, 422]);
        expect(answer.error).toMatchObject({ detail: [expect.objectContaining({ loc: ['query', parameter] })] });
      }
      const period = await sdk.llmRequestStats({ client: raw, path: { bank_id: bank }, query: { period: '2d' } });
      expect(period.response.status).toBe(422);
      expect(period.error).toMatchObject({
        detail: [expect.objectContaining({ loc: ['query', 'period'], msg: expect.stringContaining('1d, 7d, 30d') })],
      });

      const unknown = await list({}, 'no-such-trace-bank');
      expect(unknown.response.status).toBe(404);
      expect(unknown.error).toEqual({ detail: "Bank 'no-such-trace-bank' not found" });
      expect((await sdk.llmRequestStats({ client: raw, path: { bank_id: 'no-such-trace-bank' } })).response.status).toBe(404);
      expect((await list()).data!.total).toBe(4);
      expect((await client.getVersion()).features?.llm_trace).toBe(false);
    });

    it('deletes at most the given number of expired traces of one bank, and a deleted bank takes its traces with it', async () => {
      const other = 'trace-sql-other-bank';
      await client.createBank(other, {});
      await database.transaction(async (sql) => {
        for (let i = 0; i < 3; i++) await insertLlmRequest(sql, trace({ bankId: other, startedAt: new Date(Date.now() - (10 + i) * day) }));
        await insertLlmRequest(sql, trace({ bankId: other }));
      });
      const count = async (bankId: string) =>
        Number((await database.query<{ n: string }>(`SELECT count(*) AS n FROM llm_requests WHERE bank_id = $1`, [bankId]))[0].n);
      expect(await database.transaction((sql) => deleteExpiredLlmRequests(sql, other, 7, 2))).toBe(2);
      expect(await database.transaction((sql) => deleteExpiredLlmRequests(sql, other, 7, 2))).toBe(1);
      expect(await count(other)).toBe(1);
      expect(await count(bank)).toBe(4);

      await client.deleteBank(other);
      expect(await count(other)).toBe(0);
    });
  });
});

/** The LLM paths need a provider but no particular storage: one PGlite app against a scripted fake. */
describe('routes that call the LLM, with one configured', () => {
  let fake: FakeOpenAiServer;
  let http: HttpApp;
  let raw: RawClient;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    http = await startHttpApp({
      DATABASE_URL: `pglite://memory/parity-operations-llm-${randomUUID()}`,
      MEMORY_LLM: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      MEMORY_AI_MAX_RETRIES: '0',
      MEMORY_AI_TIMEOUT_MS: '1000',
    });
    raw = createClient(createConfig({ baseUrl: http.url }));
    await new HindsightClient({ baseUrl: http.url }).createBank('llm-bank', {});
  });

  afterAll(async () => {
    await http?.close();
    await fake?.close();
  });

  const probe = () => sdk.testBankLlm({ client: raw, path: { bank_id: 'llm-bank' } }).then((response) => response.data!);

  it('probes the LLM once and reports connected, auth_failed, unreachable or timeout for all three operations', async () => {
    fake.onChat(() => ({ ok: true }));
    const calls = fake.requestCount('chat');
    const connected = await probe();
    expect(fake.requestCount('chat')).toBe(calls + 1);
    expect(connected.operations.map((operation) => operation.operation)).toEqual(['retain', 'consolidation', 'reflect']);
    for (const operation of connected.operations) {
      expect(operation).toMatchObject({ ok: true, status: 'connected', latency_ms: expect.any(Number) });
    }

    fake.fail('chat', { kind: 'status', status: 401 });
    expect((await probe()).operations[0]).toMatchObject({ ok: false, status: 'auth_failed' });
    fake.fail('chat', { kind: 'status', status: 503 });
    expect((await probe()).operations[0]).toMatchObject({ ok: false, status: 'unreachable' });
    fake.fail('chat', { kind: 'hang' });
    expect((await probe()).operations[0]).toMatchObject({ ok: false, status: 'timeout' });
    fake.releaseHung();
    // The answer names no provider, model, endpoint or raw error.
    expect(JSON.stringify(await probe())).not.toMatch(/openai|127\.0\.0\.1|gpt/i);
  });

  it("dry-run extraction returns the LLM's facts and stores nothing", async () => {
    fake.onChat(() => ({
      facts: [{ text: 'Jonas repairs organs in Leipzig.', fact_type: 'world', entities: ['Jonas', 'Leipzig'], occurred_start: null }],
    }));
    const extracted = await sdk.dryRunExtractMemories({
      client: raw,
      path: { bank_id: 'llm-bank' },
      body: { content: 'Jonas repairs church organs; he lives in Leipzig.' },
    });
    expect(extracted.data?.facts).toEqual([
      expect.objectContaining({ text: 'Jonas repairs organs in Leipzig.', fact_type: 'world', entities: ['Jonas', 'Leipzig'] }),
    ]);
    expect((await sdk.listMemories({ client: raw, path: { bank_id: 'llm-bank' } })).data?.total).toBe(0);
  });

  /**
   * The tracing client on the real LLM path: its own app (tracing on, a recognisable key, a small
   * size bound) against the same fake, next to the one above with tracing off.
   */
  describe('LLM traces', () => {
    const KEY = 'sk-parity-trace-key-7f3c9a1e5b';
    const MAX_CHARS = 2000;
    const bank = 'trace-bank';
    let traced: HttpApp;
    let tracedRaw: RawClient;

    beforeAll(async () => {
      traced = await startHttpApp({
        DATABASE_URL: `pglite://memory/parity-operations-traces-${randomUUID()}`,
        MEMORY_LLM: 'openai',
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: KEY,
        MEMORY_AI_MAX_RETRIES: '0',
        MEMORY_AI_TIMEOUT_MS: '1000',
        MEMORY_LLM_TRACE_ENABLED: 'true',
        MEMORY_LLM_TRACE_MAX_CHARS: String(MAX_CHARS),
      });
      tracedRaw = createClient(createConfig({ baseUrl: traced.url }));
    });

    afterAll(async () => {
      await traced?.close();
    });

    const traces = (query: Record<string, unknown> = {}) =>
      sdk.listLlmRequests({ client: tracedRaw, path: { bank_id: bank }, query: query as never }).then((response) => response.data!);
    const retain = (items: Array<{ content: string; document_id: string }>) =>
      sdk.retainMemories({ client: tracedRaw, path: { bank_id: bank }, body: { items } });

    it('traces each call with its bank, operation, prompt, reply and tokens, the key redacted and long text cut', async () => {
      fake.onChat(() => ({ facts: [{ text: 'Mara fixes bicycles in Porto.', fact_type: 'world', entities: ['Mara', 'Porto'] }] }));
      const calls = fake.requestCount('chat');
      const retained = await retain([
        {
          content: `Mara fixes bicycles in Porto. Her workshop's key is ${KEY}; the bot sends Bearer abc.def.ghi`,
          document_id: 'doc-short',
        },
        { content: `Mara's logbook. ${'She trued a wheel. '.repeat(150)}`, document_id: 'doc-long' },
      ]);
      expect(retained.response.status).toBe(200);
      const made = fake.requestCount('chat') - calls;

      const listed = await traces();
      expect(listed.total).toBe(made);
      expect(new Set(listed.items.map((item) => item.trace_id)).size).toBe(1);
      for (const item of listed.items) {
        expect(item).toMatchObject({
          bank_id: bank,
          operation: 'retain',
          scope: 'retain_extract_facts',
          status: 'success',
          provider: 'openai',
          model: 'gpt-4o-mini',
          error: null,
          input_tokens: expect.any(Number),
          output_tokens: expect.any(Number),
        });
        expect(item.total_tokens).toBe(item.input_tokens! + item.output_tokens!);
        expect(item.duration_ms).toBeGreaterThanOrEqual(0);
        expect(item.output).toContain('Mara fixes bicycles in Porto.');
      }
      const [short] = (await traces({ document_id: 'doc-short' })).items;
      const prompt = (short.input as Array<{ role: string; content: string }>).map((message) => message.content).join('\n');
      expect(prompt).toContain('Mara fixes bicycles in Porto.');
      expect(prompt).toContain('[REDACTED]');
      expect(prompt).toContain('Bearer [REDACTED]');
      expect(JSON.stringify(listed)).not.toContain(KEY);
      expect(JSON.stringify(listed)).not.toContain('abc.def.ghi');

      const [long] = (await traces({ document_id: 'doc-long' })).items;
      const user = (long.input as Array<{ role: string; content: string }>).find((message) => message.role === 'user')!.content;
      expect(user.length).toBeLessThan(MAX_CHARS + 50);
      expect(user).toMatch(/…\[truncated \d+ characters\]$/);
    });

    it('traces a failed call with its error, redacted, and a refused reply with its text', async () => {
      fake.fail('chat', {
        kind: 'status',
        status: 500,
        body: { error: { message: `upstream rejected key ${KEY}`, type: 'server_error' } },
      });
      expect((await retain([{ content: 'Ines sails to Madeira.', document_id: 'doc-500' }])).response.status).toBe(502);
      fake.onChat(() => 'this is not JSON');
      expect((await retain([{ content: 'Ines sails to Azores.', document_id: 'doc-bad-json' }])).response.status).toBe(502);

      const [failed] = (await traces({ document_id: 'doc-500' })).items;
      expect(failed).toMatchObject({ status: 'error', output: null, input_tokens: null });
      expect(failed.error).toMatch(/^ExternalServiceError: .*500.*upstream rejected key \[REDACTED\]/);
      const [refused] = (await traces({ document_id: 'doc-bad-json' })).items;
      expect(refused).toMatchObject({ status: 'error', output: 'this is not JSON', input_tokens: expect.any(Number) });
      expect(refused.error).toMatch(/^LlmOutputError: .*malformed JSON/);
      expect((await traces({ status: 'error' })).total).toBe(2);
    });

    it('counts the traced calls per day, by status and tokens, and groups them by run', async () => {
      const { items, total } = await traces({ limit: 500 });
      const stats = await sdk.llmRequestStats({ client: tracedRaw, path: { bank_id: bank }, query: { period: '1d', operation: 'retain' } });
      const buckets = stats.data!.buckets;
      expect(buckets.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(total);
      expect(buckets.reduce((sum, bucket) => sum + (bucket.statuses.error ?? 0), 0)).toBe(2);
      expect(buckets.reduce((sum, bucket) => sum + (bucket.statuses.success ?? 0), 0)).toBe(total - 2);
      expect(buckets.reduce((sum, bucket) => sum + bucket.tokens.total, 0)).toBe(
        items.reduce((sum, item) => sum + (item.total_tokens ?? 0), 0),
      );
      // One run per retain request: the two-document one and the two that failed.
      expect((await traces({ group: true })).total).toBe(3);
      expect((await sdk.getVersion({ client: tracedRaw })).data?.features?.llm_trace).toBe(true);
    });

    it('with tracing off, an LLM call leaves no trace and /version says so', async () => {
      fake.onChat(() => ({ facts: [{ text: 'Olek bakes bread.', fact_type: 'world', entities: ['Olek'] }] }));
      const calls = fake.requestCount('chat');
      const extracted = await sdk.dryRunExtractMemories({
        client: raw,
        path: { bank_id: 'llm-bank' },
        body: { content: 'Olek bakes bread.' },
      });
      expect(extracted.response.status).toBe(200);
      expect(fake.requestCount('chat')).toBe(calls + 1);
      const listed = await sdk.listLlmRequests({ client: raw, path: { bank_id: 'llm-bank' } });
      expect(listed.data).toEqual({ bank_id: 'llm-bank', total: 0, limit: 50, offset: 0, items: [] });
      expect((await sdk.getVersion({ client: raw })).data?.features?.llm_trace).toBe(false);
    });
  });
});
