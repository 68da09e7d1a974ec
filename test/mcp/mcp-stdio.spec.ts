import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { eventually } from '../helpers/eventually.js';

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
 * The `nestjs-memory mcp` bin over stdio, as a desktop client starts it: the built code, spawned
 * once (`npm test` builds first). The HTTP sessions' shutdown is tested in process, in
 * mcp-http.spec.ts, and the standalone server's SIGTERM wiring in test/e2e/standalone.spec.ts.
 */
describe('MCP over stdio (nestjs-memory mcp)', () => {
  it('serves one bank with --bank: tools listed, retain then recall, bad input refused, logs on stderr only', async () => {
    const bank = `stdio-${randomUUID()}`;
    const { client, transport, stderr } = stdioClient(['--bank', bank]);
    // Any stray line on stdout would break the protocol: the client reports it through onerror.
    const protocolErrors: Error[] = [];
    client.onerror = (error) => protocolErrors.push(error);
    await client.connect(transport);
    // The transport reports the process's 'close' (exited, its pipes read to the end) here.
    // `client.close()` stops waiting for it after two seconds, which a loaded machine can take:
    // the test waits, or the process and its pipes outlive the test file and keep Jest's worker
    // from exiting.
    const exited = new Promise<void>((resolve) => (client.onclose = resolve));
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(
        expect.arrayContaining(['retain', 'sync_retain', 'recall', 'reflect', 'list_memories', 'update_memory', 'invalidate_memory']),
      );
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
      await exited;
    }
    // Closing stdin is how the client ends the session: the process shuts down cleanly.
    await eventually(stderr, (text) => text.includes('Stopping (stdin closed)') && text.includes("Shutdown step 'database' done"));
  });
});
