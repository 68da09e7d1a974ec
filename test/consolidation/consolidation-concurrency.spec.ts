import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import type { MemoryModuleOptions } from '../../src/memory.options.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { eventually } from '../helpers/eventually.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type MemoryRow, memoryRows, observations, seedMemories, sorted } from './consolidation-fixtures.js';

interface Prompt {
  memories: Array<{ id: string; text: string }>;
  observations: Array<{ id: string; text: string }>;
}

interface HeldRequest {
  prompt: Prompt;
  release(): void;
}

/**
 * A slow LLM whose every reply is held until the test releases it, so that the number of calls in
 * flight at once is something the test waits for rather than samples. `holding = false` answers at
 * once.
 */
class HeldLlm {
  holding = true;
  inFlight = 0;
  maxInFlight = 0;
  requests = 0;
  private held: HeldRequest[] = [];
  private waiters = new Set<() => void>();

  constructor(public reply: (prompt: Prompt) => object) {}

  readonly handler = async (body: ChatRequestBody): Promise<object> => {
    const prompt = JSON.parse(String(body.messages.at(-1)!.content)) as Prompt;
    this.requests += 1;
    if (!this.holding) return this.reply(prompt);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const released = new Promise<void>((resolve) => this.held.push({ prompt, release: resolve }));
    for (const wake of this.waiters) wake();
    try {
      await released;
    } finally {
      this.inFlight -= 1;
    }
    return this.reply(prompt);
  };

  /** Resolves with the held requests once `count` of them are held at the same time. */
  async whenHeld(count: number, timeoutMs = 30_000): Promise<HeldRequest[]> {
    let timer: NodeJS.Timeout | undefined;
    let wake!: () => void;
    try {
      return await new Promise<HeldRequest[]>((resolve, reject) => {
        wake = () => {
          if (this.held.length >= count) resolve([...this.held]);
        };
        this.waiters.add(wake);
        timer = setTimeout(() => reject(new Error(`${count} LLM calls never in flight at once (held: ${this.held.length})`)), timeoutMs);
        wake();
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(wake);
    }
  }

  releaseOne(request: HeldRequest): void {
    this.held = this.held.filter((each) => each !== request);
    request.release();
  }

  releaseAll(): void {
    for (const request of this.held.splice(0)) request.release();
  }
}

/** One observation per pair of memories, in the order shown. */
function pairs(prompt: Prompt): object {
  const create = [];
  for (let index = 0; index < prompt.memories.length; index += 2) {
    const pair = prompt.memories.slice(index, index + 2);
    create.push({ text: `Observed: ${pair.map((memory) => memory.text).join(' / ')}`, source_ids: pair.map((memory) => memory.id) });
  }
  return { create };
}

function texts(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix} ${index} keeps bees number ${index} on the hill.`);
}

async function boot(fake: FakeOpenAiServer, options: MemoryModuleOptions): Promise<INestApplicationContext> {
  const booted = await bootStartedMemory({
    watchdogIntervalMs: 60_000,
    operations: { pollIntervalMs: 50 },
    llm: { provider: 'openai', model: 'fake-llm', baseUrl: fake.baseUrl, apiKey: 'k', maxRetries: 0, timeoutMs: 60_000 },
    ...options,
  });
  return booted.app;
}

/** Every raw memory done, each the source of exactly one observation, no two observations of one source set. */
function expectEachConsolidatedOnce(raw: MemoryRow[], written: MemoryRow[]): void {
  expect(raw.map((row) => row.consolidation_status)).toEqual(raw.map(() => 'done'));
  expect(raw.map((row) => row.consolidation_attempts)).toEqual(raw.map(() => 0));
  const sources = written.flatMap((row) => row.source_memory_ids ?? []);
  expect(sorted(sources)).toEqual(sorted(raw.map((row) => row.id)));
  const keys = written.map((row) => row.observation_key);
  expect(new Set(keys).size).toBe(keys.length);
}

describe('batches of one bank run side by side (PGlite, slow LLM)', () => {
  let fake: FakeOpenAiServer;
  let llm: HeldLlm;
  let app: INestApplicationContext;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    fake.onChat((body) => llm.handler(body));
    // One connection for three batches: each holds it only between its external calls.
    app = await boot(fake, {
      databaseUrl: `pglite://memory/consolidation-concurrency-${process.pid}-${Date.now()}`,
      consolidation: { cron: null, batchSize: 4, concurrency: 3 },
    });
  });

  afterEach(() => {
    llm.releaseAll();
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('keeps `concurrency` LLM calls in flight for one bank through the queued operation', async () => {
    llm = new HeldLlm(pairs);
    await seedMemories(app, 'busy', texts('Keeper', 24));

    const { operationId } = await app.get(ConsolidationService).requestConsolidation('busy');

    // Six batches, three at the LLM at a time: both waves fill every slot.
    await llm.whenHeld(3);
    // Meanwhile the other three are claimed and their prompts read, waiting for an LLM slot.
    await eventually(
      () => memoryRows(app, 'busy', `consolidation_status = 'claimed'`),
      (claimed) => claimed.length === 24,
    );
    expect(llm.inFlight).toBe(3);
    llm.releaseAll();
    await llm.whenHeld(3);
    llm.releaseAll();
    const operation = await eventually(
      () => app.get(OperationsService).get('busy', operationId),
      (found) => found?.status === 'completed' || found?.status === 'failed',
    );

    expect(operation).toMatchObject({ status: 'completed', result: { created: 12, memories_consolidated: 24, failed: 0 } });
    expect(llm.maxInFlight).toBe(3);
    expect(llm.requests).toBe(6);
    const written = await observations(app, 'busy');
    expect(written).toHaveLength(12);
    expectEachConsolidatedOnce(await memoryRows(app, 'busy', `fact_type <> 'observation'`), written);
    expect(app.get(ExternalCallGuard).violations).toBe(0);
  });

  it('does not let a batch overwrite an observation another batch folded into after it was read, and plans its memories again', async () => {
    const consolidation = app.get(ConsolidationService);
    // An observation all the new memories belong to, built by an earlier run.
    llm = new HeldLlm((prompt) => ({ create: [{ text: 'Nora is a beekeeper.', source_ids: prompt.memories.map((memory) => memory.id) }] }));
    llm.holding = false;
    const [m1] = await seedMemories(app, 'stale', ['Nora keeps bees.']);
    expect(await consolidation.consolidateBank('stale')).toMatchObject({ created: 1, memories_consolidated: 1 });
    const [baseline] = await observations(app, 'stale');
    const added = await seedMemories(app, 'stale', texts('Nora sells honey jar', 8));

    // Two batches of four, each folding its memories into the observation as it read it.
    llm.reply = (prompt) => {
      const observation = prompt.observations.find((each) => each.id === baseline.id)!;
      const update = { observation_id: observation.id, source_ids: prompt.memories.map((memory) => memory.id) };
      return { update: [{ ...update, text: [observation.text, ...prompt.memories.map((memory) => memory.text)].join(' ') }] };
    };
    llm.holding = true;
    const run = consolidation.consolidateBank('stale');
    const [first, second] = await llm.whenHeld(2);
    const shown = (request: HeldRequest) => request.prompt.observations.find((each) => each.id === baseline.id)?.text;
    const idsOf = (request: HeldRequest) => request.prompt.memories.map((memory) => memory.id);
    const textsOf = (request: HeldRequest) => request.prompt.memories.map((memory) => memory.text);
    expect([shown(first), shown(second)]).toEqual(['Nora is a beekeeper.', 'Nora is a beekeeper.']);
    llm.releaseOne(first);
    await eventually(
      () => memoryRows(app, 'stale', 'id = ANY($2::uuid[])', [idsOf(first)]),
      (rows) => rows.every((row) => row.consolidation_status === 'done'),
    );
    llm.releaseOne(second);
    // The second batch's fold finds the observation changed: its memories are planned again, and
    // this time the LLM is shown what the first batch wrote.
    const [again] = await llm.whenHeld(1);
    expect(sorted(idsOf(again))).toEqual(sorted(idsOf(second)));
    expect(shown(again)).toBe(['Nora is a beekeeper.', ...textsOf(first)].join(' '));
    llm.releaseAll();

    expect(await run).toMatchObject({ updated: 2, skipped: 1, failed: 0, memories_consolidated: 8 });
    const [observation, ...none] = await observations(app, 'stale');
    expect(none).toHaveLength(0);
    expect(observation.text).toBe([shown(again), ...textsOf(again)].join(' '));
    expect(sorted(observation.source_memory_ids)).toEqual(sorted([m1, ...added]));
    expect(observation.proof_count).toBe(9);
    const rows = await memoryRows(app, 'stale', 'id = ANY($2::uuid[])', [added]);
    expect(rows.map((row) => [row.consolidation_status, row.consolidation_attempts])).toEqual(added.map(() => ['done', 0]));
  });
});

