import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '../helpers/eventually.js';
import { FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';

const CLI = path.resolve('dist/src/cli.js');

function json(result: unknown): any {
  return JSON.parse(((result as CallToolResult).content[0] as { text: string }).text);
}

function stdioClient(args: string[]): { client: Client; transport: StdioClientTransport; stderr: () => string } {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', ...args],
    env: { DATABASE_URL: `pglite://memory/mcp-stdio-${randomUUID()}`, NO_COLOR: '1' },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { client: new Client({ name: 'mcp-stdio-spec', version: '1.0.0' }), transport, stderr: () => stderr };
}

/**
 * The `nestjs-memory mcp` bin over stdio, as a desktop client starts it, and the standalone
 * server's MCP sessions at SIGTERM. Both spawn the built code (`npm test` builds first).
 */
describe('MCP over stdio (nestjs-memory mcp)', () => {
  it('serves one bank with --bank: tools listed, retain then recall, bad input refused, logs on stderr only', async () => {
    const bank = `stdio-${randomUUID()}`;
    const { client, transport, stderr } = stdioClient(['--bank', bank]);
    // Any stray line on stdout would break the protocol: the client reports it through onerror.
    const protocolErrors: Error[] = [];
    client.onerror = (error) => protocolErrors.push(error);
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(['retain', 'sync_retain', 'recall', 'reflect', 'list_memories']));
      expect(names).not.toContain('list_banks');

      expect(json(await client.callTool({ name: 'sync_retain', arguments: { content: 'Dana keeps bees in her garden.' } }))).toMatchObject({
        status: 'completed',
      });
      const recalled = json(await client.callTool({ name: 'recall', arguments: { query: 'What does Dana keep?' } }));
      expect(recalled.results[0].text).toContain('bees');

      const refused = (await client.callTool({ name: 'sync_retain', arguments: { content: '' } })) as CallToolResult;
      expect(refused.isError).toBe(true);
      const unknown = (await client.callTool({ name: 'nope', arguments: {} })) as CallToolResult;
      expect(unknown.isError).toBe(true);
      expect(json(await client.callTool({ name: 'list_memories', arguments: {} })).items).toHaveLength(1);
      expect(json(await client.callTool({ name: 'get_bank', arguments: {} })).bank_id).toBe(bank);
      expect(protocolErrors).toEqual([]);
      await eventually(stderr, (text) => text.includes(`MCP server on stdio, bank ${bank}`));
    } finally {
      await client.close();
    }
    // Closing stdin is how the client ends the session: the process shuts down cleanly.
    await eventually(stderr, (text) => text.includes('Stopping (stdin closed)') && text.includes("Shutdown step 'database' done"));
  });
});

describe('MCP sessions at SIGTERM (standalone server)', () => {
  let server: StandaloneServer | undefined;
  let fake: FakeOpenAiServer | undefined;

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
  });

  it('lets a request in flight finish, refuses new ones, and closes open sessions between readiness and operations', async () => {
    fake = await FakeOpenAiServer.start({ embeddingDimension: 64 });
    server = await startStandalone({
      DATABASE_URL: `pglite://memory/mcp-sigterm-${randomUUID()}`,
      MEMORY_API_KEY: 'k',
      MEMORY_EMBEDDER: 'openai',
      MEMORY_EMBEDDING_DIM: '64',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'fake',
    });
    const clients = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const transport = new StreamableHTTPClientTransport(new URL(`/mcp/sigterm-${i}/`, server!.url), {
          requestInit: { headers: { authorization: 'Bearer k' } },
        });
        const client = new Client({ name: 'sigterm', version: '1' });
        client.onerror = () => undefined;
        await client.connect(transport);
        return client;
      }),
    );
    json(await clients[0].callTool({ name: 'sync_retain', arguments: { content: 'Owls hunt at night.' } }));

    // A recall held at its query embedding is in flight when SIGTERM arrives.
    const release = fake.pause('embeddings');
    const embeddingsBefore = fake.requestCount('embeddings');
    const inFlight = clients[0].callTool({ name: 'recall', arguments: { query: 'When do owls hunt?' } });
    const inFlightSettled = inFlight.then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await eventually(
      () => fake!.requestCount('embeddings'),
      (count) => count > embeddingsBefore,
    );
    const exited = server.stop('SIGTERM');
    await eventually(server.output, (output) => output.includes("Shutdown step 'scheduler' started"));
    const refused = await clients[1].callTool({ name: 'list_memories', arguments: {} }).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/shutting down/);
    release();

    const finished = await inFlightSettled;
    expect(finished.ok).toBe(true);
    if (finished.ok) expect(json(finished.result).results[0].text).toContain('Owls');
    expect(await exited).toBe(0);
    const output = server.output();
    const order = ["Shutdown step 'readiness' started", 'Closed 3 MCP session(s)', "Shutdown step 'operations' started"].map((line) =>
      output.indexOf(line),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  });
});
