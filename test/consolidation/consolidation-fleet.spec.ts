import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationScheduler } from '../../src/consolidation/consolidation.scheduler.js';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import type { MemoryModuleOptions } from '../../src/memory.options.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { type BootedMemory, bootStartedMemory } from '../helpers/memory-app.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import pg from 'pg';
import { seedMemories } from './consolidation-fixtures.js';

const TOPICS = [
  ['Alice Johnson hikes in the Alps.', 'Alice Johnson hikes every summer.', 'Alice Johnson hikes with friends.'],
  ['Bob Stone repairs old bicycles.', 'Bob Stone repairs bicycles on weekends.', 'Bob Stone sells repaired bicycles.'],
  ['Carol Diaz bakes sourdough bread.', 'Carol Diaz bakes bread at dawn.', 'Carol Diaz sells bread at the market.'],
  ['Dan Frost plays jazz piano.', 'Dan Frost plays piano in a trio.', 'Dan Frost teaches jazz piano.'],
  ['Zebras graze at dawn.', 'Quantum chips need cooling.', 'Lighthouses guide ships.'],
];

async function boot(options: MemoryModuleOptions): Promise<BootedMemory & { app: INestApplicationContext }> {
  const booted = await bootStartedMemory({ watchdogIntervalMs: 60_000, operations: { pollIntervalMs: 50 }, ...options });
  return booted as BootedMemory & { app: INestApplicationContext };
}

/** One retain per topic, so each topic has its own `created_at` and, with a batch size of 3, its own batch. */
async function seed(app: INestApplicationContext, bankId: string): Promise<void> {
  for (const [topic, sentences] of TOPICS.entries()) {
    await app.get(RetainService).retain(bankId, {
      items: sentences.map((content, index) => ({ content, timestamp: new Date(Date.UTC(2025, 0, 1, topic, index)) })),
    });
  }
}

