import { type DynamicModule, Module } from '@nestjs/common';
import type { ServerConfig } from './config/server-config.js';
import { MemoryHttpModule } from './http/memory-http.module.js';
import type { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import { MemoryMcpModule } from './mcp/memory-mcp.module.js';
import { MemoryModule } from './memory.module.js';

/** The standalone server: the memory module, its HTTP API and, unless turned off, its MCP server and console. */
@Module({})
export class AppModule {
  static forRoot(config: ServerConfig, shutdownCoordinator: ShutdownCoordinator): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MemoryModule.forRoot({ ...config.memory, shutdownCoordinator, isGlobal: true }),
        MemoryHttpModule.forRoot({ apiKey: config.apiKey, console: config.console.enabled }),
        ...(config.mcp.enabled ? [MemoryMcpModule.forRoot({ apiKey: config.apiKey, defaultBankId: config.mcp.defaultBankId })] : []),
      ],
    };
  }
}
