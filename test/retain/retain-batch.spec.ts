import type { INestApplicationContext } from '@nestjs/common';
import { RetainService } from '../../src/retain/retain.service.js';
import type { RetainItem } from '../../src/retain/retain.types.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

const PEOPLE = ['Alice Moreau', 'Bruno Silva', 'Carol Diaz', 'Dana Park', 'Evan Hale'];
const PLACES = ['Lisbon', 'Oslo', 'Berlin', 'Kyoto'];
/** Tags that a hand-built array literal could get wrong: quotes, backslashes, braces, commas, the word NULL. */
const AWKWARD_TAGS = ['x"y\\z', '{a,b}', 'NULL', 'café ☕', 'two  spaces'];

/**
 * A hundred items whose facts name the same few people and places again and again, so one
 * request reuses entities across its items; with tags, metadata, context, documents, scopes,
 * given entity types, missing times, and a line of facts that supersede one another.
 */
function batchItems(): RetainItem[] {
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: 100 }, (_, i) => {
    const place = PLACES[i % PLACES.length];
    const sentences = [`${PEOPLE[i % 5]} met ${PEOPLE[(i + 2) % 5]} in ${place}.`];
    if (i % 3 === 0) sentences.push(`${PEOPLE[i % 5]} likes tea.`);
    // Evan Hale's residence, told out of time order: items 0, 80 and 40 are the earliest to the
    // latest of tag set ['team-a']; item 5 is of another tag set, a line of its own.
    const residence: Record<number, string> = { 0: 'Oslo', 40: 'Berlin', 80: 'Lisbon', 5: 'Paris' };
    if (residence[i]) sentences.push(`Evan Hale lives in ${residence[i]}.`);
    return {
      content: sentences.join(' '),
      timestamp: i % 10 === 7 ? null : new Date(base + ((i * 37) % 100) * 3_600_000),
      ...(i % 4 === 0 && { tags: ['team-a'] }),
      ...(i % 4 === 1 && { tags: ['team-a', AWKWARD_TAGS[i % AWKWARD_TAGS.length]], observationScopes: 'per_tag' as const }),
      ...(i % 6 === 0 && { metadata: { n: String(i), quote: 'say "hi"' } }),
      ...(i % 5 === 3 && { context: `call ${i}` }),
      ...(i % 7 === 0 && { documentId: `doc-${i}` }),
      // Every mention of Kyoto carries its type, so no mention without one comes first.
      ...(place === 'Kyoto' && { entities: [{ text: 'Kyoto', type: 'PLACE' }] }),
    };
  });
}

