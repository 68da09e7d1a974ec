import { type DynamicModule, Module } from '@nestjs/common';
import { McpController } from './mcp.controller.js';
import { McpSessions } from './mcp-sessions.js';
import { MCP_ENDPOINT, MEMORY_MCP_OPTIONS, type MemoryMcpOptions } from './mcp.options.js';

/**
 * The MCP server over streamable HTTP at `/mcp` and `/mcp/{bank_id}/`, opt-in: the standalone
 * server imports it unless `MEMORY_MCP_ENABLED=false`; a host imports it next to a global
 * `MemoryModule`, whose services its tools call. Global only so that `MCP_ENDPOINT` reaches the
 * HTTP module's `/version`, whichever of the two the host imports first.
 */
@Module({})
export class MemoryMcpModule {
  static forRoot(options: MemoryMcpOptions = {}): DynamicModule {
    return {
      module: MemoryMcpModule,
      global: true,
      controllers: [McpController],
      providers: [{ provide: MEMORY_MCP_OPTIONS, useValue: { ...options } }, { provide: MCP_ENDPOINT, useValue: true }, McpSessions],
      exports: [McpSessions, MCP_ENDPOINT],
    };
  }
}
