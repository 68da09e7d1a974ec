import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ApiKeyVerifier } from '../http/api-key.guard.js';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MCP_SERVER_NAME, MCP_SERVER_VERSION, MEMORY_MCP_OPTIONS, type MemoryMcpOptions } from './mcp.options.js';
import { type BankScope, type MemoryToolServices, registerMemoryTools, resolveMemoryToolServices } from './memory-tools.js';
import { runAsCaller } from '../audit/audit-scope.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  /** The path the session was opened on: its bank scope, which a later request cannot change. */
  route: string;
}

// JSON-RPC's "server error" range; Hindsight's clients only read the message.
const SERVER_ERROR = -32000;

/**
 * The streamable HTTP sessions of `/mcp` and `/mcp/{bank_id}/`, one `McpServer` from the official
 * SDK per session. Sessions are a producer of work, like the scheduler, so they are released in
 * the `scheduler` stage: after readiness stops new traffic, before the operations worker drains.
 * From then on new requests are refused (503); requests in flight get half the remaining time to
 * finish, then every session's transport is closed, which ends whatever response is still open.
 */
@Injectable()
export class McpSessions implements OnModuleInit {
  private readonly logger = new Logger('Mcp');
  private readonly sessions = new Map<string, Session>();
  private readonly verifier: ApiKeyVerifier;
  private services?: MemoryToolServices;
  private closing = false;
  private inFlight = 0;
  private idle?: () => void;

  constructor(
    @Inject(MEMORY_MCP_OPTIONS) private readonly options: MemoryMcpOptions,
    @Inject(MEMORY_OPTIONS) private readonly memoryOptions: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {
    this.verifier = new ApiKeyVerifier({ apiKey: options.apiKey });
  }

  onModuleInit(): void {
    this.services = resolveMemoryToolServices((token) => this.moduleRef.get(token, { strict: false }), this.memoryOptions.limits);
    this.coordinator.register('scheduler', 'mcp-sessions', (signal, deadlineAt) => this.close(signal, deadlineAt));
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  async handle(request: Request, response: Response, pathBankId?: string): Promise<void> {
    if (this.closing || this.coordinator.isShuttingDown) return rpcError(response, 503, 'Server is shutting down');
    if (!this.verifier.accepts(request.headers.authorization)) {
      response.status(401).json({ detail: 'Invalid API key' });
      return;
    }
    if (pathBankId !== undefined && (!pathBankId.trim() || pathBankId.length > this.memoryOptions.limits.maxBankIdLength)) {
      response.status(400).json({ detail: `bank_id must be 1 to ${this.memoryOptions.limits.maxBankIdLength} characters` });
      return;
    }
    const route = pathBankId === undefined ? '' : pathBankId;
    const sessionId = header(request, 'mcp-session-id');
    let session: Session | undefined;
    if (sessionId) {
      session = this.sessions.get(sessionId);
      if (!session || session.route !== route) return rpcError(response, 404, 'Session not found');
      // Map order is recency order: the least recently used session is the first one.
      this.sessions.delete(sessionId);
      this.sessions.set(sessionId, session);
    } else if (request.method === 'POST' && isInitializeRequest(request.body)) {
      session = await this.open(route, pathBankId, header(request, 'x-bank-id'));
    } else {
      return rpcError(response, 400, 'Bad Request: no valid MCP session id; send initialize first');
    }
    // Only POSTs are work: a GET is the session's notification stream, open as long as it lives.
    const counted = request.method === 'POST';
    if (counted) this.inFlight++;
    try {
      // Tools run inside this call: they read who is calling for the audit log from here.
      const caller = { actor: this.verifier.identityOf(request.headers.authorization), requestId: requestIdOf(request) };
      await runAsCaller(caller, () => session.transport.handleRequest(request, response, request.body));
    } finally {
      if (counted && --this.inFlight === 0) this.idle?.();
    }
  }

  private async open(route: string, pathBankId: string | undefined, headerBankId: string | undefined): Promise<Session> {
    const scope: BankScope =
      pathBankId !== undefined
        ? { mode: 'fixed', bankId: pathBankId }
        : { mode: 'multi', defaultBankId: headerBankId?.trim() || this.options.defaultBankId || 'default' };
    const server = new McpServer({ name: MCP_SERVER_NAME, version: MCP_SERVER_VERSION });
    registerMemoryTools(server, this.services!, scope);
    const session: Session = {
      server,
      route,
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          this.sessions.set(id, session);
          this.evictBeyondLimit();
        },
      }),
    };
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.sessions.delete(session.transport.sessionId);
    };
    await server.connect(session.transport);
    return session;
  }

  private evictBeyondLimit(): void {
    const max = this.options.maxSessions ?? 1000;
    for (const [id, session] of this.sessions) {
      if (this.sessions.size <= max) break;
      this.sessions.delete(id);
      void session.server.close().catch(() => undefined);
    }
  }

  private async close(signal: AbortSignal, deadlineAt: number): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) {
      // Half of what is left: the workers after this stage need the rest to drain.
      const waitMs = Math.max(0, (deadlineAt - Date.now()) / 2);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        timer = setTimeout(resolve, waitMs);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      clearTimeout(timer);
      if (this.inFlight > 0) this.logger.warn(`Closing ${this.inFlight} MCP request(s) still in flight`);
    }
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map((session) => session.server.close().catch(() => undefined)));
    this.logger.log(`Closed ${open.length} MCP session(s)`);
  }
}

function header(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function rpcError(response: Response, status: number, message: string): void {
  response.status(status).json({ jsonrpc: '2.0', error: { code: SERVER_ERROR, message }, id: null });
}

function requestIdOf(request: Request): string {
  const given = header(request, 'x-request-id');
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}
