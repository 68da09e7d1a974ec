import { Body, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { ReflectService } from '../../reflect/reflect.service.js';
import { ReflectRequestDto, ReflectResponse, toReflectRequest } from '../dto/reflect.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { requestSignal } from '../request-signal.js';

@MemoryApiController('reflect')
export class ReflectController {
  constructor(@Inject(ReflectService) private readonly reflector: ReflectService) {}

  @Post('banks/:bank_id/reflect')
  @HttpCode(200)
  @ApiOperation({ operationId: 'reflect', summary: 'Answers a question from the bank’s memories (extractive without an LLM)' })
  @ApiOkResponse({ type: ReflectResponse })
  async reflect(@Param('bank_id') bankId: string, @Body() body: ReflectRequestDto, @Req() request: Request): Promise<ReflectResponse> {
    return ReflectResponse.of(await this.reflector.reflect(bankId, toReflectRequest(body), requestSignal(request)));
  }
}