describe('batches of one bank across two instances (PostgreSQL, slow LLM)', () => {
  let database: { name: string; url: string };

  beforeAll(async () => {
    database = await createTestDatabase('consolidation_concurrency');
  });

  afterAll(async () => {
    await dropTestDatabase(database.name);
  });

  it('runs `concurrency` batches on each instance at once and consolidates every memory exactly once', async () => {
    const fake = await FakeOpenAiServer.start();
    const llm = new HeldLlm(pairs);
    fake.onChat(llm.handler);
    const options: MemoryModuleOptions = {
      databaseUrl: database.url,
      poolSize: 4,
      consolidation: { cron: null, batchSize: 3, concurrency: 2 },
    };
    const a = await boot(fake, { ...options, instanceId: 'instance-a' });
    const b = await boot(fake, { ...options, instanceId: 'instance-b' });
    try {
      await seedMemories(a, 'fleet', texts('Beekeeper', 18));

      const runs = Promise.all([a, b].map((app) => app.get(ConsolidationService).consolidateBank('fleet')));
      // Two LLM slots on each instance, all four busy with batches of the one bank.
      await llm.whenHeld(4);
      // The rest answered at once: claims racing on two instances may split the last memories into
      // smaller batches, so how many more calls there are is not fixed.
      llm.holding = false;
      llm.releaseAll();
      const results = await runs;

      expect(llm.maxInFlight).toBe(4);
      expect(results.reduce((sum, result) => sum + result.memories_consolidated, 0)).toBe(18);
      const written = await observations(a, 'fleet');
      expect(results.reduce((sum, result) => sum + result.created, 0)).toBe(written.length);
      expectEachConsolidatedOnce(await memoryRows(a, 'fleet', `fact_type <> 'observation'`), written);
      expect(a.get(ExternalCallGuard).violations + b.get(ExternalCallGuard).violations).toBe(0);
    } finally {
      llm.releaseAll();
      await b.close();
      await a.close();
      await fake.close();
    }
  });
});
