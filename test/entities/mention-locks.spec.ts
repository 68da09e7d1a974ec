import type { INestApplicationContext } from '@nestjs/common';
import { reclaimOrphanEntities, linkNewMemories, resolveMentionedEntities } from '../../src/entities/entities.queries.js';
import { AiClients } from '../../src/external/ai-clients.js';
import { KnownEntityIds } from '../../src/entities/known-entity-ids.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { insertMemoryUnits } from '../../src/retain/retain.queries.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { entitiesWithLinkCounts, entityIdsOffTheirLinks } from '../helpers/entity-ids-on-row.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { adminQuery, createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

/**
 * Retain resolves the entities its memories name before inserting them, so each row carries its
 * entities' ids, and locks the entities only after the insert
 * (docs/ARCHITECTURE.md, "A memory's entities on its row"). On PostgreSQL, with real concurrent
 * writers on one pool.
 */
describe('entities named by concurrent writes (PostgreSQL)', () => {
  let app: INestApplicationContext;
  let database: MemoryDatabase;
  let name: string;
  let url: string;

  const entitiesOf = (bankId: string) => entitiesWithLinkCounts((text, params) => database.query(text, params), bankId);
  const offTheirLinks = (bankId: string) => entityIdsOffTheirLinks((text, params) => database.query(text, params), bankId);

  /** Resolves with 'blocked' once a session of the test database waits on a row lock, until `done` says stop. */
  async function firstLockWait(done: () => boolean): Promise<'blocked' | 'never'> {
    while (!done()) {
      const [row] = await adminQuery<{ waiting: string }>(
        `SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')`,
        [name],
      );
      if (Number(row.waiting) > 0) return 'blocked';
    }
    return 'never';
  }

  beforeAll(async () => {
    const created = await createTestDatabase('mention_locks');
    name = created.name;
    url = created.url;
    const booted = await bootStartedMemory({ databaseUrl: created.url, poolSize: 4 });
    app = booted.app;
    database = app.get(MemoryDatabase);
  });

  afterAll(async () => {
    await app?.close();
    if (name) await dropTestDatabase(name);
  });

  it('a write that has resolved its entities makes no retain naming the same people wait', async () => {
    const retain = app.get(RetainService);
    await retain.retain('shared', { items: [{ content: 'Alice Johnson met Bob Smith in Paris.' }] });

    let settled = false;
    let resolved!: () => void;
    let release!: () => void;
    const hasResolved = new Promise<void>((resolve) => (resolved = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = database.transaction(async (sql) => {
      const mentioned = await resolveMentionedEntities(sql, 'shared', [
        [{ name: 'Alice Johnson', type: null }],
        [{ name: 'Bob Smith', type: null }],
      ]);
      expect(mentioned.existing).toHaveLength(2);
      resolved();
      await released;
    });
    await hasResolved;
    // Another retain naming both, start to commit, while that write is still open.
    const other = retain
      .retain('shared', { items: [{ content: 'Bob Smith called Alice Johnson from Paris.' }] })
      .then(() => 'committed' as const)
      .finally(() => (settled = true));
    const outcome = await Promise.race([other, firstLockWait(() => settled)]);
    release();
    await Promise.all([holder, other]);
    expect(outcome).toBe('committed');
    expect(await offTheirLinks('shared')).toEqual([]);
  });

  it('parallel retains naming the same new and known people create each entity once and count every link', async () => {
    const retain = app.get(RetainService);
    const people = ['Carol Diaz', 'Dan Wu', 'Erin Park', 'Frank Moss'];
    const requests = Array.from({ length: 8 }, (_, request) => ({
      items: Array.from({ length: 5 }, (_, item) => ({
        content: `${people[(request + item) % 4]} met ${people[(request + item + 1) % 4]} in Rome, visit ${request}-${item}.`,
      })),
    }));
    await Promise.all(requests.map((request) => retain.retain('parallel', request)));

    const entities = await entitiesOf('parallel');
    expect(entities.map((entity) => entity.canonical_name)).toEqual(['carol diaz', 'dan wu', 'erin park', 'frank moss', 'rome']);
    for (const entity of entities) expect(entity.mention_count).toBe(Number(entity.links));
    expect(entities.find((entity) => entity.canonical_name === 'rome')!.mention_count).toBe(40);
    expect(await offTheirLinks('parallel')).toEqual([]);
  });

  it('an entity deleted between being resolved and being linked is created again, and the rows carry its new id', async () => {
    await database.query(`INSERT INTO banks (id, name) VALUES ('vanishing', 'vanishing') ON CONFLICT DO NOTHING`);
    // An entity nothing links: what a concurrent document deletion reclaims.
    const [orphan] = await database.query<{ id: string }>(
      `INSERT INTO entities (bank_id, name, canonical_name) VALUES ('vanishing', 'Gina Ross', 'gina ross') RETURNING id`,
    );
    const [embedding] = await app.get(AiClients).embedder.embed(['Gina Ross flew to Oslo.']);

    const [memoryId] = await database.transaction(async (sql) => {
      const mentioned = await resolveMentionedEntities(sql, 'vanishing', [[{ name: 'Gina Ross', type: null }]]);
      expect(mentioned.perMemory).toEqual([[orphan.id]]);
      // Reclaimed on another connection of the pool: nothing this write holds stops it.
      await database.transaction((other) => reclaimOrphanEntities(other, [orphan.id]));
      const unitIds = await insertMemoryUnits(sql, app.get<VectorBackend>(MEMORY_VECTOR_BACKEND), 'vanishing', [
        {
          documentId: null,
          chunkId: null,
          text: 'Gina Ross flew to Oslo.',
          context: null,
          factType: 'world',
          occurredStart: null,
          occurredEnd: null,
          mentionedAt: null,
          metadata: {},
          tags: [],
          embedding,
          observationScopes: null,
          attributeKey: null,
          tokens: null,
          entityIds: mentioned.perMemory[0],
        },
      ]);
      await linkNewMemories(sql, 'vanishing', unitIds, mentioned);
      return unitIds;
    });

    const entities = await database.query<{ id: string; canonical_name: string; mention_count: number }>(
      `SELECT id, canonical_name, mention_count FROM entities WHERE bank_id = 'vanishing'`,
    );
    expect(entities).toEqual([{ id: expect.any(String), canonical_name: 'gina ross', mention_count: 1 }]);
    expect(entities[0].id).not.toBe(orphan.id);
    const [row] = await database.query<{ entity_ids: string[] }>(`SELECT entity_ids FROM memory_units WHERE id = $1`, [memoryId]);
    expect(row.entity_ids).toEqual([entities[0].id]);
    expect(await offTheirLinks('vanishing')).toEqual([]);
  });

  it('a retain naming an entity another write created and has not committed waits for it at its look-up, before its insert', async () => {
    const retain = app.get(RetainService);
    await retain.retain('pending', { items: [{ content: 'Kim Berg met Lars Holm in Turku.' }] });

    let created!: () => void;
    let release!: () => void;
    const hasCreated = new Promise<void>((resolve) => (created = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    // A write of this process creates Mona Dahl and holds her until it commits.
    const holder = database.transaction(async (sql) => {
      const mentioned = await resolveMentionedEntities(sql, 'pending', [[{ name: 'Mona Dahl', type: null }]], app.get(KnownEntityIds));
      expect(mentioned.existing).toEqual([]);
      created();
      await released;
    });
    await hasCreated;
    let settled = false;
    const other = retain
      .retain('pending', { items: [{ content: 'Kim Berg and Mona Dahl sailed to Turku.' }] })
      .finally(() => (settled = true));
    // Given Mona Dahl's id before her commit, it would wait for her only after its insert, holding
    // Kim Berg, whom a write like the holder counts after its own insert: a deadlock.
    expect(await firstLockWait(() => settled)).toBe('blocked');
    const [waiting] = await adminQuery<{ query: string }>(
      `SELECT query FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [name],
    );
    expect(waiting.query.trimStart()).toMatch(/^WITH found AS/);
    release();
    await Promise.all([holder, other]);
    expect(await offTheirLinks('pending')).toEqual([]);
  });

  it('an entity another instance reclaimed is created again by the instance that remembers its id', async () => {
    const other = await bootStartedMemory({ databaseUrl: url, poolSize: 2 });
    try {
      const retain = app.get(RetainService);
      await retain.retain('fleet', { items: [{ content: 'Hana Sato flew to Oslo.', documentId: 'trip' }] });
      const remembered = app.get(KnownEntityIds).get('fleet', 'hana sato');
      expect(remembered).toBeDefined();

      // The other instance deletes the document, and with it the entities nothing else links.
      await other.app.get(MemoriesService).deleteDocument('fleet', 'trip');
      expect(await entitiesOf('fleet')).toEqual([]);

      await retain.retain('fleet', { items: [{ content: 'Hana Sato flew back from Oslo.' }] });
      const entities = await entitiesOf('fleet');
      expect(entities.map((entity) => [entity.canonical_name, entity.mention_count, Number(entity.links)])).toEqual([
        ['hana sato', 1, 1],
        ['oslo', 1, 1],
      ]);
      const [hana] = await database.query<{ id: string }>(
        `SELECT id FROM entities WHERE bank_id = 'fleet' AND canonical_name = 'hana sato'`,
      );
      expect(hana.id).not.toBe(remembered);
      expect(app.get(KnownEntityIds).get('fleet', 'hana sato')).toBe(hana.id);
      expect(await offTheirLinks('fleet')).toEqual([]);
    } finally {
      await other.app.close();
    }
  });
});
