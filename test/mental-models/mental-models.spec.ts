import type { INestApplicationContext } from '@nestjs/common';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { MENTAL_MODEL_PLACEHOLDER, REFRESH_MENTAL_MODEL } from '../../src/mental-models/mental-model.types.js';
import { MentalModelsService } from '../../src/mental-models/mental-models.service.js';
import { MemoryErrorCode } from '../../src/memory.exception.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { bootOnPglite } from '../helpers/memory-app.js';
import { seedTexts } from '../helpers/recall-fixtures.js';

function boot(llm?: { baseUrl: string }): Promise<INestApplicationContext> {
  return bootOnPglite('models', { operations: { pollIntervalMs: 50, maxAttempts: 1 } }, llm?.baseUrl);
}

const seed = seedTexts;

function settled(app: INestApplicationContext, bankId: string, operationId: string) {
  return eventually(
    () => app.get(OperationsService).get(bankId, operationId),
    (operation) => operation?.status === 'completed' || operation?.status === 'failed',
    10_000,
  );
}

describe('mental models with an LLM', () => {
  let fake: FakeOpenAiServer;
  let app: INestApplicationContext;
  let models: MentalModelsService;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    app = await boot({ baseUrl: fake.baseUrl });
    models = app.get(MentalModelsService);
    await seed(app, 'team', ['Alice leads the platform team.', 'Bob joined the platform team in May.', 'The cafeteria serves soup.']);
  });

  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  afterEach(() => {
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('creates a model whose queued refresh writes the summary', async () => {
    fake.onChat(() => ({ content: 'The platform team is led by Alice; Bob joined in May.' }));

    const created = await models.create('team', { name: 'Platform Team!', sourceQuery: 'Who is on the platform team?' });

    expect(created.mentalModelId).toBe('platform-team');
    expect((await models.get('team', 'platform-team')).content).toBe(MENTAL_MODEL_PLACEHOLDER);
    const operation = await settled(app, 'team', created.operationId);
    expect(operation).toMatchObject({ status: 'completed', kind: REFRESH_MENTAL_MODEL });
    const model = await models.get('team', 'platform-team');
    expect(model.content).toBe('The platform team is led by Alice; Bob joined in May.');
    expect(model.lastRefreshedAt).toBeInstanceOf(Date);
    expect(model.basedOn.map((fact) => fact.text)).toContain('Alice leads the platform team.');
    const [request] = fake.received('chat');
    expect(JSON.stringify(request.body.messages)).toContain('Who is on the platform team?');
  });

  it('keeps the old content when the LLM answers with nothing, and fails the operation', async () => {
    fake.onChat(() => ({ content: 'Alice leads the platform team.' }));
    const { mentalModelId, operationId } = await models.create('team', { id: 'leads', name: 'Leads', sourceQuery: 'team leads' });
    await settled(app, 'team', operationId);
    const before = await models.get('team', mentalModelId);

    fake.onChat(() => ({ content: '   ' }));
    const refresh = await models.refresh('team', mentalModelId);
    const operation = await settled(app, 'team', refresh);

    expect(operation).toMatchObject({ status: 'failed' });
    expect(operation!.error).toMatch(/unusable|empty/);
    const after = await models.get('team', mentalModelId);
    expect(after.content).toBe('Alice leads the platform team.');
    expect(after.lastRefreshedAt).toEqual(before.lastRefreshedAt);
  });

  it('refuses a duplicate id, and numbers a generated one', async () => {
    await expect(models.create('team', { id: 'leads', name: 'Again', sourceQuery: 'x y' })).rejects.toMatchObject({
      code: MemoryErrorCode.Conflict,
    });
    const second = await models.create('team', { name: 'Platform team', sourceQuery: 'platform' });
    expect(second.mentalModelId).toBe('platform-team-2');
    await settled(app, 'team', second.operationId);
  });

  it('queues refreshes after consolidation only for the models that ask for it', async () => {
    const { operationId } = await models.create('team', {
      id: 'after-consolidation',
      name: 'Soup',
      sourceQuery: 'cafeteria',
      trigger: { refreshAfterConsolidation: true },
    });
    await settled(app, 'team', operationId);
    // Hold the worker off so the queued refreshes stay pending while the second call looks.
    const release = fake.pause('chat');
    try {
      const first = await models.refreshAfterConsolidation('team');
      expect(first).toHaveLength(1);
      const operation = await app.get(OperationsService).get('team', first[0]);
      expect(operation!.payload).toMatchObject({ mental_model_id: 'after-consolidation' });
    } finally {
      fake.onChat(() => ({ content: 'Soup is served.' }));
      release();
    }
    const pending = await app
      .get(MemoryDatabase)
      .query<{ id: string }>(`SELECT id FROM operations WHERE kind = $1 AND status IN ('pending', 'processing')`, [REFRESH_MENTAL_MODEL]);
    for (const { id } of pending) await settled(app, 'team', id);
  });
});

describe('mental models without an LLM', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    app = await boot();
  });

  afterAll(async () => {
    await app.close();
  });

  it('refreshes to an extractive summary of the recalled memories', async () => {
    await seed(app, 'garden', ['Carol grows tomatoes.', 'Carol waters the tomatoes at dawn.', 'Dave paints boats.']);
    const models = app.get(MentalModelsService);

    const { mentalModelId, operationId } = await models.create('garden', { name: 'Tomatoes', sourceQuery: 'Carol tomatoes' });

    expect(await settled(app, 'garden', operationId)).toMatchObject({ status: 'completed' });
    const model = await models.get('garden', mentalModelId);
    expect(model.content).toContain('- Carol grows tomatoes.');
    expect(model.content).toContain('- Carol waters the tomatoes at dawn.');
    expect(model.basedOn.length).toBeGreaterThanOrEqual(2);
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it("queues a refresh when a model's cron slot has passed since its last refresh, once per slot", async () => {
    await seed(app, 'cron', ['Erin rows on the river every morning.']);
    const models = app.get(MentalModelsService);
    const { mentalModelId, operationId } = await models.create('cron', {
      name: 'Rowing',
      sourceQuery: 'Erin rowing',
      trigger: { refreshCron: '0 6 * * *' },
    });
    await settled(app, 'cron', operationId);
    const now = new Date();
    expect(await models.queueDueRefreshes(now)).toEqual([]);

    const tomorrow = new Date(now.getTime() + 24 * 60 * 60_000 + 60_000);
    const queued = await models.queueDueRefreshes(tomorrow);
    expect(queued).toHaveLength(1);
    expect(await models.queueDueRefreshes(tomorrow)).toEqual([]);
    const operation = await settled(app, 'cron', queued[0]);
    expect(operation).toMatchObject({ status: 'completed', payload: { mental_model_id: mentalModelId, reason: 'cron' } });
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('refuses an invalid cron and a cron together with refresh after consolidation', async () => {
    const models = app.get(MentalModelsService);
    await expect(models.create('garden', { name: 'x', sourceQuery: 'y', trigger: { refreshCron: '61 * * * *' } })).rejects.toMatchObject({
      code: MemoryErrorCode.InvalidInput,
      field: 'trigger.refresh_cron',
    });
    await expect(
      models.create('garden', { name: 'x', sourceQuery: 'y', trigger: { refreshCron: '0 * * * *', refreshAfterConsolidation: true } }),
    ).rejects.toMatchObject({ code: MemoryErrorCode.InvalidInput, field: 'trigger' });
  });
});
