import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { MemoryDatabase, type PoolStats } from '../../src/storage/memory-database.js';
import { seedMemories } from '../consolidation/consolidation-fixtures.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

const BANKS = Array.from({ length: 8 }, (_, index) => `starve-${index}`);

/**
 * The reason the project exists (docs/ARCHITECTURE.md, "Invariant 1"): with a pool of 2 and eight
 * consolidation batches waiting on a slow LLM, a recall must still get a connection at once.
 * Holding a connection across the LLM call would have all of them taken for the whole wait.
 */
describe('pool starvation (PostgreSQL, pool of 2, slow LLM)', () => {
  let fake: FakeOpenAiServer;
  let database: { name: string; url: string };
  let app: INestApplicationContext;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start({ latencyMs: { chat: 300 } });
    fake.onChat((body: ChatRequestBody) => {
      const prompt = JSON.parse(String(body.messages.at(-1)!.content)) as { memories: Array<{ id: string; text: string }> };
      return { create: [{ text: `Summary of ${prompt.memories.length} memories.`, source_ids: prompt.memories.map((m) => m.id) }] };
    });
    database = await createTestDatabase('starvation');
    ({ app } = await bootStartedMemory({
      databaseUrl: database.url,
      poolSize: 2,
      watchdogIntervalMs: 60_000,
      // Nothing is queued and no delivery is due here; an idle worker's or the webhook
      // dispatcher's poll (each once a second by default) would take the pool's second connection
      // now and then, and the samples below count the connections the batches and the recall hold.
      operations: { pollIntervalMs: 60_000 },
      webhooks: { pollIntervalMs: 60_000 },
      llm: { provider: 'openai', baseUrl: fake.baseUrl, apiKey: 'test', maxRetries: 0 },
      consolidation: { cron: null, concurrency: 8, batchSize: 5 },
    }));
    for (const bank of BANKS) {
      await seedMemories(app, bank, [
        `${bank}: Ivo tends the orchard in spring.`,
        `${bank}: Ivo sells apples at the market.`,
        `${bank}: Ivo presses cider in autumn.`,
      ]);
    }
  });

  afterAll(async () => {
    await app.close();
    await fake.close();
    await dropTestDatabase(database.name);
  });

  it('answers a recall while eight batches wait on the LLM, with no connection held by them', async () => {
    const sqlDatabase = app.get(MemoryDatabase);
    const guard = app.get(ExternalCallGuard);
    const violationsBefore = guard.violations;
    const release = fake.pause('chat');
    const consolidation = app.get(ConsolidationService);
    const runs = BANKS.map((bank) => consolidation.consolidateBank(bank));

    await eventually(
      () => fake.inFlight('chat'),
      (inFlight) => inFlight === BANKS.length,
      15_000,
    );
    sqlDatabase.takeLongestWaitMs();
    const samples: PoolStats[] = [];
    const sampler = setInterval(() => samples.push(sqlDatabase.poolStats()!), 5);

    const recalled = await app.get(RecallService).recall({ bankId: BANKS[0], query: 'Who presses cider?' });
    const repliedMeanwhile = fake.requestCount('chat') - fake.inFlight('chat');
    clearInterval(sampler);

    expect(recalled.results.map((memory) => memory.text)).toContain(`${BANKS[0]}: Ivo presses cider in autumn.`);
    // Every LLM call was still held back when the recall returned: it did not wait for one.
    expect(repliedMeanwhile).toBe(0);
    expect(fake.inFlight('chat')).toBe(BANKS.length);
    // While eight batches waited on the LLM, none of them held a connection: only the recall did.
    expect(Math.max(...samples.map((stats) => stats.inUse))).toBeLessThanOrEqual(1);
    expect(samples.every((stats) => stats.waiting === 0)).toBe(true);
    // The recall's own checkout did not queue behind anything but a few statements.
    expect(sqlDatabase.takeLongestWaitMs()).toBeLessThan(250);

    release();
    const results = await Promise.all(runs);
    expect(results.reduce((sum, result) => sum + result.created, 0)).toBe(BANKS.length);
    expect(guard.violations).toBe(violationsBefore);
  });
});
