import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HindsightClient, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import type { DataSource } from 'typeorm';
import { FileParser } from '../../src/files/file-parser.js';
import { DataSourceRegistry, DEFAULT_DATA_SOURCE_SETTINGS } from '../../src/storage/data-source-registry.js';
import { runMemoryMigrations } from '../../src/storage/migration-runner.js';
import { MEMORY_MIGRATIONS } from '../../src/storage/migrations/index.js';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { call, startHttpApp, type HttpApp } from './http-app.js';

type Client = ReturnType<typeof createClient>;

const PARAGRAPHS = [
  'Alice joined Acme in Lisbon as a data engineer. She builds the ingestion pipelines.',
  'Bob moved to Oslo last spring. He plays the cello in a quartet on Sundays.',
  'Carol runs the design studio in Porto. She sketches every morning before work.',
  'Dmitri repairs sailing boats in Gdansk. He restored a wooden ketch over the winter.',
];
const TEXT = PARAGRAPHS.join('\n\n');
const FILE_LIMIT = 64 * 1024;
const FIXTURES = new URL('../fixtures/files/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));

/**
 * Documents stored as chunks, their update and reprocessing, and what recall attaches about
 * where its results came from (chunks, source facts), through Hindsight's own client (0.9.1,
 * unmodified) on both back ends; bad input is refused naming the field, with nothing changed.
 */
describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('documents and chunks (%s)', (_name, backend) => {
  let app: HttpApp;
  let client: HindsightClient;
  let raw: Client;
  let database: { name: string; url: string } | undefined;
  const bank = 'library';

  beforeAll(async () => {
    if (backend === 'postgres') database = await createTestDatabase('parity_documents');
    app = await startHttpApp({
      DATABASE_URL: database?.url ?? `pglite://memory/parity-documents-${process.pid}-${Date.now()}`,
      MEMORY_OPERATIONS_POLL_MS: '50',
      // Small, so the file-retain tests send a file over it cheaply.
      MEMORY_MAX_FILE_BYTES: String(FILE_LIMIT),
    });
    client = new HindsightClient({ baseUrl: app.url });
    raw = createClient(createConfig({ baseUrl: app.url }));
    await client.createBank(bank);
    // Small chunks, so one short document makes several.
    await client.updateBankConfig(bank, { retainChunkSize: 100 });
    await client.retain(bank, TEXT, { documentId: 'team/notes', tags: ['team'], context: 'team notes', metadata: { source: 'wiki' } });
    await client.retain(bank, 'Erin speaks Basque.');
  });

  afterAll(async () => {
    await app?.close();
    if (database) await dropTestDatabase(database.name);
  });

  async function chunksOf(documentId: string, query?: { limit?: number; offset?: number }) {
    const response = await sdk.listDocumentChunks({ client: raw, path: { bank_id: bank, document_id: documentId }, query });
    expect(response.response.status).toBe(200);
    return response.data!;
  }

  async function waitForOperation(operationId: string) {
    const done = await eventually(
      () => sdk.getOperationStatus({ client: raw, path: { bank_id: bank, operation_id: operationId } }),
      (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
      20_000,
    );
    expect(done.data?.status).toBe('completed');
  }

  it('stores a document as chunks of the bank’s retain_chunk_size, listed in order and read one by one', async () => {
    const listed = await chunksOf('team/notes');
    expect(listed.total).toBe(PARAGRAPHS.length);
    expect(listed).toMatchObject({ limit: 100, offset: 0 });
    expect(listed.items.map((chunk) => chunk.chunk_text)).toEqual(PARAGRAPHS);
    expect(listed.items.map((chunk) => chunk.chunk_index)).toEqual([0, 1, 2, 3]);
    for (const chunk of listed.items) {
      expect(chunk).toMatchObject({ bank_id: bank, document_id: 'team/notes', chunk_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(new Date(chunk.created_at).getTime()).not.toBeNaN();
    }

    const page = await chunksOf('team/notes', { limit: 2, offset: 1 });
    expect(page).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect(page.items.map((chunk) => chunk.chunk_index)).toEqual([1, 2]);

    const one = await sdk.getChunk({ client: raw, path: { chunk_id: listed.items[2].chunk_id } });
    expect(one.data).toEqual(listed.items[2]);

    const byId = new Map(listed.items.map((chunk) => [chunk.chunk_id, chunk.chunk_text]));
    const memories = await client.listMemories(bank, { documentId: 'team/notes' });
    expect(memories.items.length).toBeGreaterThanOrEqual(PARAGRAPHS.length);
    for (const memory of memories.items) expect(byId.get(String(memory.chunk_id))).toContain(memory.text);

    // The document keeps its full text.
    expect((await client.getDocument(bank, 'team/notes'))?.original_text).toBe(TEXT);
  });

  it('recall gives each fact the chunk it came from, and include.chunks the chunks themselves within max_tokens', async () => {
    const recalled = await client.recall(bank, 'Where does Bob play the cello?', { includeChunks: true });
    const cello = recalled.results.find((result) => result.text.includes('cello'))!;
    const chunks = (await chunksOf('team/notes')).items;
    expect(cello.chunk_id).toBe(chunks[1].chunk_id);
    expect(recalled.chunks?.[cello.chunk_id!]).toEqual({ id: cello.chunk_id, text: PARAGRAPHS[1], chunk_index: 1, truncated: false });
    for (const result of recalled.results) {
      if (result.document_id === 'team/notes') expect(recalled.chunks?.[result.chunk_id!]?.text).toContain(result.text);
      else expect(result.chunk_id).toBeUndefined();
    }

    // A budget smaller than the first chunk cuts it and stops there.
    const cut = await client.recall(bank, 'Where does Bob play the cello?', { includeChunks: true, maxChunkTokens: 5 });
    const kept = Object.values(cut.chunks ?? {});
    expect(kept).toHaveLength(1);
    expect(kept[0].truncated).toBe(true);
    expect(PARAGRAPHS.some((paragraph) => paragraph.startsWith(kept[0].text) && paragraph !== kept[0].text)).toBe(true);

    const without = await client.recall(bank, 'Where does Bob play the cello?');
    expect(without.chunks).toBeUndefined();
    expect(without.results.find((result) => result.text.includes('cello'))?.chunk_id).toBe(chunks[1].chunk_id);
  });

  it('include.source_facts gives the memories the observations were built from, within both budgets and the tag filter', async () => {
    await client.retainBatch('observed', [
      { content: "Julia's locker code is 7731.", tags: ['user:julia'] },
      { content: "Julia's locker code is 7731, she said again.", tags: ['user:julia'] },
      { content: "Ivan's locker code is 4419.", tags: ['user:ivan'] },
      { content: "Ivan's locker code is 4419, he said again.", tags: ['user:ivan'] },
    ]);
    const queued = await sdk.triggerConsolidation({ client: raw, path: { bank_id: 'observed' } });
    const done = await eventually(
      () => sdk.getOperationStatus({ client: raw, path: { bank_id: 'observed', operation_id: queued.data!.operation_id } }),
      (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
      20_000,
    );
    expect(done.data?.status).toBe('completed');

    const ivan = await client.recall('observed', 'locker code', {
      types: ['observation'],
      tags: ['user:ivan'],
      tagsMatch: 'all_strict',
      includeSourceFacts: true,
    });
    expect(ivan.results).toHaveLength(1);
    const sources = ivan.results[0].source_fact_ids!;
    expect(sources).toHaveLength(2);
    expect(Object.keys(ivan.source_facts ?? {}).sort()).toEqual([...sources].sort());
    for (const id of sources) {
      expect(ivan.source_facts![id]).toMatchObject({ id, type: 'world', tags: ['user:ivan'], text: expect.stringContaining('4419') });
    }
    expect(ivan.source_facts_truncated).toBe(false);
    expect(JSON.stringify(ivan)).not.toContain('7731');

    const perObservation = await call(app.url, 'POST', `/v1/default/banks/observed/memories/recall`, {
      query: 'locker code',
      types: ['observation'],
      tags: ['user:ivan'],
      tags_match: 'all_strict',
      include: { source_facts: { max_tokens_per_observation: 1 } },
    });
    expect(perObservation.status).toBe(200);
    expect(perObservation.body).toMatchObject({ source_facts: {}, source_facts_truncated: true });

    const total = await client.recall('observed', 'locker code', {
      types: ['observation'],
      includeSourceFacts: true,
      maxSourceFactsTokens: 0,
    });
    expect(total.results.length).toBeGreaterThan(0);
    expect(total).toMatchObject({ source_facts: {}, source_facts_truncated: true });
    expect((await client.recall('observed', 'locker code', { types: ['observation'] })).source_facts).toBeUndefined();
  });

  it('update_document changes the tags of the document and its memories', async () => {
    await client.retain(bank, 'Farid teaches chess at the library.', { documentId: 'retag', tags: ['old'] });
    expect(await client.updateDocument(bank, 'retag', { tags: ['new'] })).toEqual({ success: true });
    expect((await client.getDocument(bank, 'retag'))?.tags).toEqual(['new']);
    const memories = await client.listMemories(bank, { documentId: 'retag' });
    expect(memories.items.map((item) => item.tags)).toEqual([['new']]);
  });

  it('reprocess_document re-extracts the stored text as an operation, with the current chunk size and the document’s tags', async () => {
    await client.retain(bank, TEXT, { documentId: 'again', tags: ['keep'], context: 'from the wiki' });
    const before = (await chunksOf('again')).items;
    expect(before).toHaveLength(4);
    await client.updateBankConfig(bank, { retainChunkSize: 3000 });

    const queued = await sdk.reprocessDocument({ client: raw, path: { bank_id: bank, document_id: 'again' } });
    expect(queued.response.status).toBe(200);
    expect(queued.data).toEqual({ success: true, operation_id: expect.stringMatching(/^[0-9a-f-]{36}$/), items_count: 1 });
    await waitForOperation(queued.data!.operation_id);

    const after = (await chunksOf('again')).items;
    expect(after.map((chunk) => chunk.chunk_text)).toEqual([TEXT]);
    expect(after[0].chunk_id).not.toBe(before[0].chunk_id);
    const gone = await sdk.getChunk({ client: raw, path: { chunk_id: before[0].chunk_id } });
    expect(gone.response.status).toBe(404);

    const document = await client.getDocument(bank, 'again');
    expect(document).toMatchObject({ original_text: TEXT, tags: ['keep'] });
    const recalled = await client.recall(bank, 'Who restored a wooden ketch?', { tags: ['keep'], tagsMatch: 'all_strict' });
    const ketch = recalled.results.find((result) => result.text.includes('ketch'))!;
    expect(ketch).toMatchObject({ document_id: 'again', context: 'from the wiki', tags: ['keep'], chunk_id: after[0].chunk_id });
    await client.updateBankConfig(bank, { retainChunkSize: 100 });
  });

  it('documents the routes with typed schemas', async () => {
    const { body } = await call(app.url, 'GET', '/docs-json');
    const ok = (path: string, method: string) => body.paths[path]?.[method]?.responses?.['200']?.content?.['application/json']?.schema;
    expect(ok('/v1/default/chunks/{chunk_id}', 'get')).toEqual({ $ref: '#/components/schemas/ChunkResponse' });
    expect(ok('/v1/default/banks/{bank_id}/documents/{document_id}/chunks', 'get')).toEqual({
      $ref: '#/components/schemas/ListChunksResponse',
    });
    expect(ok('/v1/default/banks/{bank_id}/documents/{document_id}/reprocess', 'post')).toEqual({
      $ref: '#/components/schemas/ReprocessDocumentResponse',
    });
    expect(ok('/v1/default/banks/{bank_id}/documents/{document_id}', 'patch')).toEqual({
      $ref: '#/components/schemas/UpdateDocumentResponse',
    });
    expect(body.components.schemas.ChunkResponse.properties.chunk_index.type).toBe('integer');
    expect(body.components.schemas.ListChunksResponse.properties.total.type).toBe('integer');
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    const chunksBefore = await chunksOf('team/notes');
    const path = (suffix: string) => `/v1/default/banks/${bank}/documents/team%2Fnotes${suffix}`;

    for (const query of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=many']) {
      const response = await call(app.url, 'GET', path(`/chunks${query}`));
      expect(response.status).toBe(422);
      expect(JSON.stringify(response.body.detail)).toMatch(/limit|offset/);
    }
    expect((await call(app.url, 'GET', `/v1/default/banks/${bank}/documents/missing/chunks`)).status).toBe(404);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'library_team_0']) {
      const response = await sdk.getChunk({ client: raw, path: { chunk_id: id } });
      expect(response.response.status).toBe(404);
      expect(response.error).toEqual({ detail: `Chunk '${id}' not found` });
    }

    const noFields = await call(app.url, 'PATCH', path(''), {});
    expect(noFields.status).toBe(400);
    expect(noFields.body.detail).toMatch(/tags/);
    const metadata = await call(app.url, 'PATCH', path(''), { tags: ['x'], metadata: { a: 'b' } });
    expect(metadata.status).toBe(400);
    expect(metadata.body.detail).toMatch(/metadata/);
    const badTags = await call(app.url, 'PATCH', path(''), { tags: [1] });
    expect(badTags.status).toBe(422);
    expect(JSON.stringify(badTags.body.detail)).toContain('tags');
    expect((await call(app.url, 'PATCH', `/v1/default/banks/${bank}/documents/missing`, { tags: ['x'] })).status).toBe(404);

    expect((await call(app.url, 'POST', `/v1/default/banks/${bank}/documents/missing/reprocess`)).status).toBe(404);

    for (const include of [
      { chunks: { max_tokens: -1 } },
      { source_facts: { max_tokens: -2 } },
      { chunks: 'yes' },
      { chunks: [] },
      { source_facts: [1] },
    ]) {
      const response = await call(app.url, 'POST', `/v1/default/banks/${bank}/memories/recall`, { query: 'cello', include });
      expect(response.status).toBe(422);
      expect(JSON.stringify(response.body.detail)).toMatch(/chunks|source_facts|max_tokens/);
    }

    expect((await client.getDocument(bank, 'team/notes'))?.tags).toEqual(['team']);
    expect(await chunksOf('team/notes')).toEqual(chunksBefore);
  });

  const texts = (page: { items: Array<Record<string, unknown>> }) => page.items.map((item) => String(item.text)).sort();

  describe('list filters', () => {
    const listing = 'listing';
    async function memories(query: Record<string, unknown>) {
      const response = await sdk.listMemories({ client: raw, path: { bank_id: listing }, query });
      expect(response.response.status).toBe(200);
      return response.data!;
    }
    async function documents(query: Record<string, unknown>) {
      const response = await sdk.listDocuments({ client: raw, path: { bank_id: listing }, query });
      expect(response.response.status).toBe(200);
      return response.data!.items.map((item) => item.id).sort();
    }

    beforeAll(async () => {
      await client.retainBatch(listing, [
        { content: 'Quentin keeps bees on the roof.', tags: ['user:a'], document_id: 'bees' },
        { content: 'Rosa restores old radios.', tags: ['user:b'], document_id: 'radios' },
        { content: 'Quentin bakes rye bread on Fridays.', tags: ['user:a', 'team'], document_id: 'bread' },
        { content: 'The office closes at six.', document_id: 'office' },
      ]);
    });

    it('list_memories filters by tags as recall matches them, and by the entity a memory is linked to', async () => {
      expect(texts(await memories({ tags: ['user:a'], tags_match: 'any_strict' }))).toEqual([
        'Quentin bakes rye bread on Fridays.',
        'Quentin keeps bees on the roof.',
      ]);
      // `any` (the default) also lets untagged memories through; `exact` is the tag set itself.
      expect(texts(await memories({ tags: ['user:b'] }))).toEqual(['Rosa restores old radios.', 'The office closes at six.']);
      expect(texts(await memories({ tags: ['team', 'user:a'], tags_match: 'exact' }))).toEqual(['Quentin bakes rye bread on Fridays.']);
      expect(texts(await memories({ tags_match: 'exact' }))).toEqual(['The office closes at six.']);
      const twoTags = await memories({ tags: ['user:a', 'team'], tags_match: 'all_strict', limit: 1 });
      expect(twoTags.total).toBe(1);

      const entities = (await sdk.listEntities({ client: raw, path: { bank_id: listing } })).data!.items;
      const quentin = entities.find((entity) => entity.canonical_name.toLowerCase() === 'quentin')!;
      expect(texts(await client.listMemories(listing, { entityId: quentin.id }))).toEqual([
        'Quentin bakes rye bread on Fridays.',
        'Quentin keeps bees on the roof.',
      ]);
      expect(texts(await memories({ entity_id: quentin.id, tags: ['team'], tags_match: 'all_strict' }))).toEqual([
        'Quentin bakes rye bread on Fridays.',
      ]);
      expect((await memories({ entity_id: randomUUID() })).total).toBe(0);
    });

    it('list_memories filters raw memories by consolidation state: pending until consolidated, then done', async () => {
      // Said twice, so that consolidation without an LLM builds an observation of it.
      await client.retain(listing, 'Quentin keeps bees on the roof, he said again.', { tags: ['user:a'] });
      expect((await client.listMemories(listing, { consolidationState: 'pending' })).total).toBe(5);
      expect((await memories({ consolidation_state: 'done' })).total).toBe(0);

      const queued = await sdk.triggerConsolidation({ client: raw, path: { bank_id: listing } });
      const done = await eventually(
        () => sdk.getOperationStatus({ client: raw, path: { bank_id: listing, operation_id: queued.data!.operation_id } }),
        (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
        20_000,
      );
      expect(done.data?.status).toBe('completed');

      const consolidated = await memories({ consolidation_state: 'DONE' });
      expect(consolidated.total).toBe(5);
      expect(consolidated.items.every((item) => item.fact_type !== 'observation')).toBe(true);
      expect((await memories({ consolidation_state: 'pending' })).total).toBe(0);
      expect((await memories({ consolidation_state: 'failed' })).total).toBe(0);
      // Observations are not consolidated themselves: no state selects them.
      expect((await memories({ type: 'observation' })).total).toBeGreaterThan(0);
      expect((await memories({ type: 'observation', consolidation_state: 'done' })).total).toBe(0);
    });

    it('list_documents filters by tags, strictly by default as Hindsight does', async () => {
      expect(await documents({ tags: ['user:a'] })).toEqual(['bees', 'bread']);
      expect(await documents({ tags: ['user:a'], tags_match: 'any' })).toEqual(['bees', 'bread', 'office']);
      expect(await documents({ tags: ['user:a', 'team'], tags_match: 'all_strict' })).toEqual(['bread']);
      expect(await documents({ tags_match: 'exact' })).toEqual(['office']);
      expect(await documents({ tags: ['user:b'], q: 'rad' })).toEqual(['radios']);
      expect(await documents({})).toEqual(['bees', 'bread', 'office', 'radios']);
    });

    it('refuses an unknown consolidation state, a malformed entity id or tag match with 422 naming the field', async () => {
      const before = await memories({});
      for (const [route, query, field] of [
        ['memories/list', 'consolidation_state=bogus', 'consolidation_state'],
        ['memories/list', `entity_id=not-a-uuid`, 'entity_id'],
        ['memories/list', 'tags=a&tags_match=some', 'tags_match'],
        ['documents', 'tags=a&tags_match=some', 'tags_match'],
      ]) {
        const response = await call(app.url, 'GET', `/v1/default/banks/${listing}/${route}?${query}`);
        expect({ query, status: response.status }).toEqual({ query, status: 422 });
        expect(response.body.detail).toEqual([expect.objectContaining({ loc: ['query', field] })]);
      }
      expect(await memories({})).toEqual(before);
    });

    it('answers an empty page, not 404, for the lists of a bank that does not exist, and does not create it', async () => {
      const ghost = { client: raw, path: { bank_id: 'ghost-listing' } };
      const answers = {
        memories: await sdk.listMemories(ghost),
        documents: await sdk.listDocuments(ghost),
        entities: await sdk.listEntities(ghost),
        tags: await sdk.listTags(ghost),
        mentalModels: await sdk.listMentalModels(ghost),
        directives: await sdk.listDirectives(ghost),
        operations: await sdk.listOperations(ghost),
        scopes: await sdk.listObservationScopes(ghost),
        webhooks: await sdk.listWebhooks(ghost),
      };
      for (const [name, answer] of Object.entries(answers)) {
        expect({ name, status: answer.response.status }).toEqual({ name, status: 200 });
      }
      expect(answers.memories.data).toMatchObject({ items: [], total: 0, limit: 100, offset: 0 });
      expect(answers.documents.data).toMatchObject({ items: [], total: 0 });
      expect(answers.entities.data).toMatchObject({ items: [], total: 0 });
      expect(answers.tags.data).toMatchObject({ items: [], total: 0 });
      expect(answers.mentalModels.data).toMatchObject({ items: [] });
      expect(answers.directives.data).toMatchObject({ items: [] });
      expect(answers.operations.data).toMatchObject({ operations: [], total: 0 });
      expect(answers.scopes.data).toEqual({ scopes: [] });
      expect(answers.webhooks.data).toMatchObject({ items: [] });
      // A single thing of the bank is still not found.
      expect((await sdk.getBankProfile(ghost)).response.status).toBe(404);
      expect((await sdk.listBanks({ client: raw })).data!.banks.map((known) => known.bank_id)).not.toContain('ghost-listing');
    });
  });

  describe("retain update_mode 'append'", () => {
    const diary = 'diary-bank';
    const memoriesOf = async (documentId: string) => (await client.listMemories(diary, { documentId })).items;

    it('adds the content after the stored text and retains the document whole, the old part keeping its context and time', async () => {
      await client.retain(diary, 'Ulla hikes in the Alps.', {
        documentId: 'trips',
        context: 'hiking log',
        timestamp: new Date('2024-01-01T00:00:00Z'),
        tags: ['old'],
      });
      const appended = await client.retain(diary, 'Viktor sails to Crete.', { documentId: 'trips', updateMode: 'append', tags: ['trips'] });
      expect(appended.success).toBe(true);

      const document = await client.getDocument(diary, 'trips');
      expect(document).toMatchObject({ original_text: 'Ulla hikes in the Alps.\n\nViktor sails to Crete.', tags: ['trips'] });
      const memories = await memoriesOf('trips');
      expect(texts({ items: memories })).toEqual(['Ulla hikes in the Alps.', 'Viktor sails to Crete.']);
      const ulla = memories.find((memory) => String(memory.text).startsWith('Ulla'))!;
      expect(ulla).toMatchObject({ context: 'hiking log', tags: ['trips'] });
      expect(new Date(String(ulla.mentioned_at)).toISOString()).toBe('2024-01-01T00:00:00.000Z');
      const chunks = await sdk.listDocumentChunks({ client: raw, path: { bank_id: diary, document_id: 'trips' } });
      expect(chunks.data!.items.map((chunk) => chunk.chunk_text)).toEqual(['Ulla hikes in the Alps.', 'Viktor sails to Crete.']);

      // Queued, it appends just the same; to a document not stored yet, it is a plain retain.
      const queued = await client.retain(diary, 'Wanda rows on the Douro.', { documentId: 'trips', updateMode: 'append', async: true });
      const done = await eventually(
        () => sdk.getOperationStatus({ client: raw, path: { bank_id: diary, operation_id: queued.operation_id! } }),
        (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
        20_000,
      );
      expect(done.data?.status).toBe('completed');
      expect((await client.getDocument(diary, 'trips'))?.original_text).toBe(
        'Ulla hikes in the Alps.\n\nViktor sails to Crete.\n\nWanda rows on the Douro.',
      );
      await client.retain(diary, 'Xena paints lighthouses.', { documentId: 'fresh', updateMode: 'append' });
      expect((await client.getDocument(diary, 'fresh'))?.original_text).toBe('Xena paints lighthouses.');
    });

    it('keeps every one of several appends sent to one document at the same time', async () => {
      const turns = ['Yusuf visited Kyoto.', 'Yusuf visited Lima.', 'Yusuf visited Nairobi.', 'Yusuf visited Perth.'];
      const answers = await Promise.all(turns.map((turn) => client.retain(diary, turn, { documentId: 'journey', updateMode: 'append' })));
      expect(answers.every((answer) => answer.success)).toBe(true);

      const text = (await client.getDocument(diary, 'journey'))!.original_text!;
      expect(text.split('\n\n').sort()).toEqual([...turns].sort());
      expect(texts({ items: await memoriesOf('journey') })).toEqual([...turns].sort());
    });

    it('refuses an append without a document_id or an unknown mode, naming the field, and stores nothing', async () => {
      const before = await client.listMemories(diary);
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ content: 'Zoe juggles.', update_mode: 'append' }, 'update_mode'],
        [{ content: 'Zoe juggles.', document_id: 'trips', update_mode: 'merge' }, 'update_mode'],
      ];
      for (const [item, field] of cases) {
        const response = await call(app.url, 'POST', `/v1/default/banks/${diary}/memories`, { items: [item] });
        expect(response.status).toBe(422);
        expect(response.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'items', 0, field] })]);
      }
      expect(await client.listMemories(diary)).toEqual(before);
      expect((await client.getDocument(diary, 'trips'))?.original_text).not.toContain('Zoe');
    });
  });

  describe('file retain', () => {
    const shelf = 'file-shelf';
    const file = (bytes: Uint8Array | string, name: string) => new File([bytes], name);
    // Latin-1 for all but the few characters Windows-1252 puts in 0x80-0x9f.
    const windows1252 = (text: string) =>
      Buffer.from([...text].map((char) => ({ '–': 0x96, '“': 0x93, '”': 0x94 })[char] ?? char.charCodeAt(0)));
    const utf16 = (text: string, order: 'le' | 'be') => {
      const bytes = Buffer.from(text, 'utf16le');
      return order === 'le' ? bytes : bytes.swap16();
    };
    const documentIds = async () => (await client.listDocuments(shelf)).items.map((item) => String(item.id)).sort();

    async function refusedWith(files: File[], status: number) {
      const error = await client.retainFiles(shelf, files).then(
        () => undefined,
        (thrown: unknown) => thrown as { statusCode?: number; details?: unknown },
      );
      expect(error?.statusCode).toBe(status);
      return String(error?.details);
    }

    it('retains text (UTF-8 or UTF-16), Markdown, HTML, PDF and DOCX as one document each, by their content whatever their name', async () => {
      const sent: Array<[File, string]> = [
        [file('Ines grows saffron in La Mancha.', 'notes.txt'), 'Ines grows saffron in La Mancha.'],
        [file('# Garden\n\nJonas keeps bonsai trees on his balcony.', 'garden.md'), 'Jonas keeps bonsai trees on his balcony.'],
        [
          file(
            '<!DOCTYPE html><html><body><h1>Club</h1><p>Kasia leads the <a href="/c">chess club</a> in Gdynia.</p></body></html>',
            'club.html',
          ),
          'Kasia leads the chess club in Gdynia.',
        ],
        [file(fixture('sample.pdf'), 'lighthouse.pdf'), 'Priya keeps the lighthouse logbook in Tromso.'],
        [file(fixture('sample.docx'), 'radios.docx'), 'Tomasz restores vintage radios in Krakow.'],
        // Named .pdf, but plain text: the bytes decide.
        [file('Lars mends fishing nets in Bergen.', 'disguised.pdf'), 'Lars mends fishing nets in Bergen.'],
        // Words the type sniffer knows as signatures: a bitmap's, a Windows program's.
        [file('BMW opened a plant in Debrecen.', 'cars.txt'), 'BMW opened a plant in Debrecen.'],
        [file('MZ Motors hired Rosa as a welder.', 'hiring.txt'), 'MZ Motors hired Rosa as a welder.'],
        // Notepad's "Unicode" and Windows PowerShell write UTF-16 with a byte-order mark.
        [file(utf16('\uFEFFOla carves spoons in Tromsø.', 'le'), 'notepad.txt'), 'Ola carves spoons in Tromsø.'],
        [file(utf16('\uFEFFPia brews cider in Hereford.', 'be'), 'utf16be.txt'), 'Pia brews cider in Hereford.'],
      ];
      const answer = await client.retainFiles(
        shelf,
        sent.map(([sentFile]) => sentFile),
        { filesMetadata: sent.map((_, index) => (index === 0 ? { document_id: 'saffron', tags: ['farm'], context: 'field notes' } : {})) },
      );
      expect(answer.operation_ids).toHaveLength(sent.length);
      for (const operationId of answer.operation_ids) {
        const done = await eventually(
          () => sdk.getOperationStatus({ client: raw, path: { bank_id: shelf, operation_id: operationId } }),
          (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
          20_000,
        );
        expect(done.data?.status).toBe('completed');
      }

      const ids = await documentIds();
      expect(ids).toHaveLength(sent.length);
      expect(ids).toContain('saffron');
      // The others are named as Hindsight names an uploaded file's document.
      expect(ids.filter((id) => id !== 'saffron')).toEqual(Array(sent.length - 1).fill(expect.stringMatching(/^file_[0-9a-f-]{36}$/)));
      const texts = await Promise.all(ids.map(async (id) => String((await client.getDocument(shelf, id))?.original_text)));
      const recalled = await Promise.all(sent.map(([, sentence]) => client.recall(shelf, sentence)));
      sent.forEach(([, sentence], index) => {
        expect(texts.filter((text) => text.includes(sentence))).toHaveLength(1);
        expect(recalled[index].results.map((result) => result.text)).toEqual(expect.arrayContaining([expect.stringContaining(sentence)]));
      });
      expect(await client.getDocument(shelf, 'saffron')).toMatchObject({ tags: ['farm'] });
      expect((await client.getVersion()).features?.file_upload_api).toBe(true);
      const [saffron] = (await client.listMemories(shelf, { documentId: 'saffron' })).items;
      expect(saffron).toMatchObject({ context: 'field notes', tags: ['farm'] });
    });

    it('reads a text file in the Windows-1252 encoding older editors wrote', async () => {
      const sentence = 'Zoë bakes crêpes in Besançon – “every” Sunday.';
      const answer = await client.retainFiles(shelf, [file(new Uint8Array(windows1252(sentence)), 'legacy.txt')], {
        filesMetadata: [{ document_id: 'legacy' }],
      });
      const [operationId] = answer.operation_ids;
      const done = await eventually(
        () => sdk.getOperationStatus({ client: raw, path: { bank_id: shelf, operation_id: operationId } }),
        (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
        20_000,
      );
      expect(done.data?.status).toBe('completed');
      expect((await client.getDocument(shelf, 'legacy'))?.original_text).toBe(sentence);
    });

    it('refuses an encrypted PDF, a corrupt DOCX, an unknown binary or a file over the limit, naming it, and stores nothing of the upload', async () => {
      const before = await documentIds();
      const corrupt = Buffer.from(fixture('sample.docx'));
      corrupt.fill(0x41, 600, 3000);
      const binary = Buffer.concat([Buffer.from([0, 1, 2, 0xfe]), randomBytes(512)]);
      const fine = file('Mira walks her dog along the Vistula.', 'fine.txt');

      // At once: uploads are converted side by side, each in its own worker.
      const [encrypted, broken, unknown, huge] = await Promise.all([
        refusedWith([fine, file(fixture('encrypted.pdf'), 'secret.pdf')], 422),
        refusedWith([fine, file(corrupt, 'broken.docx')], 422),
        refusedWith([fine, file(binary, 'blob.bin')], 415),
        refusedWith([fine, file('x'.repeat(FILE_LIMIT + 1), 'huge.txt')], 413),
      ]);
      expect(encrypted).toMatch(/'secret\.pdf'.*encrypted/);
      expect(broken).toMatch(/'broken\.docx'.*not a readable DOCX/);
      expect(unknown).toMatch(/'blob\.bin'.*binary/);
      expect(huge).toMatch(/'huge\.txt'.*MEMORY_MAX_FILE_BYTES/);

      expect(await documentIds()).toEqual(before);
      expect((await client.recall(shelf, 'Mira walks her dog')).results.map((result) => result.text)).not.toContain(
        'Mira walks her dog along the Vistula.',
      );
      // Each upload's worker thread ended with it, the refused ones too.
      const parser = app.app.get(FileParser);
      await eventually(
        () => parser.liveWorkers,
        (live) => live === 0,
      );
    });

    it('refuses a request field Hindsight refuses, naming it, before reading any file', async () => {
      const before = await documentIds();
      const one = [file('Nadia tunes pianos.', 'nadia.txt')];
      const form = (request: string, files = one) => {
        const body = new FormData();
        for (const sent of files) body.append('files', sent);
        body.append('request', request);
        return body;
      };
      const post = async (body: FormData | string, headers: Record<string, string> = {}) => {
        const response = await fetch(`${app.url}/v1/default/banks/${shelf}/files/retain`, { method: 'POST', body, headers });
        return { status: response.status, detail: ((await response.json()) as { detail: unknown }).detail };
      };

      expect(await post(form('{not json'))).toMatchObject({ status: 400, detail: expect.stringContaining('Invalid request JSON') });
      expect(await post(form(JSON.stringify({ tags: ['a'] })))).toMatchObject({
        status: 400,
        detail: expect.stringContaining("Per-file fields (tags) must be placed in the corresponding 'files_metadata' entry"),
      });
      expect(await post(form(JSON.stringify({ files_metadata: [{}, {}] })))).toMatchObject({
        status: 400,
        detail: 'files_metadata count (2) must match files count (1)',
      });
      expect(await post(form(JSON.stringify({ parser: 'iris' })))).toMatchObject({ status: 400, detail: expect.stringContaining('iris') });
      const badTags = await post(form(JSON.stringify({ files_metadata: [{ tags: [1] }] })));
      expect(badTags.status).toBe(422);
      expect(JSON.stringify(badTags.detail)).toContain('tags');
      expect(await post(form('{}', []))).toMatchObject({ status: 422, detail: [expect.objectContaining({ loc: ['body', 'files'] })] });
      expect(await post(JSON.stringify({ request: '{}' }), { 'content-type': 'application/json' })).toMatchObject({
        status: 415,
        detail: expect.stringContaining('multipart/form-data'),
      });
      expect(await documentIds()).toEqual(before);
    });
  });
});

