import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { FakeOpenAiServer, type ChatRequestBody } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { memoryRows, observations, seedMemories, sorted } from './consolidation-fixtures.js';

interface ConsolidationPrompt {
  memories: Array<{ id: string; text: string }>;
  observations: Array<{ id: string; text: string }>;
}

type Script = (prompt: ConsolidationPrompt) => object | string;

const HALLUCINATED = '00000000-0000-4000-8000-000000000000';

describe('consolidation with an LLM (PGlite, fake OpenAI server)', () => {
  let fake: FakeOpenAiServer;
  let app: INestApplicationContext;
  let consolidation: ConsolidationService;
  let database: MemoryDatabase;
  let script: Script = () => ({});

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ embeddingDimension: 32 });
    fake.onChat((body: ChatRequestBody) => script(JSON.parse(String(body.messages.at(-1)!.content)) as ConsolidationPrompt));
    const booted = await bootStartedMemory({
      databaseUrl: `pglite://memory/consolidation-llm-${process.pid}-${Date.now()}`,
      watchdogIntervalMs: 60_000,
      operations: { pollIntervalMs: 50 },
      embedder: {
        provider: 'openai',
        model: 'fake-embedding',
        dimension: 32,
        baseUrl: fake.baseUrl,
        apiKey: 'k',
        maxRetries: 0,
        timeoutMs: 2000,
      },
      llm: { provider: 'openai', model: 'fake-llm', baseUrl: fake.baseUrl, apiKey: 'k', maxRetries: 0, timeoutMs: 5000 },
      consolidation: { cron: null, batchSize: 10, maxAttempts: 2 },
    });
    app = booted.app;
    consolidation = app.get(ConsolidationService);
    database = app.get(MemoryDatabase);
  });

  afterEach(() => {
    fake.releaseHung();
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('applies create and update actions, and skips hallucinated ids, unknown observations and empty text', async () => {
    const [m1, m2, m3] = await seedMemories(app, 'llm', ['Alice likes tea.', 'Alice drinks green tea daily.', 'The sky is blue.'], ['t1']);
    script = () => ({ create: [{ text: 'Alice is a tea lover.', source_ids: [m1, m2, HALLUCINATED] }] });

    const first = await consolidation.consolidateBank('llm');

    expect(first).toMatchObject({ created: 1, updated: 0, skipped: 0, failed: 0, memories_consolidated: 3 });
    const [observation] = await observations(app, 'llm');
    expect(observation).toMatchObject({ text: 'Alice is a tea lover.', proof_count: 2, tags: ['t1'] });
    expect(sorted(observation.source_memory_ids)).toEqual(sorted([m1, m2]));
    expect((await memoryRows(app, 'llm', 'id = $2', [m3]))[0].consolidation_status).toBe('done');

    const [m4, m5, m6] = await seedMemories(app, 'llm', ['Alice bought a teapot.', 'Bob fixes bikes.', 'Carol sings.'], ['t1']);
    script = (prompt) => {
      expect(prompt.observations.map((each) => each.id)).toContain(observation.id);
      return {
        update: [
          { observation_id: observation.id, text: 'Alice loves tea and owns a teapot.', source_ids: [m4, HALLUCINATED] },
          { observation_id: HALLUCINATED, text: 'Bob is handy.', source_ids: [m5] },
        ],
        create: [{ text: '   ', source_ids: [m6] }],
      };
    };

    const second = await consolidation.consolidateBank('llm');

    expect(second).toMatchObject({ created: 0, updated: 1, skipped: 2, failed: 2, memories_consolidated: 1 });
    const [updated, ...none] = await observations(app, 'llm');
    expect(none).toHaveLength(0);
    expect(updated).toMatchObject({ id: observation.id, text: 'Alice loves tea and owns a teapot.', proof_count: 3 });
    expect(updated.source_memory_ids).toEqual([...observation.source_memory_ids!, m4]);
    const rejected = await memoryRows(app, 'llm', 'id = ANY($2::uuid[])', [[m5, m6]]);
    expect(rejected.map((row) => [row.consolidation_status, row.consolidation_attempts])).toEqual([
      ['pending', 1],
      ['pending', 1],
    ]);
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('shows the LLM each scope apart and refuses an action that names memories of two scopes', async () => {
    const [julia] = await seedMemories(app, 'two-users', ["Julia's locker code is 7731."], ['user:julia']);
    const [ivan1, ivan2] = await seedMemories(app, 'two-users', ["Ivan's locker code is 4419.", 'Ivan uses locker 12.'], ['user:ivan']);
    let prompt: (ConsolidationPrompt & { scopes: Array<{ scope: number; tags: string[] }> }) | undefined;
    script = (shown) => {
      prompt = shown as typeof prompt;
      return {
        create: [
          { text: 'Both locker codes: 7731 and 4419.', source_ids: [julia, ivan1] },
          { scope: 1, text: 'Julia keeps the codes of Ivan.', source_ids: [ivan2] },
          { text: "Ivan's locker is 12, code 4419.", source_ids: [ivan1, ivan2] },
        ],
      };
    };

    const result = await consolidation.consolidateBank('two-users');

    expect(prompt!.scopes.map((scope) => scope.tags)).toEqual([['user:ivan'], ['user:julia']]);
    expect(result).toMatchObject({ created: 1, skipped: 2, failed: 1 });
    const [only, ...none] = await observations(app, 'two-users');
    expect(none).toHaveLength(0);
    expect(only).toMatchObject({ text: "Ivan's locker is 12, code 4419.", tags: ['user:ivan'] });
    expect(sorted(only.source_memory_ids)).toEqual(sorted([ivan1, ivan2]));
    // Named only in a refused action: retried later, with the attempt counted.
    expect((await memoryRows(app, 'two-users', 'id = $2', [julia]))[0]).toMatchObject({
      consolidation_status: 'pending',
      consolidation_attempts: 1,
    });
  });

  it('writes nothing for malformed or empty output, counts the attempt, and fails the memories after maxAttempts', async () => {
    const ids = await seedMemories(app, 'garbled', ['Dana runs.', 'Dana runs marathons.']);
    script = () => ({ create: [{ text: 'Dana is a runner.', source_ids: ids }] });
    const operations = app.get(OperationsService);

    fake.fail('chat', { kind: 'malformed-json' });
    const first = await consolidation.requestConsolidation('garbled');
    const firstDone = await eventually(
      () => operations.get('garbled', first.operationId),
      (op) => op?.status === 'completed',
    );
    expect(firstDone!.result).toMatchObject({ created: 0, updated: 0, failed: 2, memories_consolidated: 0 });
    let rows = await memoryRows(app, 'garbled');
    expect(rows.map((row) => [row.consolidation_status, row.consolidation_attempts])).toEqual([
      ['pending', 1],
      ['pending', 1],
    ]);

    fake.fail('chat', { kind: 'empty' });
    const second = await consolidation.requestConsolidation('garbled');
    const secondDone = await eventually(
      () => operations.get('garbled', second.operationId),
      (op) => op?.status === 'completed',
    );
    expect(secondDone!.result).toMatchObject({ created: 0, failed: 2 });
    rows = await memoryRows(app, 'garbled');
    expect(rows.map((row) => [row.consolidation_status, row.consolidation_attempts])).toEqual([
      ['failed', 2],
      ['failed', 2],
    ]);
    expect(rows[0].consolidation_error).toMatch(/LLM output/);
    expect(await observations(app, 'garbled')).toHaveLength(0);

    // Terminal: a later run does not pick them up again.
    expect(await consolidation.consolidateBank('garbled')).toMatchObject({ failed: 0, memories_consolidated: 0 });
    expect(fake.requestCount('chat')).toBeGreaterThanOrEqual(2);
  });

  describe('races in the connection-free window (the LLM paused)', () => {
    async function duringLlmCall<T>(bankId: string, act: () => Promise<T>) {
      const release = fake.pause('chat');
      const arrived = fake.nextRequest('chat');
      const run = consolidation.consolidateBank(bankId);
      await arrived;
      // On a pool of one this only completes because the batch holds no connection while it waits.
      const acted = await act();
      release();
      return { result: await run, acted };
    }

    it('does not fold in a source deleted while the LLM was thinking', async () => {
      const [m1, m2, m3] = await seedMemories(app, 'race-one', ['Eve paints.', 'Eve paints murals.', 'Eve paints portraits.']);
      script = () => ({ create: [{ text: 'Eve is a painter.', source_ids: [m1, m2, m3] }] });

      const { result } = await duringLlmCall('race-one', () => database.query(`DELETE FROM memory_units WHERE id = $1`, [m2]));

      expect(result).toMatchObject({ created: 1, skipped: 0, memories_consolidated: 2 });
      const [observation] = await observations(app, 'race-one');
      expect(sorted(observation.source_memory_ids)).toEqual(sorted([m1, m3]));
      expect(observation.proof_count).toBe(2);
    });

    it('re-checks the sources inside the write: one deleted while the observation was embedded is not folded in', async () => {
      const [m1, m2, m3] = await seedMemories(app, 'race-embed', ['Hana knits.', 'Hana knits scarves.', 'Hana knits hats.']);
      script = () => ({ create: [{ text: 'Hana is a knitter.', source_ids: [m1, m2, m3] }] });
      const release = fake.pause('embeddings');
      const arrived = fake.nextRequest('embeddings');
      const run = consolidation.consolidateBank('race-embed');
      await arrived;
      await database.query(`DELETE FROM memory_units WHERE id = $1`, [m2]);
      release();

      expect(await run).toMatchObject({ created: 1, memories_consolidated: 2 });
      const [observation] = await observations(app, 'race-embed');
      expect(sorted(observation.source_memory_ids)).toEqual(sorted([m1, m3]));
      expect(observation.proof_count).toBe(2);
    });

    it('writes nothing, and embeds nothing, when every source died; and reports it skipped', async () => {
      const ids = await seedMemories(app, 'race-all', ['Finn sails.', 'Finn sails yachts.']);
      script = () => ({ create: [{ text: 'Finn is a sailor.', source_ids: ids }] });
      const embeddingsBefore = fake.requestCount('embeddings');

      const { result } = await duringLlmCall('race-all', () =>
        database.query(`UPDATE memory_units SET state = 'invalidated' WHERE id = ANY($1::uuid[])`, [ids]),
      );

      expect(result).toMatchObject({ created: 0, updated: 0, skipped: 1, memories_consolidated: 0 });
      expect(await observations(app, 'race-all')).toHaveLength(0);
      expect(fake.requestCount('embeddings')).toBe(embeddingsBefore);
    });

    it('lets a worker whose lease expired and was taken over write nothing', async () => {
      const ids = await seedMemories(app, 'race-lease', ['Gus bakes.', 'Gus bakes bread.']);
      script = () => ({ create: [{ text: 'Gus is a baker.', source_ids: ids }] });

      const { result, acted: takenOver } = await duringLlmCall('race-lease', async () => {
        // What another instance's claim does once the lease has expired.
        await database.query(`UPDATE memory_units SET lease_expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [ids]);
        return database.query<{ lease_token: string }>(
          `UPDATE memory_units SET lease_owner = 'instance-b', lease_token = nextval('memory_lease_tokens'),
                  lease_expires_at = now() + interval '1 minute'
            WHERE id = ANY($1::uuid[]) AND consolidation_status = 'claimed' AND lease_expires_at < now()
            RETURNING lease_token::text AS lease_token`,
          [ids],
        );
      });

      expect(takenOver).toHaveLength(2);
      expect(result).toMatchObject({ created: 0, updated: 0, skipped: 1, failed: 0, memories_consolidated: 0 });
      expect(await observations(app, 'race-lease')).toHaveLength(0);
      const rows = await memoryRows(app, 'race-lease');
      expect(rows.map((row) => [row.consolidation_status, row.lease_owner, row.consolidation_attempts])).toEqual([
        ['claimed', 'instance-b', 0],
        ['claimed', 'instance-b', 0],
      ]);
      expect(rows.map((row) => row.lease_token).sort()).toEqual(takenOver.map((row) => row.lease_token).sort());
    });
  });
});
