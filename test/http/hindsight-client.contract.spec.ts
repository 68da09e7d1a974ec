import { HindsightClient, HindsightError, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { eventually } from '../helpers/eventually.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';

/**
 * Hindsight's own TypeScript client (0.9.1), unmodified, against the built standalone server:
 * every call it makes must succeed and what was written must come back.
 */
describe('@vectorize-io/hindsight-client 0.9.1 against the standalone server', () => {
  describe('without an API key', () => {
    let server: StandaloneServer;
    let client: HindsightClient;

    beforeAll(async () => {
      server = await startStandalone({ DATABASE_URL: 'pglite://memory' });
      client = new HindsightClient({ baseUrl: server.url });
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('creates a bank and reads back its profile and config', async () => {
      const created = await client.createBank('profile-bank', {
        name: 'Profile bank',
        reflectMission: 'Remember what the user likes',
        disposition: { skepticism: 4, literalism: 2, empathy: 5 },
      });
      expect(created).toEqual({
        bank_id: 'profile-bank',
        name: 'Profile bank',
        mission: 'Remember what the user likes',
        background: 'Remember what the user likes',
        disposition: { skepticism: 4, literalism: 2, empathy: 5 },
      });
      expect(await client.getBankProfile('profile-bank')).toEqual(created);

      const config = await client.updateBankConfig('profile-bank', { retainExtractionMode: 'verbose', enableObservations: false });
      expect(config.overrides).toMatchObject({ retain_extraction_mode: 'verbose', enable_observations: false, disposition_empathy: 5 });
      expect((await client.getBankConfig('profile-bank')).config).toMatchObject({
        retain_extraction_mode: 'verbose',
        retain_chunk_size: 3000,
      });
      expect((await client.resetBankConfig('profile-bank')).overrides).toEqual({});
    });

    it('retains one memory and a batch synchronously, and recalls them with their entities', async () => {
      const one = await client.retain('sync-bank', 'Alice joined Google in Zurich.', {
        context: 'onboarding call',
        metadata: { source: 'call' },
        tags: ['team-a'],
        timestamp: new Date('2024-03-01T10:00:00Z'),
      });
      expect(one).toMatchObject({ success: true, bank_id: 'sync-bank', items_count: 1, async: false });
      expect(one.operation_id).toBeUndefined();

      const batch = await client.retainBatch(
        'sync-bank',
        [
          { content: 'Bob moved to Lisbon.', tags: ['team-b'] },
          { content: 'Carol plays the cello.', entities: [{ text: 'Carol', type: 'PERSON' }] },
        ],
        { documentTags: ['batch'] },
      );
      expect(batch).toMatchObject({ success: true, bank_id: 'sync-bank', items_count: 2, async: false });

      const recalled = await client.recall('sync-bank', 'Where did Alice join Google?');
      const top = recalled.results[0];
      expect(top).toMatchObject({
        text: 'Alice joined Google in Zurich.',
        type: 'world',
        context: 'onboarding call',
        metadata: { source: 'call' },
        tags: ['team-a'],
        mentioned_at: '2024-03-01T10:00:00.000Z',
      });
      expect(top.scores?.final).toEqual(expect.any(Number));
      expect(top.entities).toEqual(expect.arrayContaining(['Alice', 'Google']));
      expect(recalled.entities?.Alice).toMatchObject({ canonical_name: 'Alice', entity_id: expect.any(String) });
      expect(recalled.trace).toBeUndefined();

      const withoutEntities = await client.recall('sync-bank', 'Where did Alice join Google?', { includeEntities: false });
      expect(withoutEntities.results[0].text).toBe('Alice joined Google in Zurich.');
      expect(withoutEntities.entities).toBeUndefined();
    });

    it('retains asynchronously and the operation completes, polled through the sdk', async () => {
      const queued = await client.retainBatch(
        'async-bank',
        [{ content: 'Dana adopted a greyhound.' }, { content: 'Erin speaks Basque.' }],
        {
          async: true,
        },
      );
      expect(queued).toMatchObject({ success: true, bank_id: 'async-bank', items_count: 2, async: true });
      expect(queued.operation_id).toMatch(/^[0-9a-f-]{36}$/);

      const raw = createClient(createConfig({ baseUrl: server.url }));
      const poll = () => sdk.getOperationStatus({ client: raw, path: { bank_id: 'async-bank', operation_id: queued.operation_id! } });
      const done = await eventually(
        poll,
        (response) => response.data?.status === 'completed' || response.data?.status === 'failed',
        15_000,
      );
      expect(done.data).toMatchObject({ operation_id: queued.operation_id, status: 'completed', operation_type: 'retain' });

      const listed = await client.listMemories('async-bank');
      expect(listed.items.map((item) => item.text).sort()).toEqual(['Dana adopted a greyhound.', 'Erin speaks Basque.']);
    });

    it('recalls with types, tags, max_tokens and trace', async () => {
      await client.retainBatch('filter-bank', [
        { content: 'Frank repairs vintage bicycles in Ghent.', tags: ['hobby'] },
        { content: 'Frank sells vintage bicycles online every weekend.', tags: ['work'] },
        { content: 'Frank collects vintage bicycles from flea markets around Antwerp.' },
      ]);
      const all = await client.recall('filter-bank', 'Frank vintage bicycles');
      expect(all.results).toHaveLength(3);

      expect((await client.recall('filter-bank', 'Frank vintage bicycles', { types: ['experience'] })).results).toEqual([]);
      expect((await client.recall('filter-bank', 'Frank vintage bicycles', { types: ['world'] })).results).toHaveLength(3);

      const tagged = await client.recall('filter-bank', 'Frank vintage bicycles', { tags: ['hobby'], tagsMatch: 'any_strict' });
      expect(tagged.results.map((result) => result.text)).toEqual(['Frank repairs vintage bicycles in Ghent.']);

      const trimmed = await client.recall('filter-bank', 'Frank vintage bicycles', { maxTokens: 12 });
      expect(trimmed.results.length).toBeGreaterThan(0);
      expect(trimmed.results.length).toBeLessThan(3);

      const traced = await client.recall('filter-bank', 'Frank vintage bicycles', { trace: true, budget: 'low' });
      expect(traced.trace).toMatchObject({ query: 'Frank vintage bicycles', budget: 'low', num_results: 3 });
      expect((traced.trace as { arms: unknown[] }).arms).toHaveLength(4);
    });

    it('lists memories with filters and pagination', async () => {
      await client.retainBatch('list-bank', [
        { content: 'Gina bakes sourdough.', document_id: 'kitchen' },
        { content: 'Hugo fixes roofs.', document_id: 'work' },
      ]);
      const page = await client.listMemories('list-bank', { limit: 1, offset: 0 });
      expect(page).toMatchObject({ total: 2, limit: 1, offset: 0 });
      expect(page.items).toHaveLength(1);
      const kitchen = await client.listMemories('list-bank', { documentId: 'kitchen' });
      expect(kitchen.items).toEqual([
        expect.objectContaining({ text: 'Gina bakes sourdough.', fact_type: 'world', document_id: 'kitchen', entities: 'Gina' }),
      ]);
      const searched = await client.listMemories('list-bank', { q: 'roofs', type: 'world' });
      expect(searched.items.map((item) => item.text)).toEqual(['Hugo fixes roofs.']);
    });

    it('gets a document (null when missing) and deletes it with its memories', async () => {
      const documentId = 'notes/2024/ivan.md';
      await client.retain('doc-bank', 'Ivan climbs in Chamonix. Ivan fears heights.', { documentId, tags: ['climbing'] });

      const document = await client.getDocument('doc-bank', documentId);
      expect(document).toMatchObject({
        id: documentId,
        bank_id: 'doc-bank',
        original_text: 'Ivan climbs in Chamonix. Ivan fears heights.',
        memory_unit_count: 2,
        tags: ['climbing'],
      });
      expect(document?.content_hash).toMatch(/^[0-9a-f]{32}$/);
      expect(await client.getDocument('doc-bank', 'notes/2024/nobody.md')).toBeNull();
      expect((await client.listDocuments('doc-bank')).items).toEqual([expect.objectContaining({ id: documentId, memory_unit_count: 2 })]);

      await client.deleteDocument('doc-bank', documentId);
      expect(await client.getDocument('doc-bank', documentId)).toBeNull();
      expect((await client.listMemories('doc-bank')).total).toBe(0);
      await expect(client.deleteDocument('doc-bank', documentId)).rejects.toThrow(/Document not found/);
    });

    it('deletes a bank, after which its profile is a 404', async () => {
      await client.retain('doomed-bank', 'Jana paints murals.');
      await client.deleteBank('doomed-bank');
      const failure = await client.getBankProfile('doomed-bank').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(HindsightError);
      expect((failure as HindsightError).statusCode).toBe(404);
      expect((failure as HindsightError).details).toBe("Bank 'doomed-bank' not found");
    });

    it('reports its version', async () => {
      expect(await client.getVersion()).toMatchObject({ api_version: '0.9.1', features: { bank_config_api: true } });
    });
  });

  describe('with MEMORY_API_KEY set', () => {
    const apiKey = 'k3y-for-contract-tests';
    let server: StandaloneServer;

    beforeAll(async () => {
      server = await startStandalone({ DATABASE_URL: 'pglite://memory', MEMORY_API_KEY: apiKey });
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('serves a client that sends the key', async () => {
      const client = new HindsightClient({ baseUrl: server.url, apiKey });
      await client.createBank('keyed-bank', { name: 'Keyed' });
      await client.retain('keyed-bank', 'Kai keeps bees in Bern.');
      const recalled = await client.recall('keyed-bank', 'Who keeps bees?');
      expect(recalled.results.map((result) => result.text)).toEqual(['Kai keeps bees in Bern.']);
      expect((await client.getBankProfile('keyed-bank')).name).toBe('Keyed');
    });

    it('answers 401 to a client without the key or with a wrong one', async () => {
      for (const client of [new HindsightClient({ baseUrl: server.url }), new HindsightClient({ baseUrl: server.url, apiKey: 'wrong' })]) {
        const failure = await client.createBank('intruder-bank').catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(HindsightError);
        expect((failure as HindsightError).statusCode).toBe(401);
        expect((failure as HindsightError).details).toBe('Invalid API key');
      }
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(401);
      expect(metrics.headers.get('content-type')).toMatch(/^application\/json/);
      expect((await fetch(`${server.url}/docs-json`)).status).toBe(401);
    });

    it('accepts the raw key without "Bearer", and keeps health and version open', async () => {
      const raw = await fetch(`${server.url}/v1/default/banks`, { headers: { authorization: apiKey } });
      expect(raw.status).toBe(200);
      const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `bearer ${apiKey}` } });
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain('memory_http_request_duration_seconds');
      expect(await new HindsightClient({ baseUrl: server.url }).getVersion()).toMatchObject({ api_version: '0.9.1' });
      expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'healthy', database: 'connected' });
      expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    });
  });
});