describe('consolidation across instances (PostgreSQL)', () => {
  let database: { name: string; url: string };

  beforeAll(async () => {
    database = await createTestDatabase('consolidation');
  });

  afterAll(async () => {
    await dropTestDatabase(database.name);
  });

  it('consolidates every memory of a bank exactly once when two instances run it at the same time', async () => {
    const options: MemoryModuleOptions = {
      databaseUrl: database.url,
      poolSize: 4,
      consolidation: { cron: null, batchSize: 3, concurrency: 2 },
    };
    const a = await boot({ ...options, instanceId: 'instance-a' });
    const b = await boot({ ...options, instanceId: 'instance-b' });
    try {
      await seed(a.app, 'shared');
      const runs = await Promise.all([a.app, b.app, a.app, b.app].map((app) => app.get(ConsolidationService).consolidateBank('shared')));

      const sql = a.app.get(MemoryDatabase);
      const raw = await sql.query<{ id: string; text: string; consolidation_status: string }>(
        `SELECT id, text, consolidation_status FROM memory_units WHERE bank_id = 'shared' AND fact_type <> 'observation'`,
      );
      expect(raw).toHaveLength(15);
      expect(raw.every((row) => row.consolidation_status === 'done')).toBe(true);
      expect(runs.reduce((sum, run) => sum + run.memories_consolidated, 0)).toBe(15);

      const observations = await sql.query<{ id: string; source_memory_ids: string[]; proof_count: number }>(
        `SELECT id, source_memory_ids, proof_count FROM memory_units WHERE bank_id = 'shared' AND fact_type = 'observation'`,
      );
      // How many observations there are depends on how the concurrent claims cut the topics into
      // batches (two SKIP LOCKED scans can interleave and scatter a topic; without an LLM only a
      // batch's own memories cluster): at most one per person, each of one topic only.
      const topicOf = (id: string) => TOPICS.findIndex((sentences) => sentences.includes(raw.find((row) => row.id === id)!.text));
      expect(observations.length).toBeGreaterThan(0);
      expect(observations.length).toBeLessThanOrEqual(4);
      expect(observations.every((row) => new Set(row.source_memory_ids.map(topicOf)).size === 1)).toBe(true);
      expect(runs.reduce((sum, run) => sum + run.created, 0)).toBe(observations.length);
      const sources = observations.flatMap((row) => row.source_memory_ids);
      expect(new Set(sources).size).toBe(sources.length);
      expect(sources.every((id) => raw.some((row) => row.id === id))).toBe(true);
      const sourceSets = observations.map((row) => [...row.source_memory_ids].sort().join(','));
      expect(new Set(sourceSets).size).toBe(sourceSets.length);
      expect(observations.every((row) => row.proof_count === row.source_memory_ids.length)).toBe(true);
      expect(a.app.get(ExternalCallGuard).violations + b.app.get(ExternalCallGuard).violations).toBe(0);
    } finally {
      await b.app.close();
      await a.app.close();
    }
  });

  it('aborts a batch still waiting on the LLM at the shutdown deadline and hands its memories back', async () => {
    const fake = await FakeOpenAiServer.start();
    const release = fake.pause('chat');
    try {
      const booted = await boot({
        databaseUrl: database.url,
        shutdownTimeoutMs: 2000,
        llm: { provider: 'openai', model: 'fake-llm', baseUrl: fake.baseUrl, apiKey: 'k', maxRetries: 0, timeoutMs: 30_000 },
        consolidation: { cron: null },
      });
      const ids = await seedMemories(booted.app, 'stopping', ['Ivy climbs.', 'Ivy climbs cliffs.']);
      const arrived = fake.nextRequest('chat');
      const run = booted.app
        .get(ConsolidationService)
        .consolidateBank('stopping')
        .catch((error: unknown) => error);
      await arrived;

      await booted.app.close();

      expect(await run).toBeInstanceOf(Error);
      expect(booted.reports.find((report) => report.name === 'consolidation-batches')).toMatchObject({ outcome: 'done' });
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT consolidation_status, lease_owner, consolidation_attempts FROM memory_units WHERE id = ANY($1::uuid[])`,
          [ids],
        );
        expect(rows).toEqual([
          { consolidation_status: 'pending', lease_owner: null, consolidation_attempts: 0 },
          { consolidation_status: 'pending', lease_owner: null, consolidation_attempts: 0 },
        ]);
      } finally {
        await client.end();
      }
    } finally {
      release();
      await fake.close();
    }
  });

  it('queues one operation per tick and bank across a fleet whose cron ticks every second', async () => {
    const seeder = await boot({ databaseUrl: database.url, consolidation: { cron: null } });
    await seed(seeder.app, 'cron-one');
    await seed(seeder.app, 'cron-two');
    await seeder.app.close();

    const options: MemoryModuleOptions = { databaseUrl: database.url, poolSize: 3, consolidation: { cron: '* * * * * *', batchSize: 5 } };
    const a = await boot({ ...options, instanceId: 'cron-a' });
    const b = await boot({ ...options, instanceId: 'cron-b' });
    try {
      const ticksOf = [a, b].map((instance) => countTicks(instance.app.get(ConsolidationScheduler, { strict: false })));
      const sql = a.app.get(MemoryDatabase);
      await eventually(
        () =>
          sql.query<{ n: string }>(
            `SELECT count(*) AS n FROM memory_units
              WHERE bank_id IN ('cron-one', 'cron-two') AND fact_type <> 'observation' AND consolidation_status <> 'done'`,
          ),
        ([row]) => Number(row.n) === 0,
        10_000,
      );
      // Two more ticks of each instance: with nothing left to do they queue nothing.
      const seen = ticksOf.map((ticks) => ticks());
      await eventually(
        () => ticksOf.map((ticks) => ticks()),
        (now) => now.every((count, index) => count >= seen[index] + 2),
        10_000,
      );
      const operations = await sql.query<{ bank_id: string; status: string; created_at: Date }>(
        `SELECT bank_id, status, created_at FROM operations WHERE kind = 'consolidation' ORDER BY created_at`,
      );
      for (const bank of ['cron-one', 'cron-two']) {
        const ofBank = operations.filter((operation) => operation.bank_id === bank);
        expect(ofBank).toHaveLength(1);
        expect(ofBank[0].status).toBe('completed');
      }
    } finally {
      await b.app.close();
      await a.app.close();
    }
  });
});

/** Counts the scheduler's finished ticks, leaving what a tick does unchanged. */
function countTicks(scheduler: ConsolidationScheduler): () => number {
  let finished = 0;
  const tick = scheduler.tick.bind(scheduler);
  scheduler.tick = async () => {
    try {
      return await tick();
    } finally {
      finished += 1;
    }
  };
  return () => finished;
}

describe('the scheduler teardown step (PGlite)', () => {
  it('waits for the tick that is running before it reports done', async () => {
    const booted = await boot({
      databaseUrl: `pglite://memory/consolidation-scheduler-${process.pid}`,
      consolidation: { cron: '* * * * * *' },
    });
    const database = booted.app.get(MemoryDatabase);
    const scheduler = booted.app.get(ConsolidationScheduler, { strict: false });
    let releaseConnection!: () => void;
    const held = new Promise<void>((resolve) => (releaseConnection = resolve));
    // Holding the only connection makes a tick that starts now wait inside its transaction. Grants
    // are first come, first served, so a tick that asked before the hold did finishes and does not
    // count, and one that starts after the hold asked waits behind it, even before it is granted.
    let holdRequested = false;
    let holdGranted = false;
    let tickStartedAfterHoldRequest = false;
    const tick = scheduler.tick.bind(scheduler);
    scheduler.tick = () => {
      if (holdRequested) tickStartedAfterHoldRequest = true;
      return tick();
    };
    holdRequested = true;
    const holding = database.withConnection(() => {
      holdGranted = true;
      return held;
    });
    await eventually(
      () => holdGranted && tickStartedAfterHoldRequest && scheduler.ticking,
      (blocked) => blocked,
      10_000,
    );

    // What the step saw when it reported: a step that did not wait would report mid-tick.
    let tickingWhenReported: boolean | undefined;
    booted.coordinator.onStep((report) => {
      if (report.name === 'consolidation-cron') tickingWhenReported = scheduler.ticking;
    });
    const closing = booted.app.close();
    const ourStep = () => booted.reports.find((report) => report.name === 'consolidation-cron');
    await eventually(
      () => booted.logs.shutdownSteps,
      (lines) => lines.includes("Shutdown step 'scheduler' started"),
    );
    expect(scheduler.ticking).toBe(true);

    releaseConnection();
    await holding;
    await closing;
    expect(ourStep()).toMatchObject({ stage: 'scheduler', outcome: 'done' });
    expect(tickingWhenReported).toBe(false);
    expect(scheduler.ticking).toBe(false);
  });
});
