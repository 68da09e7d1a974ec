import { Body, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { ReflectService } from '../../reflect/reflect.service.js';
import { ReflectRequestDto } from '../dto/reflect.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { requestSignal } from '../request-signal.js';
import { toReflectRequest, toReflectWire } from '../wire.mapper.js';

@MemoryApiController('reflect')
export class ReflectController {
  constructor(@Inject(ReflectService) private readonly reflector: ReflectService) {}

  @Post('banks/:bank_id/reflect')
  @HttpCode(200)
  @ApiOperation({ operationId: 'reflect', summary: 'Answers a question from the bank’s memories (extractive without an LLM)' })
  async reflect(@Param('bank_id') bankId: string, @Body() body: ReflectRequestDto, @Req() request: Request) {
    return toReflectWire(await this.reflector.reflect(bankId, toReflectRequest(body), requestSignal(request)));
  }
}
