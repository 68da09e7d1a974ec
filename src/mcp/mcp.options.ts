export const MEMORY_MCP_OPTIONS = Symbol('MEMORY_MCP_OPTIONS');

/**
 * Provided (as `true`) only by `MemoryMcpModule`, for every module to see: `/version` reports
 * `features.mcp` from it, since the HTTP module cannot otherwise know whether `/mcp` is mounted.
 */
export const MCP_ENDPOINT = Symbol('MCP_ENDPOINT');

export interface MemoryMcpOptions {
  /**
   * When set, `/mcp` answers 401 unless `Authorization` carries it, exactly as `/v1` does
   * (`Bearer <key>` or the raw key).
   */
  apiKey?: string;
  /**
   * The bank of a `/mcp` session whose client sends no `X-Bank-Id`, as Hindsight's
   * `HINDSIGHT_MCP_BANK_ID`. Default `default`.
   */
  defaultBankId?: string;
  /**
   * Sessions kept at once; opening one more closes the least recently used. Clients that vanish
   * without `DELETE` leave their session behind, and this bounds what they can leave. Default 1000.
   */
  maxSessions?: number;
}

/** Reported to MCP clients as the server's name in `initialize`. */
export const MCP_SERVER_NAME = 'nestjs-memory';
export const MCP_SERVER_VERSION = '0.1.0';