interface MemorySnapshot {
  documentId: string | null;
  text: string;
  context: string | null;
  factType: string;
  occurredStart: string | null;
  occurredEnd: string | null;
  /** `now` when the item had no time (the database's clock, which differs between requests). */
  mentionedAt: string;
  metadata: unknown;
  tags: string[];
  embedding: string;
  observationScopes: unknown;
  attributeKey: string | null;
  /** Index of the successor among the request's memories. */
  supersededBy: number | null;
  entities: string[];
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** What the bank holds, memories in the order of `memoryIds`, with ids replaced by positions. */
async function snapshot(database: MemoryDatabase, bankId: string, memoryIds: string[], startedAt: Date) {
  const rows = await database.query<{
    id: string;
    document_id: string | null;
    text: string;
    context: string | null;
    fact_type: string;
    occurred_start: Date | null;
    occurred_end: Date | null;
    mentioned_at: Date;
    metadata: unknown;
    tags: string[];
    embedding: string;
    observation_scopes: unknown;
    attribute_key: string | null;
    superseded_by: string | null;
    entities: string[];
  }>(
    `SELECT m.id, m.document_id, m.text, m.context, m.fact_type, m.occurred_start, m.occurred_end, m.mentioned_at, m.metadata,
            m.tags, m.embedding::text AS embedding, m.observation_scopes, m.attribute_key, m.superseded_by,
            ARRAY(SELECT e.canonical_name FROM unit_entities ue JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
                   WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY e.canonical_name) AS entities
       FROM memory_units m WHERE m.bank_id = $1`,
    [bankId],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const position = new Map(memoryIds.map((id, index) => [id, index]));
  expect(rows).toHaveLength(memoryIds.length);
  const memories: MemorySnapshot[] = memoryIds.map((id) => {
    const row = byId.get(id)!;
    return {
      documentId: row.document_id,
      text: row.text,
      context: row.context,
      factType: row.fact_type,
      occurredStart: iso(row.occurred_start),
      occurredEnd: iso(row.occurred_end),
      mentionedAt: new Date(row.mentioned_at) >= startedAt ? 'now' : iso(row.mentioned_at)!,
      metadata: row.metadata,
      tags: row.tags,
      embedding: row.embedding,
      observationScopes: row.observation_scopes,
      attributeKey: row.attribute_key,
      supersededBy: row.superseded_by === null ? null : position.get(row.superseded_by)!,
      entities: row.entities,
    };
  });
  const entities = await database.query<{
    name: string;
    canonical_name: string;
    entity_type: string | null;
    mention_count: number;
    links: number;
  }>(
    `SELECT name, canonical_name, entity_type, mention_count,
            (SELECT count(*)::int FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id) AS links
       FROM entities e WHERE bank_id = $1 ORDER BY canonical_name`,
    [bankId],
  );
  const documents = await database.query<{ id: string; original_text: string; content_hash: string; metadata: unknown; tags: string[] }>(
    `SELECT id, original_text, content_hash, metadata, tags FROM documents WHERE bank_id = $1 ORDER BY id`,
    [bankId],
  );
  const [{ links }] = await database.query<{ links: number }>(`SELECT count(*)::int AS links FROM unit_entities WHERE bank_id = $1`, [
    bankId,
  ]);
  return { memories, entities, documents, links };
}

describe.each(['PGlite', 'PostgreSQL'] as const)('a retain of many items on %s', (backend) => {
  let app: INestApplicationContext;
  let retain: RetainService;
  let database: MemoryDatabase;
  let server: { name: string; url: string } | undefined;

  beforeAll(async () => {
    server = backend === 'PostgreSQL' ? await createTestDatabase('retain_batch') : undefined;
    const booted = await bootStartedMemory({
      databaseUrl: server?.url ?? `pglite://memory/retain-batch-${process.pid}`,
      watchdogIntervalMs: 60_000,
    });
    app = booted.app;
    retain = app.get(RetainService);
    database = app.get(MemoryDatabase);
  });

  afterAll(async () => {
    await app?.close();
    if (server) await dropTestDatabase(server.name);
  });

  it('writes the same rows in one request as in one request per item', async () => {
    const items = batchItems();
    const startedAt = new Date();
    const batched = await retain.retain('batched', { items });
    const single: string[] = [];
    for (const item of items) single.push(...(await retain.retain('single', { items: [item] })).memoryIds);

    const expected = await snapshot(database, 'single', single, startedAt);
    const actual = await snapshot(database, 'batched', batched.memoryIds, startedAt);
    expect(actual).toEqual(expected);

    // The ids come back in the order of the facts, and what they name is what the items said.
    const facts = items.flatMap((item) => item.content.match(/[^.]+\./g)!.map((sentence) => sentence.trim()));
    expect(actual.memories.map((memory) => memory.text)).toEqual(facts);
    // One row per entity however many items name it, counted by the memories that link it.
    expect(actual.entities.map((entity) => entity.canonical_name)).toEqual(
      [...PEOPLE, ...PLACES, 'Paris'].map((name) => name.toLowerCase()).sort(),
    );
    for (const entity of actual.entities) {
      expect(entity.mention_count).toBe(actual.memories.filter((memory) => memory.entities.includes(entity.canonical_name)).length);
      expect(entity.mention_count).toBe(entity.links);
    }
    expect(actual.entities.find((entity) => entity.canonical_name === 'kyoto')).toMatchObject({ name: 'Kyoto', entity_type: 'PLACE' });
    expect(actual.links).toBe(actual.memories.reduce((sum, memory) => sum + memory.entities.length, 0));
    // Each link carries its memory's time (what the entity arm orders by), the items without a
    // time included: the batch gives it in its link statement, single requests alike.
    const linkTimes = await database.query<{ links: number; wrong: number }>(
      `SELECT count(*)::int AS links,
              count(*) FILTER (WHERE ue.memory_at IS DISTINCT FROM coalesce(m.occurred_start, m.mentioned_at))::int AS wrong
         FROM unit_entities ue JOIN memory_units m ON m.bank_id = ue.bank_id AND m.id = ue.unit_id
        WHERE ue.bank_id = ANY($1::text[])`,
      [['batched', 'single']],
    );
    expect(linkTimes).toEqual([{ links: actual.links * 2, wrong: 0 }]);
    // Tags that need quoting in an array literal are stored as given.
    expect(new Set(actual.memories.flatMap((memory) => memory.tags))).toEqual(new Set(['team-a', ...AWKWARD_TAGS]));
    // Evan Hale's residence, ordered by when each was said, not by position in the request.
    const line = (city: string) => actual.memories.findIndex((memory) => memory.text === `Evan Hale lives in ${city}.`);
    expect(actual.memories[line('Oslo')].supersededBy).toBe(line('Lisbon'));
    expect(actual.memories[line('Lisbon')].supersededBy).toBe(line('Berlin'));
    expect(actual.memories[line('Berlin')].supersededBy).toBeNull();
    expect(actual.memories[line('Paris')].supersededBy).toBeNull();
  });

  it('replaces several documents in one request: their old memories, orphaned entities and mention counts', async () => {
    const bankId = 'documents';
    await retain.retain(bankId, {
      items: [
        { content: 'Zora Quinn founded Quill Labs. Alice Moreau joined Quill Labs.', documentId: 'b-doc' },
        { content: 'Alice Moreau lives in Oslo.', documentId: 'a-doc', timestamp: new Date('2023-01-01T00:00:00Z') },
        { content: 'Alice Moreau met Bruno Silva.', documentId: 'kept' },
      ],
    });
    const startedAt = new Date();
    const { memoryIds } = await retain.retain(bankId, {
      items: [
        { content: 'Alice Moreau visited Kyoto.', documentId: 'b-doc', tags: ['one'], metadata: { v: '2' } },
        { content: 'Bruno Silva lives in Lisbon.', timestamp: new Date('2024-01-01T00:00:00Z') },
        { content: 'Bruno Silva met Alice Moreau again.', documentId: 'b-doc', tags: ['two', 'one'], metadata: { v: 'ignored' } },
        { content: 'Alice Moreau lives in Berlin.', documentId: 'a-doc', timestamp: new Date('2024-06-01T00:00:00Z') },
        { content: 'Carol Diaz joined.', documentId: 'new-doc' },
      ],
    });
    const { memories, entities, documents, links } = await snapshot(database, bankId, [...(await allIds(bankId, memoryIds))], startedAt);

    // The old versions' memories are gone; the untouched document keeps its own.
    expect(memories.map((memory) => memory.text).sort()).toEqual(
      [
        'Alice Moreau met Bruno Silva.',
        'Alice Moreau visited Kyoto.',
        'Bruno Silva lives in Lisbon.',
        'Bruno Silva met Alice Moreau again.',
        'Alice Moreau lives in Berlin.',
        'Carol Diaz joined.',
      ].sort(),
    );
    // Zora Quinn and Quill Labs were only named by the replaced version: reclaimed. The others are recounted.
    expect(entities.map((entity) => [entity.canonical_name, entity.mention_count])).toEqual([
      ['alice moreau', 4],
      ['berlin', 1],
      ['bruno silva', 3],
      ['carol diaz', 1],
      ['kyoto', 1],
      ['lisbon', 1],
    ]);
    expect(links).toBe(11);
    // Two items of one document make one version: texts joined, the first item's metadata, every tag.
    expect(documents.map((document) => [document.id, document.original_text, document.metadata, [...document.tags].sort()])).toEqual([
      ['a-doc', 'Alice Moreau lives in Berlin.', {}, []],
      ['b-doc', 'Alice Moreau visited Kyoto.\n\nBruno Silva met Alice Moreau again.', { v: '2' }, ['one', 'two']],
      ['kept', 'Alice Moreau met Bruno Silva.', {}, []],
      ['new-doc', 'Carol Diaz joined.', {}, []],
    ]);
    // The replaced Oslo fact is deleted, not superseded: Berlin is current.
    expect(memories.find((memory) => memory.text === 'Alice Moreau lives in Berlin.')!.supersededBy).toBeNull();
  });

  /** The request's ids first, in order, then the rest of the bank's. */
  async function allIds(bankId: string, first: string[]): Promise<string[]> {
    const rows = await database.query<{ id: string }>(`SELECT id FROM memory_units WHERE bank_id = $1 ORDER BY text`, [bankId]);
    return [...first, ...rows.map((row) => row.id).filter((id) => !first.includes(id))];
  }

  it('writes a request larger than one statement takes, entities and links included', async () => {
    // Two fresh names per item: more facts, entities and links than one statement of each carries.
    const items = Array.from({ length: 520 }, (_, i) => ({
      content: `Walker${i} met Rider${i} in Lisbon.`,
      timestamp: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
    }));
    const { memoryIds } = await retain.retain('large', { items });
    expect(memoryIds).toHaveLength(520);
    expect(new Set(memoryIds).size).toBe(520);
    const rows = await database.query<{ id: string; text: string; entities: string[] }>(
      `SELECT m.id, m.text, ARRAY(SELECT e.name FROM unit_entities ue JOIN entities e ON e.bank_id = ue.bank_id AND e.id = ue.entity_id
                                   WHERE ue.bank_id = m.bank_id AND ue.unit_id = m.id ORDER BY e.name) AS entities
         FROM memory_units m WHERE m.bank_id = 'large'`,
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    memoryIds.forEach((id, i) => {
      expect(byId.get(id)).toMatchObject({ text: items[i].content, entities: ['Lisbon', `Rider${i}`, `Walker${i}`] });
    });
    const [counts] = await database.query<{ entities: number; lisbon: number; links: number }>(
      `SELECT (SELECT count(*)::int FROM entities WHERE bank_id = 'large') AS entities,
              (SELECT mention_count FROM entities WHERE bank_id = 'large' AND canonical_name = 'lisbon') AS lisbon,
              (SELECT count(*)::int FROM unit_entities WHERE bank_id = 'large') AS links`,
    );
    expect(counts).toEqual({ entities: 1041, lisbon: 520, links: 1560 });
  });

  it('counts the mentions of an entity that concurrent retains name, each once', async () => {
    // Each retain adds its links to the counts; concurrent ones must not overwrite each other's.
    await Promise.all(
      Array.from({ length: 8 }, (_, day) =>
        retain.retain('concurrent', { items: [{ content: `Quentin met Rosa in Oslo on day ${day}. Quentin paid for lunch.` }] }),
      ),
    );
    const entities = await database.query<{ canonical_name: string; mention_count: number; links: number }>(
      `SELECT e.canonical_name, e.mention_count, (SELECT count(*)::int FROM unit_entities ue WHERE ue.bank_id = e.bank_id AND ue.entity_id = e.id) AS links
         FROM entities e WHERE e.bank_id = 'concurrent' ORDER BY e.canonical_name`,
    );
    expect(entities.find((entity) => entity.canonical_name === 'quentin')?.links).toBe(16);
    expect(entities.map(({ canonical_name, mention_count }) => [canonical_name, mention_count])).toEqual(
      entities.map(({ canonical_name, links }) => [canonical_name, links]),
    );
  });
});
