import { type DynamicModule, Module } from '@nestjs/common';
import { McpController } from './mcp.controller.js';
import { McpSessions } from './mcp-sessions.js';
import { MEMORY_MCP_OPTIONS, type MemoryMcpOptions } from './mcp.options.js';

/**
 * The MCP server over streamable HTTP at `/mcp` and `/mcp/{bank_id}/`, opt-in: the standalone
 * server imports it unless `MEMORY_MCP_ENABLED=false`; a host imports it next to a global
 * `MemoryModule`, whose services its tools call.
 */
@Module({})
export class MemoryMcpModule {
  static forRoot(options: MemoryMcpOptions = {}): DynamicModule {
    return {
      module: MemoryMcpModule,
      controllers: [McpController],
      providers: [{ provide: MEMORY_MCP_OPTIONS, useValue: { ...options } }, McpSessions],
      exports: [McpSessions],
    };
  }
}
