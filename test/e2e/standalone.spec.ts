import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '../helpers/embedded-postgres-server.mjs';
import { createTestDatabase, dropTestDatabase, openSessions } from '../helpers/postgres.js';
import { eventually } from '../helpers/eventually.js';
import { runStandaloneToExit, shutdownStepLines, type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';
import { STEP_STAGES_OF_THE_STANDALONE_SERVER } from '../helpers/shutdown-steps.js';
import { CONSOLE_ROOT, ConsoleController } from '../../src/http/controllers/console.controller.js';

describe('standalone server (npm start)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'memory-e2e-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves both health probes on embedded PGlite, and on SIGTERM tears down in order and exits 0', async () => {
    // A misspelt setting is named at startup rather than silently doing nothing.
    const server = await startStandalone({ DATABASE_URL: `pglite://${dataDir}/db`, MEMORY_EMBEDING_DIM: '768' });
    expect(server.output()).toMatch(/WARN.*MEMORY_EMBEDING_DIM is set but is not a setting of this server, so it is ignored/);
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
    // The console is turned off here too, so this boot also shows MEMORY_CONSOLE_ENABLED=false at work.
    const server = await startStandalone({ DATABASE_URL: 'pglite://memory', MEMORY_LOG_FORMAT: 'json', MEMORY_CONSOLE_ENABLED: 'false' });
    const response = await fetch(`${server.url}/v1/default/banks`, { headers: { 'X-Request-Id': 'trace-42' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-42');
    expect((await fetch(`${server.url}/ui`)).status).toBe(404);
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

describe('memory console at /ui (npm start)', () => {
  const key = 'console-key';
  let server: StandaloneServer;

  beforeAll(async () => {
    server = await startStandalone({ DATABASE_URL: 'pglite://memory', MEMORY_API_KEY: key });
  });

  afterAll(async () => {
    await server?.stop('SIGTERM');
  });

  it('serves the console page without the key while the v1 API still asks for it', async () => {
    for (const path of ['/ui', '/ui/']) {
      const page = await fetch(`${server.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toMatch(/<script type="module" crossorigin src="\/ui\/assets\/index-[\w-]+\.js"><\/script>/);
    }
    expect((await fetch(`${server.url}/v1/default/banks`)).status).toBe(401);
    const withKey = await fetch(`${server.url}/v1/default/banks`, { headers: { authorization: `Bearer ${key}` } });
    expect(withKey.status).toBe(200);
  });

  it('serves each built asset with its content type and as immutable, and 404 for any other name', async () => {
    const assets = await readdir(path.resolve('dist/console/assets'));
    const script = assets.find((name) => name.endsWith('.js'));
    const styles = assets.find((name) => name.endsWith('.css'));
    expect(script).toBeDefined();
    expect(styles).toBeDefined();
    const js = await fetch(`${server.url}/ui/assets/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    expect(js.headers.get('cache-control')).toMatch(/immutable/);
    expect((await js.text()).length).toBeGreaterThan(1000);
    const css = await fetch(`${server.url}/ui/assets/${styles}`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    await css.body?.cancel();

    for (const missing of ['/ui/assets/index-missing.js', '/ui/assets/..%2Fconsole.controller.js', '/ui/assets/%2E%2E%2Findex.html']) {
      const response = await fetch(`${server.url}${missing}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('cache-control') ?? '').not.toMatch(/immutable/);
      expect(await response.json()).toEqual({ detail: 'Not Found' });
    }
  });

  it('without a built bundle warns once at startup and answers /ui 404 saying how to build it', async () => {
    const emptyRoot = await mkdtemp(path.join(tmpdir(), 'memory-console-'));
    const warnings: string[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => void warnings.push(String(message)),
    };
    @Module({ controllers: [ConsoleController], providers: [{ provide: CONSOLE_ROOT, useValue: emptyRoot }] })
    class UnbuiltConsoleModule {}
    const app = await NestFactory.create(UnbuiltConsoleModule, { logger, abortOnError: false });
    try {
      await app.listen(0, '127.0.0.1');
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const page = await fetch(`${url}/ui`);
      expect(page.status).toBe(404);
      expect(await page.json()).toEqual({ detail: 'The memory console is not built: run `npm run build`' });
      expect(warnings.filter((message) => message.includes('memory console'))).toEqual([
        expect.stringContaining('/ui answers 404 until `npm run build` runs'),
      ]);
    } finally {
      await app.close();
      await rm(emptyRoot, { recursive: true, force: true });
    }
  });
});
