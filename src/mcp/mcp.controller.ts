import { All, Controller, Inject, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { McpSessions } from './mcp-sessions.js';

/**
 * Hindsight's two MCP endpoints over streamable HTTP: `/mcp` (every bank, `bank_id` on each tool,
 * `X-Bank-Id` the default) and `/mcp/{bank_id}/` (one bank, implicit). The SDK's transport writes
 * the response itself, so Nest's filters and interceptors stay out of the way; it is left out of
 * the OpenAPI document, which describes the REST API only.
 */
@ApiExcludeController()
@Controller('mcp')
export class McpController {
  constructor(@Inject(McpSessions) private readonly sessions: McpSessions) {}

  @All()
  async multiBank(@Req() request: Request, @Res() response: Response): Promise<void> {
    await this.sessions.handle(request, response);
  }

  @All(':bank_id')
  async singleBank(@Param('bank_id') bankId: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    await this.sessions.handle(request, response, bankId);
  }
}
