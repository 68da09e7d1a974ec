import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { AiClients } from '../../src/external/ai-clients.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { MAX_EDIT_ATTEMPTS, MemoryEditService } from '../../src/memories/memory-edit.service.js';
import { MemoryErrorCode, MemoryException } from '../../src/memory.exception.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

interface Harness {
  app: INestApplicationContext;
  editor: MemoryEditService;
  database: MemoryDatabase;
  retain(bankId: string, content: string): Promise<string>;
  recallTexts(bankId: string, query: string): Promise<string[]>;
  entities(bankId: string): Promise<string[]>;
  violations(): number;
  /** Cosine distance between the stored embedding of a memory and the embedder's vector of `text`. */
  distanceTo(id: string, text: string): Promise<number>;
}

function harness(app: INestApplicationContext): Harness {
  const database = app.get(MemoryDatabase);
  return {
    app,
    editor: app.get(MemoryEditService),
    database,
    async retain(bankId, content) {
      const outcome = await app.get(RetainService).retain(bankId, { items: [{ content }] });
      return outcome.memoryIds[0];
    },
    async recallTexts(bankId, query) {
      const { results } = await app.get(RecallService).recall({ bankId, query, includeEntities: null });
      return results.map((memory) => memory.text);
    },
    async entities(bankId) {
      const rows = await database.query<{ canonical_name: string }>(
        `SELECT canonical_name FROM entities WHERE bank_id = $1 ORDER BY canonical_name`,
        [bankId],
      );
      return rows.map((row) => row.canonical_name);
    },
    violations: () => app.get(ExternalCallGuard).violations,
    async distanceTo(id, text) {
      const vectors = app.get<VectorBackend>(MEMORY_VECTOR_BACKEND);
      const [vector] = await app.get(AiClients).embedder.embed([text]);
      const [row] = await database.query<{ distance: number }>(
        `SELECT ${vectors.distance('m', '$2')} AS distance FROM memory_units m WHERE m.id = $1`,
        [id, vectors.serialize(vector)],
      );
      return Number(row.distance);
    },
  };
}

async function insertObservation(database: MemoryDatabase, bankId: string, sources: string[]): Promise<string> {
  const [row] = await database.query<{ id: string }>(
    `INSERT INTO memory_units (bank_id, text, fact_type, source_memory_ids, proof_count, consolidation_status)
     VALUES ($1, 'Alice and Bob are colleagues', 'observation', $2::uuid[], 2, 'done') RETURNING id`,
    [bankId, sources],
  );
  return row.id;
}

describe('memory edit on PGlite (a pool of one)', () => {
  let h: Harness;

  beforeAll(async () => {
    const booted = await bootStartedMemory({ databaseUrl: `pglite://memory/edit-${randomUUID()}`, watchdogIntervalMs: 60_000 });
    h = harness(booted.app);
  });

  afterAll(async () => {
    await h.app.close();
  });

  afterEach(() => {
    expect(h.violations()).toBe(0);
  });

  it('re-embeds the new text, relinks entities and removes the orphans', async () => {
    const id = await h.retain('edit-text', 'Alice works at Globex.');
    expect(await h.entities('edit-text')).toEqual(['alice', 'globex']);

    const edited = await h.editor.edit('edit-text', id, { text: 'Alice joined Initech as a welder.' });

    expect(edited).toMatchObject({ id, text: 'Alice joined Initech as a welder.', entities: ['Alice', 'Initech'] });
    expect(edited.editedAt).toBeInstanceOf(Date);
    expect(await h.entities('edit-text')).toEqual(['alice', 'initech']);
    const [counts] = await h.database.query<{ mention_count: number }>(
      `SELECT mention_count FROM entities WHERE bank_id = 'edit-text' AND canonical_name = 'initech'`,
    );
    expect(counts.mention_count).toBe(1);
    // The stored vector is the new wording's embedding, not the old one's.
    expect(await h.distanceTo(id, 'Alice joined Initech as a welder.')).toBeCloseTo(0, 5);
    expect(await h.distanceTo(id, 'Alice works at Globex.')).toBeGreaterThan(0.3);
    expect(await h.recallTexts('edit-text', 'welder Initech')).toContain('Alice joined Initech as a welder.');
  });

  it('invalidates: the memory leaves recall and the list, and its observations are invalidated and re-queued', async () => {
    const [first, second] = [await h.retain('edit-inv', 'Alice plays chess.'), await h.retain('edit-inv', 'Bob plays chess.')];
    await h.database.query(`UPDATE memory_units SET consolidation_status = 'done' WHERE id = ANY($1::uuid[])`, [[first, second]]);
    const observation = await insertObservation(h.database, 'edit-inv', [first, second]);

    const edited = await h.editor.edit('edit-inv', first, { state: 'invalidated', reason: 'was a joke' });

    expect(edited).toMatchObject({ state: 'invalidated', invalidationReason: 'was a joke' });
    expect(edited.invalidatedAt).toBeInstanceOf(Date);
    expect(await h.recallTexts('edit-inv', 'who plays chess')).toEqual(['Bob plays chess.']);
    const listed = await h.app.get(MemoriesService).list('edit-inv', { limit: 10, offset: 0 });
    expect(listed.items.map((memory) => memory.id)).toEqual([second]);
    const rows = await h.database.query<{ id: string; state: string; invalidation_reason: string | null; consolidation_status: string }>(
      `SELECT id, state, invalidation_reason, consolidation_status FROM memory_units WHERE id = ANY($1::uuid[])`,
      [[first, second, observation]],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(observation)).toMatchObject({ state: 'invalidated', invalidation_reason: 'source edited' });
    expect(byId.get(second)!.consolidation_status).toBe('pending');
  });

  it('invalidates the observations built on a source whose text changed and re-queues every source', async () => {
    const [first, second] = [await h.retain('edit-obs', 'Carol paints murals.'), await h.retain('edit-obs', 'Dave paints murals.')];
    await h.database.query(`UPDATE memory_units SET consolidation_status = 'done' WHERE id = ANY($1::uuid[])`, [[first, second]]);
    const observation = await insertObservation(h.database, 'edit-obs', [first, second]);

    await h.editor.edit('edit-obs', first, { text: 'Carol paints portraits.' });

    const rows = await h.database.query<{ id: string; state: string; consolidation_status: string }>(
      `SELECT id, state, consolidation_status FROM memory_units WHERE id = ANY($1::uuid[])`,
      [[first, second, observation]],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(observation)!.state).toBe('invalidated');
    expect(byId.get(first)).toMatchObject({ state: 'valid', consolidation_status: 'pending' });
    expect(byId.get(second)!.consolidation_status).toBe('pending');
  });

  it('refuses an empty edit, an observation and an unknown memory', async () => {
    const id = await h.retain('edit-bad', 'Erin sings.');
    await expect(h.editor.edit('edit-bad', id, {})).rejects.toMatchObject({ code: MemoryErrorCode.InvalidInput });
    const observation = await insertObservation(h.database, 'edit-bad', [id]);
    await expect(h.editor.edit('edit-bad', observation, { text: 'x y' })).rejects.toMatchObject({
      code: MemoryErrorCode.InvalidInput,
      field: 'memory_id',
    });
    await expect(h.editor.edit('edit-bad', randomUUID(), { text: 'x y' })).rejects.toMatchObject({ code: MemoryErrorCode.MemoryNotFound });
    await expect(h.editor.edit('other-bank', id, { text: 'x y' })).rejects.toMatchObject({ code: MemoryErrorCode.MemoryNotFound });
  });
});

