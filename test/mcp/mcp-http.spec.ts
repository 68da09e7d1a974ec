import { createHash, randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { HindsightClient, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { ShutdownCoordinator } from '../../src/lifecycle/shutdown-coordinator.js';
import { McpSessions } from '../../src/mcp/mcp-sessions.js';
import { eventually } from '../helpers/eventually.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type HttpApp, call, startHttpApp } from '../http/http-app.js';

const KEY = 'mcp-test-key';

/** Hindsight 0.9.1's MCP tools (hindsight_api/mcp_tools.py); it has no others in that release. */
const HINDSIGHT_TOOLS = [
  'retain',
  'sync_retain',
  'recall',
  'reflect',
  'list_banks',
  'create_bank',
  'list_mental_models',
  'get_mental_model',
  'create_mental_model',
  'update_mental_model',
  'delete_mental_model',
  'refresh_mental_model',
  'clear_mental_model',
  'list_directives',
  'create_directive',
  'delete_directive',
  'list_memories',
  'get_memory',
  'update_memory',
  'invalidate_memory',
  'list_documents',
  'get_document',
  'delete_document',
  'list_operations',
  'get_operation',
  'cancel_operation',
  'list_tags',
  'get_bank',
  'get_bank_stats',
  'update_bank',
  'delete_bank',
  'clear_memories',
];

/** The arguments of Hindsight 0.9.1's tools whose argument lists changed since the first MCP release. */
const HINDSIGHT_TOOL_ARGUMENTS: Record<string, string[]> = {
  retain: ['content', 'context', 'timestamp', 'tags', 'metadata', 'document_id', 'strategy', 'update_mode'],
  sync_retain: ['content', 'context', 'timestamp', 'tags', 'metadata', 'document_id', 'strategy'],
  recall: [
    'query',
    'max_tokens',
    'budget',
    'types',
    'prefer_observations',
    'tags',
    'tags_match',
    'tag_groups',
    'query_timestamp',
    'min_scores',
  ],
  reflect: [
    'query',
    'context',
    'budget',
    'max_tokens',
    'response_schema',
    'tags',
    'tags_match',
    'apply_all_directives',
    'include_based_on',
    'include_trace',
  ],
  list_mental_models: ['tags', 'detail'],
  get_mental_model: ['mental_model_id', 'detail'],
  create_mental_model: [
    'name',
    'source_query',
    'mental_model_id',
    'tags',
    'tags_match',
    'max_tokens',
    'trigger_refresh_after_consolidation',
  ],
  update_memory: ['memory_id', 'text', 'context', 'occurred_start', 'occurred_end', 'fact_type', 'entities'],
  invalidate_memory: ['memory_id', 'reason', 'restore'],
  list_memories: ['type', 'q', 'limit', 'offset', 'tags', 'tags_match'],
  update_bank: ['name', 'mission', 'config_updates'],
};

interface Backend {
  name: string;
  /**
   * The PostgreSQL run repeats only the round trip through the database, the rest being
   * storage-blind, then shuts its app down with a request in flight (embedded by a fake OpenAI
   * server that can hold it).
   */
  full: boolean;
  databaseUrl(): Promise<{ url: string; drop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'PGlite',
    full: true,
    databaseUrl: async () => ({ url: `pglite://memory/mcp-http-${randomUUID()}`, drop: async () => undefined }),
  },
  {
    name: 'PostgreSQL',
    full: false,
    databaseUrl: async () => {
      const database = await createTestDatabase('mcp_http');
      return { url: database.url, drop: () => dropTestDatabase(database.name) };
    },
  },
];

async function connect(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(path, base), {
    requestInit: { headers: { authorization: `Bearer ${KEY}`, ...headers } },
  });
  const client = new Client({ name: 'mcp-http-spec', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Ends the session on the server too (`DELETE`), as a well-behaved client does. */
async function disconnect(session: { client: Client; transport: StreamableHTTPClientTransport }): Promise<void> {
  await session.transport.terminateSession();
  await session.client.close();
}

function json(result: unknown): any {
  const content = (result as CallToolResult).content;
  expect(content[0].type).toBe('text');
  return JSON.parse((content[0] as { text: string }).text);
}

function errorText(result: unknown): string {
  const typed = result as CallToolResult;
  expect(typed.isError).toBe(true);
  return (typed.content[0] as { text: string }).text;
}

/**
 * The MCP server over streamable HTTP, driven by the official SDK's client against the standalone
 * server's app in process; what it stores is read back through Hindsight's own HTTP client.
 */
describe.each(BACKENDS)('MCP over streamable HTTP on $name', (backend) => {
  let http: HttpApp;
  let databaseUrl: string;
  let embedder: Record<string, string> = {};
  let drop: () => Promise<void>;
  let hindsight: HindsightClient;
  let raw: ReturnType<typeof createClient>;
  let fake: FakeOpenAiServer | undefined;
  let closed = false;

  beforeAll(async () => {
    const target = await backend.databaseUrl();
    databaseUrl = target.url;
    drop = target.drop;
    if (!backend.full) {
      fake = await FakeOpenAiServer.start({ embeddingDimension: 64 });
      embedder = { MEMORY_EMBEDDER: 'openai', MEMORY_EMBEDDING_DIM: '64', OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'fake' };
    }
    http = await startHttpApp({ DATABASE_URL: target.url, MEMORY_API_KEY: KEY, MEMORY_OPERATIONS_POLL_MS: '50', ...embedder });
    hindsight = new HindsightClient({ baseUrl: http.url, apiKey: KEY });
    raw = createClient(createConfig({ baseUrl: http.url, headers: { authorization: `Bearer ${KEY}` } }));
  });

  afterAll(async () => {
    if (!closed) await http?.close();
    await fake?.close();
    await drop?.();
  });

  it('sync_retain then recall on /mcp/{bank_id}/ answers what the HTTP API answers', async () => {
    const bank = `mcp-${randomUUID()}`;
    const session = await connect(http.url, `/mcp/${bank}/`);
    try {
      const stored = json(
        await session.client.callTool({
          name: 'sync_retain',
          arguments: { content: 'Alice prefers Rust over Go for systems programming.', tags: ['lang'] },
        }),
      );
      expect(stored).toMatchObject({ status: 'completed' });
      expect(stored.memory_ids.length).toBeGreaterThan(0);

      const recalled = json(await session.client.callTool({ name: 'recall', arguments: { query: 'Which language does Alice prefer?' } }));
      const viaHttp = await hindsight.recall(bank, 'Which language does Alice prefer?', { budget: 'high' });
      expect(recalled.results.map((r: { id: string }) => r.id)).toEqual(viaHttp.results.map((r) => r.id));
      expect(recalled.results[0].text).toContain('Rust');

      const reflected = json(
        await session.client.callTool({
          name: 'reflect',
          arguments: { query: 'Which language does Alice prefer?', include_based_on: true },
        }),
      );
      expect(reflected.based_on.memories.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(stored.memory_ids));

      // max_tokens is honoured: a budget below one memory returns none.
      const tiny = json(await session.client.callTool({ name: 'recall', arguments: { query: 'Alice', max_tokens: 1 } }));
      expect(tiny.results).toEqual([]);
    } finally {
      await disconnect(session);
    }
  });

  if (!backend.full) {
    it('at shutdown lets a request in flight finish, refuses new ones, and closes the sessions between readiness and operations', async () => {
      const sessions = http.app.get(McpSessions);
      const coordinator = http.app.get(ShutdownCoordinator);
      const clients = await Promise.all([0, 1, 2].map((i) => connect(http.url, `/mcp/shutdown-${i}-${randomUUID().slice(0, 8)}/`)));
      for (const { client } of clients) client.onerror = () => undefined;
      json(await clients[0].client.callTool({ name: 'sync_retain', arguments: { content: 'Owls hunt at night.' } }));

      // A recall held at its query embedding is in flight when the app starts closing, as on SIGTERM.
      const release = fake!.pause('embeddings');
      const embeddingsBefore = fake!.requestCount('embeddings');
      const inFlight = clients[0].client.callTool({ name: 'recall', arguments: { query: 'When do owls hunt?' } }).then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await eventually(
        () => fake!.requestCount('embeddings'),
        (count) => count > embeddingsBefore,
      );
      const closing = http.app.close();
      closed = true;
      await eventually(
        () => coordinator.isShuttingDown,
        (shuttingDown) => shuttingDown,
      );
      const refused = await clients[1].client.callTool({ name: 'list_memories', arguments: {} }).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      expect(refused).toMatch(/shutting down/);
      release();

      const finished = await inFlight;
      expect(finished.ok).toBe(true);
      if (finished.ok) expect(json(finished.result).results[0].text).toContain('Owls');
      await closing;
      // The one teardown run app.close() started, its steps in the order they ran.
      const steps = (await coordinator.shutdown()).map((step) => `${step.stage}/${step.name}`);
      const order = [
        steps.findIndex((step) => step.startsWith('readiness/')),
        steps.indexOf('scheduler/mcp-sessions'),
        steps.findIndex((step) => step.startsWith('operations/')),
      ];
      expect(order.every((index) => index >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(sessions.openSessions).toBe(0);
      await Promise.all(clients.map(({ client }) => client.close().catch(() => undefined)));
    });

    // On this database, migrated already, the cheapest second app this file can boot.
    describe('with MCP turned off', () => {
      let off: HttpApp;

      beforeAll(async () => {
        off = await startHttpApp({ DATABASE_URL: databaseUrl, MEMORY_MCP_ENABLED: 'false', ...embedder });
      });

      afterAll(async () => {
        await off?.close();
      });

      it('MEMORY_MCP_ENABLED=false leaves /mcp out of the server, the REST API in, and /version says so', async () => {
        expect((await call(off.url, 'POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(404);
        expect((await call(off.url, 'GET', '/v1/default/banks')).status).toBe(200);
        expect(await new HindsightClient({ baseUrl: off.url }).getVersion()).toMatchObject({ features: { mcp: false } });
      });
    });
    return;
  }

  it('/version reports mcp: true where /mcp is served', async () => {
    expect(await hindsight.getVersion()).toMatchObject({ features: { mcp: true } });
  });

  it('lists Hindsight tools: bank implicit on /mcp/{bank_id}/, bank_id and bank tools on /mcp', async () => {
    const single = await connect(http.url, '/mcp/some-bank/');
    const multi = await connect(http.url, '/mcp');
    try {
      const singleTools = (await single.client.listTools()).tools;
      const multiTools = (await multi.client.listTools()).tools;
      const names = singleTools.map((tool) => tool.name);
      for (const name of [
        'retain',
        'sync_retain',
        'recall',
        'reflect',
        'list_memories',
        'list_documents',
        'list_mental_models',
        'list_operations',
        'list_tags',
        'get_bank',
      ])
        expect(names).toContain(name);
      expect(names).not.toContain('list_banks');
      expect(singleTools.find((tool) => tool.name === 'recall')!.inputSchema.properties).not.toHaveProperty('bank_id');
      expect(singleTools.find((tool) => tool.name === 'recall')!.annotations).toMatchObject({ readOnlyHint: true });
      for (const tool of singleTools) expect(tool.description!.length).toBeGreaterThan(20);

      const multiNames = multiTools.map((tool) => tool.name);
      expect(multiNames).toEqual(expect.arrayContaining(['list_banks', 'create_bank', 'get_bank_stats', ...names]));
      expect(multiTools.find((tool) => tool.name === 'recall')!.inputSchema.properties).toHaveProperty('bank_id');

      // Hindsight 0.9.1's tools, every one whose operation this server has, under its argument names.
      expect([...multiNames].sort()).toEqual([...HINDSIGHT_TOOLS].sort());
      for (const [name, args] of Object.entries(HINDSIGHT_TOOL_ARGUMENTS)) {
        const properties = Object.keys(multiTools.find((tool) => tool.name === name)!.inputSchema.properties ?? {});
        expect(properties.filter((arg) => arg !== 'bank_id').sort()).toEqual([...args].sort());
      }
    } finally {
      await disconnect(single);
      await disconnect(multi);
    }
  });

  it('on /mcp, X-Bank-Id is the bank of tools called without bank_id; retain runs in the background', async () => {
    const bank = `mcp-header-${randomUUID()}`;
    const other = `mcp-other-${randomUUID()}`;
    const session = await connect(http.url, '/mcp', { 'x-bank-id': bank });
    try {
      const accepted = json(await session.client.callTool({ name: 'retain', arguments: { content: 'Bob moved to Lisbon in 2021.' } }));
      expect(accepted).toMatchObject({ status: 'accepted' });
      await eventually(
        async () =>
          json(await session.client.callTool({ name: 'get_operation', arguments: { operation_id: accepted.operation_id } })).status,
        (status) => status === 'completed',
      );
      expect((await hindsight.listMemories(bank)).items.map((item: { text?: string }) => item.text).join(' ')).toContain('Lisbon');

      json(await session.client.callTool({ name: 'create_bank', arguments: { bank_id: other, name: 'Other' } }));
      json(await session.client.callTool({ name: 'sync_retain', arguments: { bank_id: other, content: 'Carol plays the cello.' } }));
      const banks = json(await session.client.callTool({ name: 'list_banks', arguments: {} })).banks.map(
        (b: { bank_id: string }) => b.bank_id,
      );
      expect(banks).toEqual(expect.arrayContaining([bank, other]));
      expect((await hindsight.listMemories(other)).items).toHaveLength(1);
      const stats = json(await session.client.callTool({ name: 'get_bank_stats', arguments: { bank_id: other } }));
      expect(stats.total_nodes ?? stats.node_counts).toBeDefined();
    } finally {
      await disconnect(session);
    }
  });

  it('manages directives as /v1 stores them', async () => {
    const bank = `mcp-directives-${randomUUID()}`;
    const session = await connect(http.url, `/mcp/${bank}/`);
    try {
      const created = json(
        await session.client.callTool({ name: 'create_directive', arguments: { name: 'French', content: 'Always answer in French.' } }),
      );
      const listed = await call(http.url, 'GET', `/v1/default/banks/${bank}/directives`, undefined, { authorization: `Bearer ${KEY}` });
      expect(listed.body.items).toEqual([created]);
      expect(json(await session.client.callTool({ name: 'list_directives', arguments: {} })).items).toEqual([created]);
      expect(errorText(await session.client.callTool({ name: 'delete_directive', arguments: { directive_id: randomUUID() } }))).toMatch(
        /not found/i,
      );
      expect(json(await session.client.callTool({ name: 'delete_directive', arguments: { directive_id: created.id } }))).toEqual({
        status: 'deleted',
      });
      expect(json(await session.client.callTool({ name: 'list_directives', arguments: {} })).items).toEqual([]);

      // The two writes are audited under the tools' names and the key's fingerprint; the refused
      // delete wrote nothing, so it left no entry.
      const { data } = await sdk.listAuditLogs({ client: raw, path: { bank_id: bank } });
      const fingerprint = `api-key:${createHash('sha256').update(KEY).digest('hex').slice(0, 12)}`;
      expect(data!.items.map((entry) => [entry.action, entry.transport, entry.metadata.actor]).sort()).toEqual([
        ['create_directive', 'mcp', fingerprint],
        ['delete_directive', 'mcp', fingerprint],
      ]);
      expect(JSON.stringify(data)).not.toContain('Always answer in French');
      expect(JSON.stringify(data)).not.toContain(KEY);
    } finally {
      await disconnect(session);
    }
  });

  describe("Hindsight's newer tools and arguments, answered as /v1 answers", () => {
    const bank = `mcp-parity-${randomUUID()}`;
    let session: { client: Client; transport: StreamableHTTPClientTransport };
    const tool = async (name: string, args: Record<string, unknown> = {}) => session.client.callTool({ name, arguments: args });

    beforeAll(async () => {
      session = await connect(http.url, `/mcp/${bank}/`);
    });

    afterAll(async () => {
      await disconnect(session);
    });

    it('update_memory and invalidate_memory edit as PATCH …/memories/{id} does; a bad date changes nothing', async () => {
      const [id] = json(await tool('sync_retain', { content: 'Erin lives in Oslo.' })).memory_ids;
      const read = async () => (await sdk.getMemory({ client: raw, path: { bank_id: bank, memory_id: id } })).data as any;
      const before = await read();
      expect(errorText(await tool('update_memory', { memory_id: id, text: 'Erin lives in Rome.', occurred_start: 'someday' }))).toMatch(
        /occurred_start/,
      );
      expect(await read()).toEqual(before);

      const edited = json(
        await tool('update_memory', { memory_id: id, text: 'Erin lives in Bergen.', occurred_start: '2024-03-01T00:00:00Z' }),
      );
      expect(edited).toMatchObject({
        id,
        text: 'Erin lives in Bergen.',
        occurred_start: '2024-03-01T00:00:00.000Z',
        edited_at: expect.any(String),
      });
      // The read routes show the edit's stamp, as the edit's own answer does.
      expect(await read()).toMatchObject({
        text: 'Erin lives in Bergen.',
        occurred_start: '2024-03-01T00:00:00.000Z',
        edited_at: edited.edited_at,
        invalidated_at: null,
      });

      expect(json(await tool('invalidate_memory', { memory_id: id, reason: 'moved again' }))).toMatchObject({
        state: 'invalidated',
        invalidation_reason: 'moved again',
      });
      const invalidated = await read();
      expect(invalidated).toMatchObject({ state: 'invalidated', invalidation_reason: 'moved again', invalidated_at: expect.any(String) });
      const listed = (await sdk.listMemories({ client: raw, path: { bank_id: bank }, query: { state: 'invalidated' } as any })).data as any;
      expect(listed.items.find((item: { id: string }) => item.id === id)).toMatchObject({
        invalidation_reason: 'moved again',
        invalidated_at: invalidated.invalidated_at,
        edited_at: edited.edited_at,
      });
      expect(json(await tool('invalidate_memory', { memory_id: id, restore: true }))).toMatchObject({ state: 'valid' });
      expect(errorText(await tool('invalidate_memory', { memory_id: randomUUID() }))).toMatch(/not found/i);
    });

    it('recall takes tag_groups, prefer_observations and min_scores, list_memories tags, as the HTTP routes do', async () => {
      await tool('sync_retain', { content: 'Frank plays the drums in the team band.', tags: ['team:a'] });
      await tool('sync_retain', { content: 'Gina plays the violin in the team band.', tags: ['team:b'] });
      const options = { tag_groups: [{ tags: ['team:a'], match: 'any_strict' }], prefer_observations: true, min_scores: { final: 0 } };
      const viaMcp = json(await tool('recall', { query: 'Who plays in the band?', ...options }));
      const viaHttp = await hindsight.recall(bank, 'Who plays in the band?', {
        budget: 'high',
        tagGroups: [{ tags: ['team:a'], match: 'any_strict' }],
        preferObservations: true,
        minScores: { final: 0 },
      });
      expect(viaMcp).toEqual(viaHttp);
      expect(viaMcp.results.map((r: { text: string }) => r.text)).toEqual([expect.stringContaining('drums')]);

      const listed = json(await tool('list_memories', { tags: ['team:b'], tags_match: 'any_strict' })).items;
      expect(listed.map((m: { text: string }) => m.text)).toEqual([expect.stringContaining('violin')]);

      expect(errorText(await tool('recall', { query: 'band', tag_groups: [{ match: 'any' }] }))).toMatch(/tag_groups/);
      expect(errorText(await tool('recall', { query: 'band', min_scores: { final: 'high' } }))).toMatch(/min_scores/);
    });

    it('reflect answers what POST …/reflect answers, with based_on and trace only when asked', async () => {
      const query = 'Where does Erin live?';
      const plain = json(await tool('reflect', { query }));
      expect(plain).not.toHaveProperty('based_on');
      expect(plain).toMatchObject({ text: expect.any(String), usage: { input_tokens: expect.any(Number) }, extractive: true });
      const full = json(await tool('reflect', { query, include_based_on: true, include_trace: true }));
      const viaHttp = await hindsight.reflect(bank, query, { includeFacts: true, includeToolCalls: true });
      expect(Object.keys(full).sort()).toEqual(Object.keys(viaHttp).sort());
      expect(full.based_on).toEqual(viaHttp.based_on);
      expect(errorText(await tool('reflect', { query, response_schema: { type: 'object' } }))).toMatch(/response_schema/);
    });

    it('mental models answer as /v1 does, is_stale and trigger included; bad input creates nothing', async () => {
      expect(errorText(await tool('create_mental_model', { name: 'Tiny', source_query: 'Who plays?', max_tokens: 10 }))).toMatch(
        /max_tokens/,
      );
      expect(
        errorText(await tool('create_mental_model', { name: 'Odd', source_query: 'Who plays?', mental_model_id: 'Not An Id' })),
      ).toMatch(/id/);
      expect((await hindsight.listMentalModels(bank)).items).toEqual([]);

      const created = json(
        await tool('create_mental_model', { name: 'Band', source_query: 'Who plays in the band?', tags: ['team:a'], tags_match: 'any' }),
      );
      expect(created).toEqual({ mental_model_id: expect.any(String), operation_id: expect.any(String) });
      await eventually(
        async () => json(await tool('get_operation', { operation_id: created.operation_id })).status,
        (status) => status === 'completed',
      );
      const viaMcp = json(await tool('get_mental_model', { mental_model_id: created.mental_model_id }));
      expect(viaMcp).toEqual(await hindsight.getMentalModel(bank, created.mental_model_id));
      expect(viaMcp).toMatchObject({ is_stale: false, trigger: { tags_match: 'any', refresh_after_consolidation: false } });
      expect(json(await tool('list_mental_models', { detail: 'metadata' }))).toEqual(
        await hindsight.listMentalModels(bank, { detail: 'metadata' }),
      );
      expect(json(await tool('delete_mental_model', { mental_model_id: created.mental_model_id }))).toEqual({ status: 'deleted' });
    });

    it('update_bank takes config_updates as PATCH …/config does; an unknown key changes nothing', async () => {
      json(await tool('update_bank', { mission: 'Help the band.', config_updates: { retain_mission: 'Only the band.' } }));
      expect((await hindsight.getBankConfig(bank)).config).toMatchObject({
        retain_mission: 'Only the band.',
        reflect_mission: 'Help the band.',
      });
      expect(errorText(await tool('update_bank', { name: 'Renamed', config_updates: { no_such_setting: 1 } }))).toMatch(/no_such_setting/);
      expect((await hindsight.getBankProfile(bank)).name).not.toBe('Renamed');
    });
  });

  it('answers a wrong or missing key with 401 before any session exists', async () => {
    for (const headers of [{ authorization: 'Bearer wrong' }, { authorization: '' }]) {
      const response = await fetch(`${http.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
        }),
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'Invalid API key' });
    }
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', http.url), {
      requestInit: { headers: { authorization: 'Bearer wrong' } },
    });
    await expect(new Client({ name: 'x', version: '1' }).connect(transport)).rejects.toMatchObject({ code: 401 });
    expect(http.app.get(McpSessions).openSessions).toBe(0);
  });

  it('answers an unknown tool, bad arguments and a missing session as MCP errors, writing nothing', async () => {
    const bank = `mcp-bad-${randomUUID()}`;
    await hindsight.createBank(bank, {});
    const session = await connect(http.url, `/mcp/${bank}/`);
    try {
      expect(errorText(await session.client.callTool({ name: 'no_such_tool', arguments: {} }))).toMatch(/no_such_tool not found/);
      expect(errorText(await session.client.callTool({ name: 'sync_retain', arguments: { content: '' } }))).toMatch(/content/);
      expect(
        errorText(await session.client.callTool({ name: 'sync_retain', arguments: { content: 'x', timestamp: 'yesterday-ish' } })),
      ).toMatch(/timestamp/);
      expect(errorText(await session.client.callTool({ name: 'retain', arguments: { content: 'x', tags: 'not-a-list' } }))).toMatch(/tags/);
      expect(errorText(await session.client.callTool({ name: 'retain', arguments: { content: 'x', strategy: 'exact' } }))).toMatch(
        /^strategy/,
      );
      expect(errorText(await session.client.callTool({ name: 'retain', arguments: { content: 'x', update_mode: 'append' } }))).toMatch(
        /^update_mode/,
      );
      expect(errorText(await session.client.callTool({ name: 'recall', arguments: { query: 'x', max_tokens: 'lots' } }))).toMatch(
        /max_tokens/,
      );
      expect(errorText(await session.client.callTool({ name: 'recall', arguments: { query: 'x', budget: 'infinite' } }))).toMatch(/budget/);
      expect(errorText(await session.client.callTool({ name: 'get_operation', arguments: { operation_id: 'nope' } }))).toMatch(
        /operation_id/,
      );
      expect(errorText(await session.client.callTool({ name: 'get_memory', arguments: { memory_id: randomUUID() } }))).toMatch(
        /not found/i,
      );
      const ghost = await connect(http.url, `/mcp/${bank}-ghost/`);
      try {
        expect(errorText(await ghost.client.callTool({ name: 'recall', arguments: { query: 'x' } }))).toBe(
          `Bank '${bank}-ghost' not found`,
        );
      } finally {
        await disconnect(ghost);
      }
      // The session survived every refusal.
      expect(json(await session.client.callTool({ name: 'list_memories', arguments: {} })).items).toEqual([]);
      expect((await hindsight.listMemories(bank)).items).toEqual([]);
      expect(
        (await call(http.url, 'GET', `/v1/default/banks/${bank}/operations`, undefined, { authorization: `Bearer ${KEY}` })).body.total,
      ).toBe(0);
    } finally {
      await disconnect(session);
    }
    const stale = await call(
      http.url,
      'POST',
      `/mcp/${bank}/`,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      {
        authorization: `Bearer ${KEY}`,
        accept: 'application/json, text/event-stream',
        'mcp-session-id': randomUUID(),
      },
    );
    expect(stale.status).toBe(404);
    expect(stale.body.error.message).toMatch(/Session not found/);
    const sessionless = await call(
      http.url,
      'POST',
      '/mcp',
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      {
        authorization: `Bearer ${KEY}`,
        accept: 'application/json, text/event-stream',
      },
    );
    expect(sessionless.status).toBe(400);
  });

  it('serves 20 concurrent sessions, each in its own bank, and releases them on DELETE', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connect(http.url, `/mcp/mcp-many-${i}-${randomUUID().slice(0, 8)}/`)),
    );
    try {
      expect(http.app.get(McpSessions).openSessions).toBeGreaterThanOrEqual(20);
      const answers = await Promise.all(
        sessions.map(async (session, i) => {
          await session.client.callTool({ name: 'sync_retain', arguments: { content: `Session ${i} owns the parrot number ${i}.` } });
          return json(await session.client.callTool({ name: 'list_memories', arguments: {} })).items.map((m: { text: string }) => m.text);
        }),
      );
      answers.forEach((texts: string[], i) => {
        expect(texts).toHaveLength(1);
        expect(texts[0]).toContain(`number ${i}`);
      });
    } finally {
      await Promise.all(sessions.map(disconnect));
    }
    expect(http.app.get(McpSessions).openSessions).toBe(0);
  });
});
