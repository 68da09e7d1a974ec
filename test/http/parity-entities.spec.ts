import { Inject, Injectable } from '@nestjs/common';
import { HindsightClient, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { DataSource } from 'typeorm';
import { BankGraphService, EntitiesService } from '../../src/index.js';
import { WatchdogService } from '../../src/health/watchdog.service.js';
import { MEMORY_DATA_SOURCE } from '../../src/memory.constants.js';
import { oracleMemoryTokens } from '../helpers/cl100k-oracle.js';
import { entityIdsOffTheirLinks } from '../helpers/entity-ids-on-row.js';
import { eventually } from '../helpers/eventually.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { call, startHttpApp, type HttpApp } from './http-app.js';

type Client = ReturnType<typeof createClient>;
/** The spec types graph nodes and edges as free-form objects; they carry Cytoscape's `data`. */
type Element = { data: Record<string, any> };
const elements = (list: unknown[]): Element[] => list as Element[];

const DAY_MS = 86_400_000;

/**
 * Entities, the entity and memory graphs and the bank statistics, through Hindsight's own client
 * (0.9.1, unmodified), on both back ends: what retain wrote comes back in each view, and bad
 * input is refused naming the field, with nothing changed.
 */
describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('entities, graphs and bank stats (%s)', (_name, backend) => {
  let app: HttpApp;
  let client: HindsightClient;
  let raw: Client;
  let database: { name: string; url: string } | undefined;
  const bank = 'people';
  const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS);

  beforeAll(async () => {
    if (backend === 'postgres') database = await createTestDatabase('parity_entities');
    app = await startHttpApp({
      DATABASE_URL: database?.url ?? `pglite://memory/parity-entities-${process.pid}-${Date.now()}`,
      MEMORY_OPERATIONS_POLL_MS: '50',
    });
    client = new HindsightClient({ baseUrl: app.url });
    raw = createClient(createConfig({ baseUrl: app.url }));
    await client.retainBatch(bank, [
      { content: 'Alice met Bob in Paris.', timestamp: twoDaysAgo },
      { content: 'Alice and Bob founded Acme together.', tags: ['work'], document_id: 'founding' },
      { content: 'Carol lives in Oslo.', entities: [{ text: 'Carol', type: 'PERSON' }] },
    ]);
    await client.createBank('empty');
  });

  afterAll(async () => {
    await app?.close();
    if (database) await dropTestDatabase(database.name);
  });

  async function entityByName(name: string) {
    const { data } = await sdk.listEntities({ client: raw, path: { bank_id: bank } });
    const entity = data!.items.find((item) => item.canonical_name === name);
    if (!entity) throw new Error(`no entity '${name}' in ${JSON.stringify(data)}`);
    return entity;
  }

  it('lists entities under the name as written, each with its metadata', async () => {
    const { data } = await sdk.listEntities({ client: raw, path: { bank_id: bank } });
    const names = data!.items.map((item) => item.canonical_name);
    expect(names).toEqual(expect.arrayContaining(['Alice', 'Bob', 'Carol', 'Paris', 'Oslo', 'Acme']));
    expect(names.some((name) => name === name.toLowerCase())).toBe(false);
    for (const item of data!.items) expect(item.metadata).toEqual(item.canonical_name === 'Carol' ? { entity_type: 'PERSON' } : {});
  });

  it('reads one entity under its name as written, with its metadata', async () => {
    const alice = await entityByName('Alice');
    const { data, response } = await sdk.getEntity({ client: raw, path: { bank_id: bank, entity_id: alice.id } });
    expect(response.status).toBe(200);
    expect(data).toEqual({
      id: alice.id,
      canonical_name: 'Alice',
      mention_count: alice.mention_count,
      first_seen: alice.first_seen,
      last_seen: alice.last_seen,
      metadata: {},
      observations: expect.any(Array),
    });
    expect(alice.mention_count).toBeGreaterThanOrEqual(2);
  });

  it('builds the co-mention graph, most often together first, with min_count and limit', async () => {
    const [alice, bob] = [await entityByName('Alice'), await entityByName('Bob')];
    const { data } = await sdk.getEntityGraph({ client: raw, path: { bank_id: bank } });
    expect(data!.limit).toBe(1000);
    expect(elements(data!.edges)[0].data).toMatchObject({
      id: [alice.id, bob.id].sort().join('-'),
      linkType: 'cooccurrence',
      weight: 2,
      lastCooccurred: expect.any(String),
    });
    expect(data!.total_edges).toBe(data!.edges.length);
    expect(data!.total_entities).toBe(data!.nodes.length);
    const labels = Object.fromEntries(elements(data!.nodes).map((node) => [node.data.id, node.data.label]));
    expect(labels[alice.id]).toBe('Alice');

    const frequent = await sdk.getEntityGraph({ client: raw, path: { bank_id: bank }, query: { min_count: 2 } });
    expect(elements(frequent.data!.edges).map((edge) => edge.data.weight)).toEqual([2]);
    expect(
      elements(frequent.data!.nodes)
        .map((node) => node.data.label)
        .sort(),
    ).toEqual(['Alice', 'Bob']);

    const one = await sdk.getEntityGraph({ client: raw, path: { bank_id: bank }, query: { limit: 1 } });
    expect(one.data).toMatchObject({ total_edges: 1, limit: 1 });
  });

  it("keys recall's entities map by the name as written, as the entity routes show it", async () => {
    const recalled = await client.recall(bank, 'Who founded Acme with Alice?');
    const alice = await entityByName('Alice');
    expect(recalled.entities?.Alice).toMatchObject({ entity_id: alice.id, canonical_name: 'Alice' });
    const keys = Object.keys(recalled.entities ?? {});
    expect(keys).toEqual(expect.arrayContaining(['Alice', 'Acme']));
    expect(keys.some((key) => key === key.toLowerCase())).toBe(false);
    for (const [key, entity] of Object.entries(recalled.entities!)) expect(entity.canonical_name).toBe(key);
    // The names on each result are the map's keys.
    for (const result of recalled.results) for (const name of result.entities ?? []) expect(keys).toContain(name);
  });

  it('draws the memory graph: nodes, entity edges, table rows, filtered and capped', async () => {
    const { data } = await sdk.getGraph({ client: raw, path: { bank_id: bank } });
    expect(data).toMatchObject({ total_units: 3, limit: 1000 });
    expect(data!.nodes).toHaveLength(3);
    const founding = data!.table_rows.find((row) => row.text === 'Alice and Bob founded Acme together.');
    expect(founding).toMatchObject({
      document_id: 'founding',
      tags: ['work'],
      fact_type: expect.any(String),
      chunk_id: expect.any(String),
    });
    expect(String(founding!.entities).split(', ').sort()).toEqual(['Acme', 'Alice', 'Bob']);
    const met = elements(data!.nodes).find((node) => node.data.text === 'Alice met Bob in Paris.');
    const entityEdges = elements(data!.edges).filter((edge) => edge.data.linkType === 'entity');
    expect(entityEdges.map((edge) => edge.data.entityName).sort()).toEqual(['Alice', 'Bob']);
    for (const edge of entityEdges) {
      expect([edge.data.source, edge.data.target].sort()).toEqual([met!.data.id, founding!.id].sort());
    }

    const byText = await sdk.getGraph({ client: raw, path: { bank_id: bank }, query: { q: 'oslo' } });
    expect(byText.data!.table_rows.map((row) => row.text)).toEqual(['Carol lives in Oslo.']);
    const tagged = await sdk.getGraph({ client: raw, path: { bank_id: bank }, query: { tags: ['work'] } });
    expect(tagged.data).toMatchObject({ total_units: 1, edges: [] });
    const byDocument = await sdk.getGraph({ client: raw, path: { bank_id: bank }, query: { document_id: 'founding' } });
    expect(byDocument.data!.total_units).toBe(1);
    const byChunk = await sdk.getGraph({ client: raw, path: { bank_id: bank }, query: { chunk_id: String(founding!.chunk_id) } });
    expect(byChunk.data!.table_rows.map((row) => row.id)).toEqual([founding!.id]);
    const capped = await sdk.getGraph({ client: raw, path: { bank_id: bank }, query: { limit: 1 } });
    expect(capped.data).toMatchObject({ total_units: 3, limit: 1 });
    expect(capped.data!.nodes).toHaveLength(1);
  });

  it('counts memories per bucket over the period, by the time field asked for', async () => {
    const byIngest = await sdk.getMemoriesTimeseries({ client: raw, path: { bank_id: bank } });
    expect(byIngest.data).toMatchObject({ bank_id: bank, period: '7d', trunc: 'day', time_field: 'created_at' });
    const buckets = byIngest.data!.buckets!;
    expect(buckets).toHaveLength(7);
    const total = (bucket: (typeof buckets)[number]) => bucket.world! + bucket.experience! + bucket.observation!;
    expect(buckets.map(total).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(3);
    expect(buckets[buckets.length - 1].time).toMatch(/T00:00:00\+00:00$/);

    const byEvent = await sdk.getMemoriesTimeseries({ client: raw, path: { bank_id: bank }, query: { time_field: 'mentioned_at' } });
    const eventDay = new Date(Math.floor(twoDaysAgo.getTime() / DAY_MS) * DAY_MS).toISOString().replace('.000Z', '+00:00');
    expect(total(byEvent.data!.buckets!.find((bucket) => bucket.time === eventDay)!)).toBe(1);

    const hourly = await sdk.getMemoriesTimeseries({ client: raw, path: { bank_id: bank }, query: { period: '1h', time_field: 'bogus' } });
    expect(hourly.data).toMatchObject({ period: '1h', trunc: 'minute', time_field: 'created_at' });
    expect(hourly.data!.buckets).toHaveLength(60);
  });

  it('shows when a document was ingested and when consolidation last ran', async () => {
    const { data } = await sdk.listBanks({ client: raw });
    const people = data!.banks.find((item) => item.bank_id === bank)!;
    expect(Date.parse(people.last_document_at!)).toBeGreaterThan(Date.now() - 60_000);
    expect(data!.banks.find((item) => item.bank_id === 'empty')!.last_document_at).toBeUndefined();

    const before = await sdk.getAgentStats({ client: raw, path: { bank_id: bank } });
    expect(before.data!.last_consolidated_at).toBeUndefined();
    await sdk.triggerConsolidation({ client: raw, path: { bank_id: bank } });
    const after = await eventually(
      async () => (await sdk.getAgentStats({ client: raw, path: { bank_id: bank } })).data!,
      (stats) => stats.last_consolidated_at != null && stats.pending_consolidation === 0,
    );
    expect(Date.parse(after.last_consolidated_at!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("lists an entity's observations once consolidation has built them", async () => {
    await client.retainBatch('hikers', [
      { content: 'Alice Johnson loves hiking in the Alps.', tags: ['outdoor'] },
      { content: 'Alice Johnson went hiking in the Alps last summer.', tags: ['outdoor'] },
    ]);
    await sdk.triggerConsolidation({ client: raw, path: { bank_id: 'hikers' } });
    const observations = await eventually(
      async () => (await client.listMemories('hikers', { type: 'observation' })).items,
      (items) => items.length > 0,
    );
    const { data: entities } = await sdk.listEntities({ client: raw, path: { bank_id: 'hikers' } });
    const alice = entities!.items.find((item) => item.canonical_name === 'Alice Johnson')!;
    const { data } = await sdk.getEntity({ client: raw, path: { bank_id: 'hikers', entity_id: alice.id } });
    expect(data!.observations.map((observation) => observation.text).sort()).toEqual(
      observations
        .filter((item) => String(item.entities).split(', ').includes('Alice Johnson'))
        .map((item) => item.text)
        .sort(),
    );
    expect(data!.observations.length).toBeGreaterThan(0);
  });

  it('answers regenerate with 410, as Hindsight does, and changes nothing', async () => {
    const alice = await entityByName('Alice');
    const { response, error } = await sdk.regenerateEntityObservations({ client: raw, path: { bank_id: bank, entity_id: alice.id } });
    expect(response.status).toBe(410);
    expect((error as unknown as { detail: string }).detail).toMatch(/deprecated.*mental models/s);
    expect(await entityByName('Alice')).toEqual(alice);
  });

  it('serves the entity and graph services to a host that imports MemoryModule alone', async () => {
    @Injectable()
    class HostReader {
      constructor(
        @Inject(EntitiesService) readonly entities: EntitiesService,
        @Inject(BankGraphService) readonly graphs: BankGraphService,
      ) {}
    }
    // No HTTP module here; the host lends its database, already migrated, so this boot is short.
    const booted = await bootStartedMemory({ dataSource: app.app.get<DataSource>(MEMORY_DATA_SOURCE), watchdogIntervalMs: 60_000 }, [
      HostReader,
    ]);
    try {
      const reader = booted.app.get(HostReader);
      const alice = await entityByName('Alice');
      expect(await reader.entities.get(bank, alice.id)).toMatchObject({ id: alice.id, name: 'Alice', mentionCount: alice.mention_count });
      const graph = await reader.entities.cooccurrenceGraph(bank, 2, 10);
      expect(graph.nodes.map((node) => node.label).sort()).toEqual(['Alice', 'Bob']);
      const memories = await reader.graphs.memoryGraph({
        bankId: bank,
        factType: 'world',
        tags: ['work'],
        tagsMatch: 'any_strict',
        limit: 10,
      });
      expect(memories.units.map((unit) => unit.text)).toEqual(['Alice and Bob founded Acme together.']);
    } finally {
      await booted.app.close();
    }
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    const entitiesBefore = await sdk.listEntities({ client: raw, path: { bank_id: bank } });
    const statsBefore = (await sdk.getAgentStats({ client: raw, path: { bank_id: bank } })).data!;
    const cases: Array<[string, number, RegExp]> = [
      [`/v1/default/banks/${bank}/entities/not-a-uuid`, 400, /entity_id/],
      [`/v1/default/banks/${bank}/entities/00000000-0000-4000-8000-000000000000`, 404, /not found/],
      [`/v1/default/banks/nobody/entities/00000000-0000-4000-8000-000000000000`, 404, /nobody/],
      [`/v1/default/banks/${bank}/entities/graph?limit=-1`, 422, /limit/],
      [`/v1/default/banks/${bank}/entities/graph?limit=100001`, 422, /limit/],
      [`/v1/default/banks/${bank}/entities/graph?min_count=often`, 422, /min_count/],
      [`/v1/default/banks/${bank}/entities/graph?min_count=100000000000000000000`, 422, /min_count/],
      [`/v1/default/banks/nobody/entities/graph`, 404, /nobody/],
      [`/v1/default/banks/${bank}/graph?type=dream`, 422, /type/],
      [`/v1/default/banks/${bank}/graph?tags_match=some`, 422, /tags_match/],
      [`/v1/default/banks/${bank}/graph?limit=lots`, 422, /limit/],
      [`/v1/default/banks/${bank}/graph?chunk_id=c1`, 422, /chunk_id/],
      [`/v1/default/banks/nobody/graph`, 404, /nobody/],
      [`/v1/default/banks/${bank}/stats/memories-timeseries?period=2w`, 422, /period/],
      [`/v1/default/banks/nobody/stats/memories-timeseries`, 404, /nobody/],
    ];
    for (const [path, status, detail] of cases) {
      const response = await call(app.url, 'GET', path);
      expect({ path, status: response.status }).toEqual({ path, status });
      expect(JSON.stringify(response.body.detail)).toMatch(detail);
    }
    // One bank's entity is not found through another bank.
    const alice = await entityByName('Alice');
    expect((await call(app.url, 'GET', `/v1/default/banks/hikers/entities/${alice.id}`)).status).toBe(404);
    const regenerate = await call(app.url, 'POST', `/v1/default/banks/${bank}/entities/not-a-uuid/regenerate`);
    expect(regenerate.status).toBe(410);

    expect((await sdk.listEntities({ client: raw, path: { bank_id: bank } })).data).toEqual(entitiesBefore.data);
    const statsAfter = (await sdk.getAgentStats({ client: raw, path: { bank_id: bank } })).data!;
    expect({ ...statsAfter, operations_by_status: undefined }).toEqual({ ...statsBefore, operations_by_status: undefined });
    expect((await sdk.listBanks({ client: raw })).data!.banks.map((item) => item.bank_id).sort()).toEqual(['empty', 'hikers', bank]);
  });

  describe('the audit log', () => {
    const audited = 'audited';
    const auditLog = async (query: Record<string, unknown> = {}) =>
      (await sdk.listAuditLogs({ client: raw, path: { bank_id: audited }, query: query as never })).data!;

    it('records each write once, with who, what, when and the request id, never the text written', async () => {
      const sent = new Map<string, number>();
      const record = async (action: string, request: Promise<{ response: Response }>) => sent.set(action, (await request).response.status);
      await record('create_bank', sdk.createOrUpdateBank({ client: raw, path: { bank_id: audited }, body: { name: 'Audited' } }));
      await record(
        'retain',
        sdk.retainMemories({
          client: raw,
          path: { bank_id: audited },
          body: { items: [{ content: 'The vault code is QX-4417.', document_id: 'doc-a' }] },
          headers: { 'x-request-id': 'req-audit-1' },
        }),
      );
      await record(
        'create_directive',
        sdk.createDirective({ client: raw, path: { bank_id: audited }, body: { name: 'Quiet', content: 'Never say the vault code.' } }),
      );
      await record('delete_document', sdk.deleteDocument({ client: raw, path: { bank_id: audited, document_id: 'doc-a' } }));
      // Requests that wrote nothing: a read sent as POST, a refused body, a delete of nothing.
      await sdk.recallMemories({ client: raw, path: { bank_id: audited }, body: { query: 'vault' } });
      expect((await call(app.url, 'POST', `/v1/default/banks/${audited}/directives`, { name: 'No content' })).status).toBe(422);
      expect((await call(app.url, 'DELETE', `/v1/default/banks/${audited}/documents/doc-missing`)).status).toBe(404);

      const log = await auditLog();
      expect(log.total).toBe(4);
      expect(log.items.map((entry) => entry.action).sort()).toEqual(['create_bank', 'create_directive', 'delete_document', 'retain']);
      for (const entry of log.items) {
        expect(entry).toMatchObject({ bank_id: audited, transport: 'http', metadata: { actor: 'anonymous' } });
        // The outcome is recorded before the answer goes out: each entry is whole already.
        expect(entry.ended_at).not.toBeNull();
        expect(entry.duration_ms).toBeGreaterThanOrEqual(0);
        expect(entry.metadata.status_code).toBe(sent.get(entry.action));
      }
      const retain = log.items.find((entry) => entry.action === 'retain')!;
      expect(retain.metadata.request_id).toBe('req-audit-1');
      expect(retain.request).toMatchObject({ item_count: 1, document_ids: ['doc-a'] });
      // Neither the code nor the word can be part of a random id or a time (hex digits and digits only).
      expect(JSON.stringify(log)).not.toMatch(/QX-4417|vault/i);
    });

    it('filters, pages and counts by action and time; refuses bad parameters naming them', async () => {
      expect((await auditLog({ action: 'retain' })).items.map((entry) => entry.action)).toEqual(['retain']);
      expect((await auditLog({ transport: 'mcp' })).total).toBe(0);
      expect((await auditLog({ start_date: new Date(Date.now() + 60_000).toISOString() })).total).toBe(0);
      expect((await auditLog({ end_date: new Date(Date.now() + 60_000).toISOString() })).total).toBe(4);
      const page = await auditLog({ limit: 1, offset: 1 });
      expect({ total: page.total, items: page.items.length }).toEqual({ total: 4, items: 1 });

      const stats = (await sdk.auditLogStats({ client: raw, path: { bank_id: audited }, query: { period: '1d' } })).data!;
      expect(stats).toMatchObject({ bank_id: audited, period: '1d', trunc: 'hour' });
      expect(stats.buckets.reduce((sum, bucket) => sum + bucket.total, 0)).toBe(4);
      const weekly = (await sdk.auditLogStats({ client: raw, path: { bank_id: audited }, query: { action: 'retain' } })).data!;
      expect(weekly).toMatchObject({ period: '7d', trunc: 'day' });
      expect(weekly.buckets.map((bucket) => bucket.actions)).toEqual([{ retain: 1 }]);

      const cases: Array<[string, number, RegExp]> = [
        [`/v1/default/banks/${audited}/audit-logs?limit=0`, 422, /limit/],
        [`/v1/default/banks/${audited}/audit-logs?limit=501`, 422, /limit/],
        [`/v1/default/banks/${audited}/audit-logs?offset=-1`, 422, /offset/],
        [`/v1/default/banks/${audited}/audit-logs?start_date=yesterday`, 422, /start_date/],
        [`/v1/default/banks/${audited}/audit-logs/stats?period=2d`, 422, /period/],
        [`/v1/default/banks/nobody/audit-logs`, 404, /nobody/],
        [`/v1/default/banks/nobody/audit-logs/stats`, 404, /nobody/],
      ];
      for (const [path, status, detail] of cases) {
        const response = await call(app.url, 'GET', path);
        expect({ path, status: response.status }).toEqual({ path, status });
        expect(JSON.stringify(response.body.detail)).toMatch(detail);
      }
      expect((await auditLog()).total).toBe(4);
    });

    it('commits an entry and its write together: a write whose entry cannot be stored is not stored either', async () => {
      const dataSource = app.app.get<DataSource>(MEMORY_DATA_SOURCE);
      await dataSource.query(`ALTER TABLE audit_log ADD CONSTRAINT refuse_directives CHECK (action <> 'create_directive') NOT VALID`);
      try {
        const refused = await call(app.url, 'POST', `/v1/default/banks/${audited}/directives`, { name: 'Loud', content: 'Shout.' });
        expect(refused.status).toBe(500);
      } finally {
        await dataSource.query(`ALTER TABLE audit_log DROP CONSTRAINT refuse_directives`);
      }
      const directives = (await sdk.listDirectives({ client: raw, path: { bank_id: audited } })).data!;
      expect(directives.items.map((directive) => directive.name)).toEqual(['Quiet']);
      expect((await auditLog()).total).toBe(4);
    });

    it('drops entries past retention at the watchdog round, and keeps the rest', async () => {
      const dataSource = app.app.get<DataSource>(MEMORY_DATA_SOURCE);
      const [old] = (await auditLog({ action: 'create_bank' })).items;
      await dataSource.query(`UPDATE audit_log SET started_at = now() - interval '91 days' WHERE bank_id = $1 AND id = $2`, [
        audited,
        old.id,
      ]);
      await app.app.get(WatchdogService).runChecks();
      const left = await auditLog();
      expect(left.items.map((entry) => entry.action).sort()).toEqual(['create_directive', 'delete_document', 'retain']);
    });
  });

  describe('document transfer', () => {
    const copy = 'people-copy';
    const queries = ['Where did Alice meet Bob?', 'Who founded Acme?', 'Where does Carol live?', 'Paris'];
    let archive: Buffer;

    async function finished(bankId: string, operationId: string) {
      const operation = await eventually(
        async () => (await sdk.getOperationStatus({ client: raw, path: { bank_id: bankId, operation_id: operationId } })).data!,
        (status) => status.status === 'completed' || status.status === 'failed',
      );
      expect({ status: operation.status, error: operation.error_message }).toEqual({ status: 'completed', error: null });
      return operation.result_metadata as Record<string, any>;
    }

    async function importArchive(bankId: string, onConflict?: string) {
      const submitted = await sdk.importDocuments({
        client: raw,
        path: { bank_id: bankId },
        query: onConflict ? { on_conflict: onConflict } : undefined,
        body: { file: new Blob([archive], { type: 'application/zip' }) },
      });
      expect(submitted.response.status).toBe(202);
      return finished(bankId, submitted.data!.operation_id);
    }

    const recalled = async (bankId: string) =>
      Promise.all(
        queries.map(async (query) =>
          (await client.recall(bankId, query, { types: ['world', 'experience'] })).results.map((result) => [result.text, result.type]),
        ),
      );
    const memoryCount = async (bankId: string) => (await sdk.listMemories({ client: raw, path: { bank_id: bankId } })).data!.total;

    it('exports the bank as an archive, downloadable once the operation completes', async () => {
      const submitted = await sdk.exportDocuments({ client: raw, path: { bank_id: bank } });
      expect(submitted.response.status).toBe(202);
      const result = await finished(bank, submitted.data!.operation_id);
      expect(result).toMatchObject({
        document_count: 1,
        fact_count: 1,
        loose_fact_count: 2,
        download_url: `/v1/default/files/download/${result.storage_key}`,
      });

      const download = await fetch(`${app.url}${result.download_url}`);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('application/zip');
      archive = Buffer.from(await download.arrayBuffer());
      expect(archive.length).toBe(result.byte_size);
      expect(archive.subarray(0, 2).toString()).toBe('PK');
    });

    it('imports it into another bank with the same recall, and importing it again changes nothing', async () => {
      const imported = await importArchive(copy);
      expect(imported).toMatchObject({ documents_imported: 1, facts_imported: 1, loose_facts_imported: 2, documents_skipped: 0 });
      expect(await recalled(copy)).toEqual(await recalled(bank));
      const document = (await sdk.getDocument({ client: raw, path: { bank_id: copy, document_id: 'founding' } })).data!;
      expect(document).toMatchObject({ original_text: 'Alice and Bob founded Acme together.', tags: ['work'] });
      const entities = (await sdk.listEntities({ client: raw, path: { bank_id: copy } })).data!.items.map((item) => item.canonical_name);
      expect(entities).toEqual(expect.arrayContaining(['Alice', 'Bob', 'Acme', 'Paris', 'Carol', 'Oslo']));
      // Imported as retain writes: each with its count for recall's token budget.
      const dataSource = app.app.get<DataSource>(MEMORY_DATA_SOURCE);
      const stored = await dataSource.query(`SELECT text, context, tokens_cl100k FROM memory_units WHERE bank_id = $1`, [copy]);
      expect(stored).toHaveLength(3);
      for (const row of stored) expect(row.tokens_cl100k).toBe(oracleMemoryTokens(row.text, row.context));
      // … and with its entities' ids on its row.
      expect(await entityIdsOffTheirLinks((text, params) => dataSource.query(text, params), copy)).toEqual([]);

      const count = await memoryCount(copy);
      expect(await importArchive(copy)).toMatchObject({
        documents_imported: 0,
        documents_skipped: 1,
        skipped_document_ids: ['founding'],
        loose_facts_skipped: 2,
      });
      expect(await importArchive(copy, 'replace')).toMatchObject({ documents_imported: 1, loose_facts_skipped: 2 });
      expect(await memoryCount(copy)).toBe(count);
      expect(await recalled(copy)).toEqual(await recalled(bank));

      const remapped = await importArchive(copy, 'new-id');
      expect(remapped).toMatchObject({ documents_imported: 1, remapped_document_ids: { founding: expect.any(String) } });
      expect(await memoryCount(copy)).toBe(count + 1);
    });

    it('refuses an archive whose text the database cannot store, naming the entry, and leaves out names too long to key', async () => {
      /** The exported archive with its document entry changed by `edit`. */
      const altered = (edit: (document: Record<string, any>) => void) => {
        const entries = unzipSync(new Uint8Array(archive));
        const name = Object.keys(entries).find((entry) => entry.startsWith('documents/'))!;
        const document = JSON.parse(strFromU8(entries[name]));
        edit(document);
        entries[name] = strToU8(JSON.stringify(document));
        return { name, bytes: zipSync(entries) };
      };
      const submit = (bankId: string, bytes: Uint8Array) =>
        sdk.importDocuments({ client: raw, path: { bank_id: bankId }, body: { file: new Blob([bytes], { type: 'application/zip' }) } });

      const banksBefore = (await sdk.listBanks({ client: raw })).data!.banks.length;
      const refused: Array<[(document: Record<string, any>) => void, RegExp]> = [
        [(document) => (document.facts[0].text = 'Alice\u0000 and Bob'), /facts\.0\.text must not contain the NUL character/],
        [
          (document) => (document.facts[0].entities = ['Ali\uD800ce']),
          /facts\.0\.entities\.0 must not contain an unpaired UTF-16 surrogate/,
        ],
        [
          (document) => (document.facts[0].metadata = { ['so\u0000urce']: 'x' }),
          /facts\.0\.metadata keys must not contain the NUL character/,
        ],
        [(document) => (document.id = 'd'.repeat(601)), /id must be at most 600 characters long/],
        [(document) => (document.facts[0].tags = ['t'.repeat(257)]), /tags must be at most 256 characters long/],
      ];
      for (const [edit, message] of refused) {
        const { name, bytes } = altered(edit);
        const response = await submit('hostile-import', bytes);
        expect(response.response.status).toBe(422);
        expect(JSON.stringify(response.error)).toMatch(new RegExp(`${name}: `));
        expect(JSON.stringify(response.error)).toMatch(message);
      }
      expect((await sdk.listBanks({ client: raw })).data!.banks.length).toBe(banksBefore);

      // Names found by another system's LLM: one too long to key is left out, the memory kept.
      const title = Array.from({ length: 1000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20000))).join('');
      const { bytes } = altered((document) => {
        document.facts[0].entities = [...document.facts[0].entities, title];
        document.facts[0].attribute_key = `${title}${title}|residence`;
      });
      const submitted = await submit('long-names-import', bytes);
      expect(submitted.response.status).toBe(202);
      expect(await finished('long-names-import', submitted.data!.operation_id)).toMatchObject({ documents_imported: 1, facts_imported: 1 });
      const entities = (await sdk.listEntities({ client: raw, path: { bank_id: 'long-names-import' } })).data!.items;
      expect(entities.map((entity) => entity.canonical_name)).toEqual(expect.arrayContaining(['Alice', 'Bob', 'Acme']));
      expect(entities.some((entity) => entity.canonical_name.length > 256)).toBe(false);
    });

    it('refuses bad input naming it, and queues or stores nothing', async () => {
      const banksBefore = (await sdk.listBanks({ client: raw })).data!.banks.length;
      const notZip = await sdk.importDocuments({
        client: raw,
        path: { bank_id: 'nowhere' },
        body: { file: new Blob(['plain text, no archive']) },
      });
      expect(notZip.response.status).toBe(422);
      expect(JSON.stringify(notZip.error)).toMatch(/file/);
      const badMode = await sdk.importDocuments({
        client: raw,
        path: { bank_id: 'nowhere' },
        query: { on_conflict: 'merge' },
        body: { file: new Blob([archive]) },
      });
      expect(badMode.response.status).toBe(422);
      expect(JSON.stringify(badMode.error)).toMatch(/on_conflict/);
      expect((await sdk.listBanks({ client: raw })).data!.banks.length).toBe(banksBefore);

      const cases: Array<[string, string, number, RegExp]> = [
        ['POST', `/v1/default/banks/${bank}/document-transfer/export?include_observations=true`, 422, /include_observations/],
        ['POST', `/v1/default/banks/nobody/document-transfer/export`, 404, /nobody/],
        ['POST', `/v1/default/banks/${bank}/document-transfer`, 422, /file/],
        ['GET', `/v1/default/banks/${bank}/document-transfer`, 410, /document-transfer\/export/],
        ['GET', `/v1/default/files/download/00000000-0000-4000-8000-000000000000`, 404, /not found/],
        ['GET', `/v1/default/files/download/not-a-key`, 404, /not found/],
      ];
      for (const [method, path, status, detail] of cases) {
        const response = await call(app.url, method, path);
        expect({ path, status: response.status }).toEqual({ path, status });
        expect(JSON.stringify(response.body.detail)).toMatch(detail);
      }
      const operations = (await sdk.listOperations({ client: raw, path: { bank_id: bank } })).data!;
      expect(operations.operations.filter((operation) => operation.task_type === 'document_export')).toHaveLength(1);
    });
  });
});