/**
 * Documents retained before chunks existed are chunked by the migration from their stored text,
 * with their bank's chunk size, and their memories pointed at the chunk that holds their text.
 */
describe.each(['PGlite', 'PostgreSQL'] as const)('the document-chunks migration on existing data (%s)', (backend) => {
  let registry: DataSourceRegistry;
  let dataSource: DataSource;
  let dropName: string | undefined;
  const mine = MEMORY_MIGRATIONS.findIndex((migration) => migration.name === 'DocumentChunks1765100000000');

  beforeAll(async () => {
    registry = new DataSourceRegistry(DEFAULT_DATA_SOURCE_SETTINGS, (source) =>
      runMemoryMigrations(source, MEMORY_MIGRATIONS.slice(0, mine)),
    );
    let url = `pglite://memory/chunks-migration-${randomUUID()}`;
    if (backend === 'PostgreSQL') {
      const created = await createTestDatabase('chunks_migration');
      url = created.url;
      dropName = created.name;
    }
    dataSource = await registry.acquire(url);
  });

  afterAll(async () => {
    await registry?.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  it('chunks stored texts and links each memory to the chunk containing it, or to the only chunk', async () => {
    expect(mine).toBeGreaterThan(0);
    await dataSource.query(`INSERT INTO banks (id, config) VALUES ('a', '{"retain_chunk_size": 40}'), ('b', '{}')`);
    await dataSource.query(
      `INSERT INTO documents (bank_id, id, original_text) VALUES
         ('a', 'two', $1), ('a', 'textless', NULL), ('b', 'one', 'Carol plays the cello.')`,
      ['Alice joined Acme in Lisbon.\n\nBob moved to Oslo last spring.'],
    );
    const insert = async (bankId: string, documentId: string, text: string) => {
      const [row] = (await dataSource.query(`INSERT INTO memory_units (bank_id, document_id, text) VALUES ($1, $2, $3) RETURNING id`, [
        bankId,
        documentId,
        text,
      ])) as Array<{ id: string }>;
      return row.id;
    };
    const alice = await insert('a', 'two', 'Alice joined Acme in Lisbon.');
    const bob = await insert('a', 'two', 'Bob moved to Oslo last spring.');
    const reworded = await insert('a', 'two', 'Bob lives in Norway.');
    const carol = await insert('b', 'one', 'Carol is a cellist.');

    await runMemoryMigrations(dataSource);

    const chunks = (await dataSource.query(
      `SELECT bank_id, document_id, chunk_index, chunk_text, id FROM chunks ORDER BY bank_id, document_id, chunk_index`,
    )) as Array<{ bank_id: string; document_id: string; chunk_index: number; chunk_text: string; id: string }>;
    expect(chunks.map(({ id: _id, ...chunk }) => chunk)).toEqual([
      { bank_id: 'a', document_id: 'two', chunk_index: 0, chunk_text: 'Alice joined Acme in Lisbon.' },
      { bank_id: 'a', document_id: 'two', chunk_index: 1, chunk_text: 'Bob moved to Oslo last spring.' },
      { bank_id: 'b', document_id: 'one', chunk_index: 0, chunk_text: 'Carol plays the cello.' },
    ]);
    const pointers = new Map(
      ((await dataSource.query(`SELECT id, chunk_id FROM memory_units`)) as Array<{ id: string; chunk_id: string | null }>).map((row) => [
        row.id,
        row.chunk_id,
      ]),
    );
    expect(pointers.get(alice)).toBe(chunks[0].id);
    expect(pointers.get(bob)).toBe(chunks[1].id);
    expect(pointers.get(reworded)).toBeNull();
    expect(pointers.get(carol)).toBe(chunks[2].id);
  });
});
