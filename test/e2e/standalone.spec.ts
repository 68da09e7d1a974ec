import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../helpers/embedded-postgres-server.mjs';
import { createTestDatabase, dropTestDatabase, openSessions } from '../helpers/postgres.js';
import { eventually } from '../helpers/eventually.js';
import { runStandaloneToExit, shutdownStepLines, startStandalone } from '../helpers/standalone-server.js';
import { STEP_STAGES_OF_THE_STANDALONE_SERVER } from '../helpers/shutdown-steps.js';

describe('standalone server (npm start)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'memory-e2e-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves both health probes on embedded PGlite, and on SIGTERM tears down in order and exits 0', async () => {
    const server = await startStandalone({ DATABASE_URL: `pglite://${dataDir}/db` });
    const live = await fetch(`${server.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive', version: expect.any(String), uptime_seconds: expect.any(Number) });
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { memory: { status: 'up', state: 'ready' } } });
    // Agents' MCP sessions open at SIGTERM are closed by the shutdown, not waited for.
    const agents = await Promise.all(
      ['first', 'second'].map(async (name) => {
        const client = new Client({ name: `e2e-${name}`, version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', server.url)));
        expect((await client.listTools()).tools.length).toBeGreaterThan(0);
        return client;
      }),
    );

    const code = await server.stop('SIGTERM');
    expect(code).toBe(0);
    expect(server.output()).toContain('Closed 2 MCP session(s)');
    await expect(agents[0].listTools()).rejects.toThrow();
    await Promise.all(agents.map((client) => client.close()));
    const steps = shutdownStepLines(server.output());
    const everyStage = [...STEP_STAGES_OF_THE_STANDALONE_SERVER];
    expect(steps.filter((line) => line.endsWith('started'))).toEqual(everyStage.map((stage) => `Shutdown step '${stage}' started`));
    expect(steps.filter((line) => / done in \d+ms$/.test(line))).toHaveLength(everyStage.length);
  });

  it('on PostgreSQL leaves no session behind after SIGTERM', async () => {
    const database = await createTestDatabase('standalone');
    const server = await startStandalone({ DATABASE_URL: database.url, MEMORY_DB_POOL_SIZE: '3' });
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    expect(await openSessions(database.name)).toBeGreaterThan(0);
    expect(await server.stop('SIGINT')).toBe(0);
    await eventually(
      () => openSessions(database.name),
      (count) => count === 0,
    );
    await dropTestDatabase(database.name);
  });

  it('exits 1 with the original error when the database cannot be reached, after tearing down', async () => {
    const port = await freePort();
    const { code, output } = await runStandaloneToExit({
      DATABASE_URL: `postgres://memory:hunter2@127.0.0.1:${port}/memory`,
      MEMORY_DB_CONNECT_ATTEMPTS: '2',
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /Startup failed: DatabaseConnectError|Startup failed: Error: Could not connect to postgres:\/\/memory:\*\*\*@127\.0\.0\.1:\d+\/memory after 2 attempts/,
    );
    expect(output).not.toContain('hunter2');
    expect(shutdownStepLines(output)).toEqual([
      "Shutdown step 'database' started",
      expect.stringMatching(/^Shutdown step 'database' done in \d+ms$/),
    ]);
  });

  it('logs one JSON object per line with MEMORY_LOG_FORMAT=json, one per request with its request id', async () => {
    const server = await startStandalone({ DATABASE_URL: 'pglite://memory', MEMORY_LOG_FORMAT: 'json' });
    const response = await fetch(`${server.url}/v1/default/banks`, { headers: { 'X-Request-Id': 'trace-42' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    expect(await server.stop('SIGTERM')).toBe(0);
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.trim());
    const entries = lines.map((line) => JSON.parse(line) as { message: string; level: string });
    expect(entries.some((entry) => /^GET \/v1\/default\/banks 200 \d+ms request_id=trace-42$/.test(entry.message))).toBe(true);
    expect(entries.filter((entry) => /^Shutdown step '[a-z-]+' started$/.test(entry.message)).length).toBeGreaterThan(0);
  });

  it('exits 1 naming the variable when the environment is invalid', async () => {
    const { code, output } = await runStandaloneToExit({ PORT: 'eighty', DATABASE_URL: 'pglite://memory' });
    expect(code).toBe(1);
    expect(output).toMatch(/Invalid environment: PORT: /);
  });
});
