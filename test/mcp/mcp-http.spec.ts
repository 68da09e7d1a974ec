import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { HindsightClient } from '@vectorize-io/hindsight-client';
import { McpSessions } from '../../src/mcp/mcp-sessions.js';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type HttpApp, call, startHttpApp } from '../http/http-app.js';

const KEY = 'mcp-test-key';

interface Backend {
  name: string;
  /** The PostgreSQL run repeats only the round trip through the database; the rest is storage-blind. */
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
  let drop: () => Promise<void>;
  let hindsight: HindsightClient;

  beforeAll(async () => {
    const target = await backend.databaseUrl();
    drop = target.drop;
    http = await startHttpApp({ DATABASE_URL: target.url, MEMORY_API_KEY: KEY, MEMORY_OPERATIONS_POLL_MS: '50' });
    hindsight = new HindsightClient({ baseUrl: http.url, apiKey: KEY });
  });

  afterAll(async () => {
    await http?.close();
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

      const reflected = json(await session.client.callTool({ name: 'reflect', arguments: { query: 'Which language does Alice prefer?' } }));
      expect(reflected.based_on.memories.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(stored.memory_ids));

      // max_tokens is honoured: a budget below one memory returns none.
      const tiny = json(await session.client.callTool({ name: 'recall', arguments: { query: 'Alice', max_tokens: 1 } }));
      expect(tiny.results).toEqual([]);
    } finally {
      await disconnect(session);
    }
  });

  if (!backend.full) return;

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
    } finally {
      await disconnect(session);
    }
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

describe('MCP turned off', () => {
  let http: HttpApp;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/mcp-off-${randomUUID()}`, MEMORY_MCP_ENABLED: 'false' });
  });

  afterAll(async () => {
    await http?.close();
  });

  it('MEMORY_MCP_ENABLED=false leaves /mcp out of the server, the REST API in', async () => {
    expect((await call(http.url, 'POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(404);
    expect((await call(http.url, 'GET', '/v1/default/banks')).status).toBe(200);
  });
});
