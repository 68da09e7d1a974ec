#!/usr/bin/env node
import 'reflect-metadata';
import { ConsoleLogger, type LogLevel, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ignoredVariableWarnings, loadServerConfig } from './config/server-config.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import { MCP_SERVER_NAME, MCP_SERVER_VERSION } from './mcp/mcp.options.js';
import { registerMemoryTools, resolveMemoryToolServices } from './mcp/memory-tools.js';
import { MEMORY_OPTIONS } from './memory.constants.js';
import { MemoryModule } from './memory.module.js';
import type { ResolvedMemoryOptions } from './memory.options.js';

const USAGE = `Usage: nestjs-memory mcp [--bank <bank_id>]

Runs the MCP server over stdio for desktop clients that start a local process.
  --bank <bank_id>  every tool acts on this bank (as /mcp/{bank_id}/); without it, every tool
                    takes a bank_id (as /mcp), defaulting to MEMORY_MCP_BANK_ID or "default".
The database is DATABASE_URL, by default PGlite in ~/.nestjs-memory/data; the other
variables are the standalone server's (README.md).`;

/** Stdout is the protocol in stdio mode: every log line, whatever its level, goes to stderr. */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _stream?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { bank: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals[0] !== 'mcp' || positionals.length > 1 || values.bank?.trim() === '') {
    process.stderr.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }

  // A desktop client starts this in a directory of its choosing, often one it cannot write:
  // the default database lives in the user's home instead of the working directory.
  const env = { DATABASE_URL: `pglite://${path.join(homedir(), '.nestjs-memory', 'data')}`, ...process.env };
  let config;
  try {
    config = loadServerConfig(env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
  const logger = new StderrLogger({ json: config.logFormat === 'json', colors: false, logLevels: ['error', 'warn', 'log'] });
  Logger.overrideLogger(logger);
  for (const warning of ignoredVariableWarnings(config)) logger.warn(warning, 'Mcp');

  const coordinator = new ShutdownCoordinator({ timeoutMs: config.memory.shutdownTimeoutMs });
  let app;
  try {
    app = await NestFactory.createApplicationContext(
      MemoryModule.forRoot({ ...config.memory, shutdownCoordinator: coordinator, isGlobal: true }),
      {
        abortOnError: false,
        logger,
      },
    );
  } catch (error) {
    await coordinator.shutdown('startup failed');
    logger.error(`Startup failed: ${(error as Error)?.stack ?? String(error)}`, 'Mcp');
    process.exit(1);
  }

  const limits = app.get<ResolvedMemoryOptions>(MEMORY_OPTIONS, { strict: false }).limits;
  const server = new McpServer({ name: MCP_SERVER_NAME, version: MCP_SERVER_VERSION });
  registerMemoryTools(
    server,
    resolveMemoryToolServices((token) => app.get(token, { strict: false }), limits),
    values.bank ? { mode: 'fixed', bankId: values.bank } : { mode: 'multi', defaultBankId: config.mcp.defaultBankId ?? 'default' },
  );

  let stopping: Promise<void> | undefined;
  const stop = (why: string) =>
    (stopping ??= (async () => {
      logger.log(`Stopping (${why})`, 'Mcp');
      setTimeout(() => process.exit(1), config.memory.shutdownTimeoutMs + 5_000).unref();
      await server.close().catch(() => undefined);
      await app.close();
      process.exit(0);
    })());
  // The client ends the session by closing our stdin.
  process.stdin.once('end', () => void stop('stdin closed'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await server.connect(new StdioServerTransport());
  logger.log(`MCP server on stdio, ${values.bank ? `bank ${values.bank}` : 'every bank'}`, 'Mcp');
}

void main();
