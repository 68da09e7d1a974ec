import { randomUUID } from 'node:crypto';
import { HindsightClient, type KnowledgeNode, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { eventually } from '../helpers/eventually.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { call, startHttpApp, type HttpApp } from './http-app.js';

/** Answers where this server used to differ from Hindsight's, on the standalone app. */
describe("Hindsight's answers for liveness and unknown routes", () => {
  let http: HttpApp;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/hindsight-behaviour-${process.pid}`, MEMORY_WEBHOOK_ALLOW_PRIVATE: 'true' });
  });

  afterAll(async () => {
    await http?.close();
  });

  it('answers /health/live with LivenessResponse and no database work', async () => {
    const live = await call(http.url, 'GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'alive', version: '0.9.1', uptime_seconds: expect.any(Number) });
  });

  it.each([
    ['GET', '/nope'],
    ['POST', '/v1/default/banks/b/not-a-route'],
    ['DELETE', '/v1/default'],
  ])('answers %s %s with 404 and a detail, like every other error', async (method, path) => {
    const response = await call(http.url, method, path);
    expect(response.status).toBe(404);
    expect(response.contentType).toContain('application/json');
    expect(Object.keys(response.body)).toEqual(['detail']);
    expect(response.body.detail).toEqual(expect.any(String));
  });
  /** Each delete answers what Hindsight 0.9.1's server sends, message wording included. */
  describe('delete answers', () => {
    const bank = 'deletes';
    const raw = () => createClient(createConfig({ baseUrl: http.url }));

    it('match Hindsight field for field, and a delete of nothing is a 4xx that changes nothing', async () => {
      const client = new HindsightClient({ baseUrl: http.url });
      await client.retainBatch(bank, [
        { content: 'Pia paints murals.', document_id: 'murals' },
        { content: 'Pia teaches art on Fridays.' },
      ]);
      const path = { bank_id: bank };

      const missing = [
        await call(http.url, 'DELETE', `/v1/default/banks/${bank}/documents/no-such-document`),
        await call(http.url, 'DELETE', `/v1/default/banks/${bank}/webhooks/00000000-0000-4000-8000-000000000000`),
        await call(http.url, 'DELETE', `/v1/default/banks/${bank}/operations/not-a-uuid/delete`),
      ];
      expect(missing.map((response) => [response.status, response.body])).toEqual([
        [404, { detail: 'Document not found' }],
        [404, { detail: 'Webhook not found' }],
        [400, { detail: 'Invalid operation_id format: not-a-uuid' }],
      ]);
      expect((await client.listMemories(bank)).items).toHaveLength(2);

      const document = (await sdk.deleteDocument({ client: raw(), path: { ...path, document_id: 'murals' } })).data!;
      expect(document).toEqual({
        success: true,
        message: `Document 'murals' and ${document.memory_units_deleted} associated memory units deleted successfully`,
        document_id: 'murals',
        memory_units_deleted: expect.any(Number),
      });
      expect(document.memory_units_deleted).toBeGreaterThan(0);

      const webhook = (await sdk.createWebhook({ client: raw(), path, body: { url: 'http://127.0.0.1:9/hook' } })).data!;
      expect((await sdk.deleteWebhook({ client: raw(), path: { ...path, webhook_id: webhook.id } })).data).toEqual({ success: true });

      const directive = await client.createDirective(bank, 'Brevity', 'Answer briefly.');
      expect((await sdk.deleteDirective({ client: raw(), path: { ...path, directive_id: directive.id } })).data).toEqual({
        status: 'deleted',
      });
      const model = await client.createMentalModel(bank, 'Pia', 'What does Pia do?');
      const modelId = (model as { mental_model_id: string }).mental_model_id;
      expect((await sdk.deleteMentalModel({ client: raw(), path: { ...path, mental_model_id: modelId } })).data).toEqual({
        status: 'deleted',
      });

      const queued = (await sdk.retainMemories({ client: raw(), path, body: { items: [{ content: 'Pia sells prints.' }], async: true } }))
        .data!;
      const operationId = queued.operation_id!;
      await eventually(
        async () => (await sdk.getOperationStatus({ client: raw(), path: { ...path, operation_id: operationId } })).data?.status,
        (status) => status === 'completed',
        10_000,
      );
      expect((await sdk.deleteOperation({ client: raw(), path: { ...path, operation_id: operationId } })).data).toEqual({
        success: true,
        message: `Operation ${operationId} deleted`,
        operation_id: operationId,
      });

      expect((await sdk.clearObservations({ client: raw(), path })).data).toEqual({
        success: true,
        message: 'Cleared 0 observations',
        deleted_count: 0,
      });
      expect((await sdk.clearBankMemories({ client: raw(), path })).data).toEqual({ success: true });
      expect((await client.listMemories(bank)).items).toEqual([]);

      await client.retain(bank, 'Quinn repairs clocks.', { documentId: 'clocks' });
      const deleted = (await sdk.deleteBank({ client: raw(), path })).data!;
      expect(deleted).toEqual({
        success: true,
        message: `Bank '${bank}' and all associated data deleted successfully`,
        deleted_count: expect.any(Number),
      });
      // The memories, the entities and the document, as Hindsight counts them.
      expect(deleted.deleted_count).toBeGreaterThanOrEqual(3);
    });
  });
});

/** What the fake LLM answers the knowledge-base block: a retained item as one fact, a page as notes on its topic. */
function knowledgeChat(body: ChatRequestBody): object {
  const system = String(body.messages.find((message) => message.role === 'system')?.content ?? '');
  const user = String(body.messages.find((message) => message.role === 'user')?.content ?? '');
  if (system.includes('extract durable facts')) {
    return { facts: [{ text: (user.split('Content:\n')[1] ?? '').trim(), fact_type: 'world', entities: [] }] };
  }
  if (system.includes('mental model')) {
    const topic = /^Topic: (.*)$/m.exec(user)?.[1] ?? '?';
    const query = /^Query: (.*)$/m.exec(user)?.[1] ?? '?';
    return { content: `Notes on ${topic}: ${query}` };
  }
  return {};
}

const KNOWLEDGE_BACKENDS = [
  { name: 'PGlite', database: async () => ({ url: `pglite://memory/knowledge-base-${randomUUID()}`, drop: async () => undefined }) },
  {
    name: 'PostgreSQL',
    database: async () => {
      const database = await createTestDatabase('knowledge_base');
      return { url: database.url, drop: () => dropTestDatabase(database.name) };
    },
  },
];

/**
 * The Knowledge Base routes (folders and pages over mental models), driven through Hindsight's
 * client (0.9.1) against the server in process with a fake LLM, on both back ends.
 */
describe.each(KNOWLEDGE_BACKENDS)('the knowledge base on $name', (backend) => {
  let fake: FakeOpenAiServer;
  let http: HttpApp;
  let drop: () => Promise<void>;
  let client: HindsightClient;
  let raw: ReturnType<typeof createClient>;

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    fake.onChat(knowledgeChat);
    const target = await backend.database();
    drop = target.drop;
    http = await startHttpApp({
      DATABASE_URL: target.url,
      MEMORY_LLM: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      MEMORY_OPERATIONS_POLL_MS: '50',
    });
    client = new HindsightClient({ baseUrl: http.url });
    raw = createClient(createConfig({ baseUrl: http.url }));
  });

  afterAll(async () => {
    await http?.close();
    await drop?.();
    await fake?.close();
  });

  afterEach(() => {
    expect(http.app.get(ExternalCallGuard).violations).toBe(0);
  });

  async function bank(): Promise<string> {
    const bankId = `kb-${randomUUID().slice(0, 8)}`;
    await client.createBank(bankId, { name: bankId });
    // No consolidation: its LLM calls would only add noise here.
    await client.updateBankConfig(bankId, { enableObservations: false });
    return bankId;
  }

  const tree = async (bankId: string) => (await client.getKnowledgeBaseTree(bankId)).roots;
  /** Id and name down the tree, children nested: the shape a move or delete changes. */
  const shape = (nodes: KnowledgeNode[]): unknown[] =>
    nodes.map((node) => (node.kind === 'folder' ? { [node.name]: shape(node.children ?? []) } : node.name));

  async function settled(bankId: string): Promise<void> {
    await eventually(
      async () =>
        (await sdk.listOperations({ client: raw, path: { bank_id: bankId } })).data!.operations.map((operation) => operation.status),
      (statuses) => statuses.every((status) => status === 'completed' || status === 'failed'),
      10_000,
    );
  }

  it('builds a tree whose pages get their content from the refresh, tells staleness by scope, searches and exports', async () => {
    const bankId = await bank();
    const guides = await client.createKnowledgeFolder(bankId, 'Guides');
    expect(guides).toMatchObject({ kind: 'folder', name: 'Guides', parent_id: null, mental_model_id: null, children: [] });
    const coffee = await client.createKnowledgeFolder(bankId, 'Coffee', { parentId: guides.id });
    const espresso = await client.createKnowledgePage(bankId, 'Espresso', 'How do I pull an espresso shot?', {
      parentId: coffee.id,
      tags: ['coffee', 'type:runbook'],
      trigger: { factTypes: ['world'], tagsMatch: 'any' },
    });
    expect(espresso).toEqual({ page_id: expect.any(String), mental_model_id: expect.any(String), operation_id: expect.any(String) });
    const garden = await client.createKnowledgePage(bankId, 'Garden', 'What grows in the garden?');

    const page = await eventually(
      () => client.getKnowledgePage(bankId, espresso.page_id),
      (read) => read.body === 'Notes on Espresso: How do I pull an espresso shot?',
    );
    expect(page).toMatchObject({
      id: espresso.page_id,
      name: 'Espresso',
      type: 'runbook',
      tags: ['coffee'],
      timestamp: expect.any(String),
    });
    expect(page.markdown).toBe(
      `---\nid: "${espresso.page_id}"\ntype: "runbook"\ntitle: "Espresso"\ndescription: "How do I pull an espresso shot?"\n` +
        `tags:\n  - "coffee"\ntimestamp: "${page.timestamp}"\n---\n\nNotes on Espresso: How do I pull an espresso shot?\n`,
    );
    await eventually(
      () => client.getKnowledgePage(bankId, garden.page_id),
      (read) => read.body === 'Notes on Garden: What grows in the garden?',
    );
    // A page without a trigger of its own gets Hindsight's page defaults (in full mode).
    const gardenModel = await client.getMentalModel(bankId, garden.mental_model_id);
    expect(gardenModel).toMatchObject({ name: 'Garden', max_tokens: 4096 });
    expect(gardenModel.trigger).toMatchObject({
      fact_types: ['observation'],
      refresh_after_consolidation: true,
      exclude_mental_models: true,
    });

    const roots = await tree(bankId);
    expect(shape(roots)).toEqual(['Garden', { Guides: [{ Coffee: ['Espresso'] }] }]);
    const espressoNode = roots[1].children![0].children![0];
    expect(espressoNode).toMatchObject({
      id: espresso.page_id,
      kind: 'page',
      parent_id: coffee.id,
      mental_model_id: espresso.mental_model_id,
      description: 'How do I pull an espresso shot?',
      tags: ['coffee', 'type:runbook'],
      is_stale: false,
      timestamp: page.timestamp,
    });
    expect(roots[0].is_stale).toBe(false);
    expect(roots[1].is_stale).toBeNull();

    // A world fact is of the espresso page's scope, not of the garden page's (observations only).
    await client.retain(bankId, 'A fine grind slows the espresso shot.', { tags: ['coffee'] });
    const after = await tree(bankId);
    expect([after[0].is_stale, after[1].children![0].children![0].is_stale]).toEqual([false, true]);

    const found = await client.searchKnowledgeBase(bankId, 'espresso shot');
    expect(found.total).toBe(found.results.length);
    expect(found.results[0]).toMatchObject({
      id: espresso.page_id,
      name: 'Espresso',
      mental_model_id: espresso.mental_model_id,
      snippet: 'Notes on Espresso: How do I pull an espresso shot?',
      score: expect.any(Number),
      updated_at: page.timestamp,
    });
    expect((await client.searchKnowledgeBase(bankId, 'garden grows', { limit: 1 })).results.map((hit) => hit.id)).toEqual([garden.page_id]);

    const bundle = await client.exportKnowledgeBase(bankId);
    expect(bundle.files.map((file) => file.path)).toEqual([
      'index.md',
      `${espresso.page_id}.md`,
      `${espresso.page_id}.log.md`,
      `${garden.page_id}.md`,
      `${garden.page_id}.log.md`,
    ]);
    expect(bundle.files[0].content).toBe(
      '---\ntype: "index"\ntitle: "Knowledge base"\n---\n\n# Knowledge base\n\n' +
        `- [Garden](./${garden.page_id}.md) — What grows in the garden?\n- **Guides/**\n  - **Coffee/**\n` +
        `    - [Espresso](./${espresso.page_id}.md) — How do I pull an espresso shot?\n`,
    );
    expect(bundle.files[1].content).toBe(page.markdown);
    expect(bundle.files[2].content).toContain('# Espresso — history\n\n## ');
    expect(bundle.files[2].content).toContain('Generating content...');
  });

  it('renames, moves and re-queries nodes, refuses a move into its own subtree naming parent_id, and concurrent moves make no cycle', async () => {
    const bankId = await bank();
    const outer = await client.createKnowledgeFolder(bankId, 'Outer');
    const inner = await client.createKnowledgeFolder(bankId, 'Inner', { parentId: outer.id });
    const page = await client.createKnowledgePage(bankId, 'Tea', 'How is green tea brewed?', { parentId: inner.id });
    await settled(bankId);

    const renamed = await client.updateKnowledgeNode(bankId, page.page_id, { name: 'Green tea', parentId: null });
    expect(renamed).toMatchObject({ id: page.page_id, name: 'Green tea', parent_id: null, description: 'How is green tea brewed?' });
    expect((await client.getMentalModel(bankId, page.mental_model_id)).name).toBe('Green tea');
    expect(shape(await tree(bankId))).toEqual(['Green tea', { Outer: [{ Inner: [] }] }]);

    const before = await tree(bankId);
    const cycle = await sdk.updateKnowledgeNode({
      client: raw,
      path: { bank_id: bankId, node_id: outer.id },
      body: { parent_id: inner.id },
    });
    expect(cycle.response.status).toBe(422);
    expect((cycle.error as { detail: Array<{ loc: unknown[] }> }).detail[0].loc).toEqual(['body', 'parent_id']);
    const self = await sdk.updateKnowledgeNode({
      client: raw,
      path: { bank_id: bankId, node_id: outer.id },
      body: { parent_id: outer.id },
    });
    expect(self.response.status).toBe(422);
    expect(await tree(bankId)).toEqual(before);

    // A new question rebuilds the page.
    await client.updateKnowledgeNode(bankId, page.page_id, { sourceQuery: 'How hot should the water be?', tags: ['tea'] });
    const rebuilt = await eventually(
      () => client.getKnowledgePage(bankId, page.page_id),
      (read) => read.body === 'Notes on Green tea: How hot should the water be?',
    );
    expect(rebuilt).toMatchObject({ description: 'How hot should the water be?', tags: ['tea'] });

    // Two moves that would each be fine alone, but together close a loop: one of them is refused.
    const left = await client.createKnowledgeFolder(bankId, 'Left');
    const right = await client.createKnowledgeFolder(bankId, 'Right');
    const moves = await Promise.all([
      sdk.updateKnowledgeNode({ client: raw, path: { bank_id: bankId, node_id: left.id }, body: { parent_id: right.id } }),
      sdk.updateKnowledgeNode({ client: raw, path: { bank_id: bankId, node_id: right.id }, body: { parent_id: left.id } }),
    ]);
    expect(moves.map((move) => move.response.status).sort()).toEqual([200, 422]);
    const [moved] = (await tree(bankId)).filter((root) => root.id === left.id || root.id === right.id);
    expect(moved.children!.map((child) => child.id)).toEqual([moved.id === left.id ? right.id : left.id]);
  });

  it('deletes a subtree with the models of its pages, also while one of them refreshes', async () => {
    const bankId = await bank();
    const top = await client.createKnowledgeFolder(bankId, 'Top');
    const sub = await client.createKnowledgeFolder(bankId, 'Sub', { parentId: top.id });
    const first = await client.createKnowledgePage(bankId, 'First', 'What came first?', { parentId: top.id });
    const second = await client.createKnowledgePage(bankId, 'Second', 'What came second?', { parentId: sub.id });
    const kept = await client.createKnowledgePage(bankId, 'Kept', 'What stays?');
    await settled(bankId);

    // The refresh is held at its LLM call while the subtree goes, then answered.
    const release = fake.pause('chat');
    const arrived = fake.nextRequest('chat');
    await client.updateKnowledgeNode(bankId, second.page_id, { sourceQuery: 'What came later?' });
    await arrived;
    const [deleted] = await Promise.all([
      sdk.deleteKnowledgeNode({ client: raw, path: { bank_id: bankId, node_id: top.id } }),
      Promise.resolve().then(release),
    ]);
    expect(deleted.data).toEqual({ status: 'deleted' });
    await settled(bankId);

    expect(shape(await tree(bankId))).toEqual(['Kept']);
    const models = (await client.listMentalModels(bankId)).items.map((model) => model.id);
    expect(models).toEqual([kept.mental_model_id]);
    expect(models).not.toContain(first.mental_model_id);
    expect((await sdk.getKnowledgePage({ client: raw, path: { bank_id: bankId, page_id: second.page_id } })).response.status).toBe(404);
    // Deleting a page's model through the mental-model routes takes the page with it.
    await client.deleteMentalModel(bankId, kept.mental_model_id);
    expect(await tree(bankId)).toEqual([]);
  });

  it('refuses bad input on every route with a 4xx naming the field, and changes nothing', async () => {
    const bankId = await bank();
    const folder = await client.createKnowledgeFolder(bankId, 'Folder');
    const page = await client.createKnowledgePage(bankId, 'Page', 'What is here?', { parentId: folder.id });
    await settled(bankId);
    const before = await tree(bankId);
    const modelsBefore = (await client.listMentalModels(bankId)).items.length;
    const path = { bank_id: bankId };
    const node = (nodeId: string) => ({ bank_id: bankId, node_id: nodeId });
    const where = (result: { response: Response; error?: unknown }) => {
      const detail = (result.error as { detail?: unknown } | undefined)?.detail;
      return [result.response.status, Array.isArray(detail) ? detail[0].loc : typeof detail];
    };

    const answers = [
      where(await sdk.createKnowledgeFolder({ client: raw, path, body: { name: ' ' } })),
      where(await sdk.createKnowledgePage({ client: raw, path, body: { name: '名'.repeat(501), source_query: 'q?' } })),
      where(await sdk.createKnowledgeFolder({ client: raw, path, body: { name: 'X', parent_id: 'kf-missing' } })),
      where(await sdk.createKnowledgeFolder({ client: raw, path, body: { name: 'X', parent_id: page.page_id } })),
      where(await sdk.createKnowledgePage({ client: raw, path, body: { name: 'X' } as never })),
      where(await sdk.createKnowledgePage({ client: raw, path, body: { name: 'X', source_query: 'q?', max_tokens: 10 } })),
      where(await sdk.createKnowledgePage({ client: raw, path, body: { name: 'X', source_query: 'q?', trigger: { mode: 'delta' } } })),
      where(await sdk.createKnowledgePage({ client: raw, path, body: { name: 'page', source_query: 'q?', parent_id: folder.id } })),
      where(await sdk.getKnowledgePage({ client: raw, path: { bank_id: bankId, page_id: folder.id } })),
      where(await sdk.updateKnowledgeNode({ client: raw, path: node(page.page_id), body: {} })),
      where(await sdk.updateKnowledgeNode({ client: raw, path: node(folder.id), body: { name: 'Renamed', source_query: 'q?' } })),
      where(await sdk.updateKnowledgeNode({ client: raw, path: node(page.page_id), body: { name: 'Renamed', max_tokens: 5 } })),
      where(await sdk.updateKnowledgeNode({ client: raw, path: node(page.page_id), body: { name: 'Renamed', parent_id: page.page_id } })),
      where(await sdk.updateKnowledgeNode({ client: raw, path: node('kf-missing'), body: { name: 'Renamed' } })),
      where(await sdk.deleteKnowledgeNode({ client: raw, path: node('kf-missing') })),
      where(await sdk.searchKnowledgeBase({ client: raw, path, query: {} as never })),
      where(await sdk.searchKnowledgeBase({ client: raw, path, query: { q: 'x', limit: 0 } })),
      where(await sdk.searchKnowledgeBase({ client: raw, path, query: { q: 'x', limit: 51 } })),
    ];
    expect(answers).toEqual([
      [422, ['body', 'name']],
      [422, ['body', 'name']],
      [422, ['body', 'parent_id']],
      [422, ['body', 'parent_id']],
      [422, ['body', 'source_query']],
      [422, ['body', 'max_tokens']],
      [422, ['body', 'trigger', 'mode']],
      [409, 'string'],
      [404, 'string'],
      [422, ['body']],
      [422, ['body', 'source_query']],
      [422, ['body', 'max_tokens']],
      [422, ['body', 'parent_id']],
      [404, 'string'],
      [404, 'string'],
      [422, ['query', 'q']],
      [422, ['query', 'limit']],
      [422, ['query', 'limit']],
    ]);
    expect(await tree(bankId)).toEqual(before);
    expect((await client.listMentalModels(bankId)).items).toHaveLength(modelsBefore);
    // Reads of a bank that does not exist are empty, and create nothing.
    expect(await tree('kb-no-such-bank')).toEqual([]);
    expect((await client.exportKnowledgeBase('kb-no-such-bank')).files.map((file) => file.path)).toEqual(['index.md']);
    expect((await client.searchKnowledgeBase('kb-no-such-bank', 'anything')).results).toEqual([]);
  });
});