describe('memory edit on PostgreSQL, with a row that changes between the phases', () => {
  let fake: FakeOpenAiServer;
  let database: { name: string; url: string };
  let h: Harness;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    database = await createTestDatabase('edit');
    const booted = await bootStartedMemory({
      databaseUrl: database.url,
      embedder: { provider: 'openai', baseUrl: fake.baseUrl, apiKey: 'x', maxRetries: 0 },
      watchdogIntervalMs: 60_000,
    });
    h = harness(booted.app);
  });

  afterAll(async () => {
    await h?.app.close();
    await fake.close();
    await dropTestDatabase(database.name);
  });

  afterEach(() => {
    expect(h.violations()).toBe(0);
  });

  /**
   * Holds each phase-1 embedding request of the edit until the row's text has been changed
   * behind its back, `times` times; later attempts run freely.
   */
  async function editWithConcurrentChanges(bankId: string, id: string, times: number) {
    let release = fake.pause('embeddings');
    let arrived = fake.nextRequest('embeddings');
    const editing = h.editor.edit(bankId, id, { text: 'Frank now lives in Lisbon.' }).then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error }),
    );
    for (let change = 1; change <= times; change += 1) {
      await arrived;
      await h.database.query(`UPDATE memory_units SET text = $2 WHERE id = $1`, [id, `Frank moved, version ${change}.`]);
      const next = change < times ? fake.pause('embeddings') : () => undefined;
      arrived = change < times ? fake.nextRequest('embeddings') : arrived;
      release();
      release = next;
    }
    return editing;
  }

  it('retries when the text changed once between the phases, and applies the edit', async () => {
    const id = await h.retain('edit-race', 'Frank lives in Porto.');
    const before = fake.requestCount('embeddings');

    const { value, error } = await editWithConcurrentChanges('edit-race', id, 1);

    expect(error).toBeUndefined();
    expect(value!.text).toBe('Frank now lives in Lisbon.');
    expect(fake.requestCount('embeddings') - before).toBe(2);
    expect(await h.entities('edit-race')).toEqual(['frank', 'lisbon']);
    expect(await h.distanceTo(id, 'Frank now lives in Lisbon.')).toBeCloseTo(0, 5);
  });

  it(`answers a conflict after ${MAX_EDIT_ATTEMPTS} attempts when the text keeps changing`, async () => {
    const id = await h.retain('edit-conflict', 'Frank lives in Porto.');
    const before = fake.requestCount('embeddings');

    const { error } = await editWithConcurrentChanges('edit-conflict', id, MAX_EDIT_ATTEMPTS);

    expect(error).toBeInstanceOf(MemoryException);
    expect((error as MemoryException).code).toBe(MemoryErrorCode.Conflict);
    expect(fake.requestCount('embeddings') - before).toBe(MAX_EDIT_ATTEMPTS);
    const [row] = await h.database.query<{ text: string; edited_at: Date | null }>(
      `SELECT text, edited_at FROM memory_units WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ text: `Frank moved, version ${MAX_EDIT_ATTEMPTS}.`, edited_at: null });
  });
});
