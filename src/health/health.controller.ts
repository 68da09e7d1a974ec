import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { HINDSIGHT_API_VERSION } from '../http/controllers/monitoring.controller.js';
import { ReadinessResponse } from '../http/dto/responses/monitoring.responses.js';
import { MemoryHealthIndicator } from './memory.health.js';

/** Hindsight's `LivenessResponse`. */
export class LivenessResponseDto {
  @ApiProperty({ enum: ['alive'], description: 'Always "alive": reaching this handler is the check' })
  status: 'alive';

  @ApiProperty({ description: 'The Hindsight API version this process speaks' })
  version: string;

  @ApiProperty({ type: Number, description: 'Seconds since the process started' })
  uptime_seconds: number;
}

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(MemoryHealthIndicator) private readonly memory: MemoryHealthIndicator,
  ) {}

  /** The process answers: no database involved, so a slow database never gets it restarted. */
  @Get('live')
  @ApiOperation({ operationId: 'get_liveness' })
  @ApiOkResponse({ type: LivenessResponseDto })
  live(): LivenessResponseDto {
    return { status: 'alive', version: HINDSIGHT_API_VERSION, uptime_seconds: Math.round(process.uptime() * 10) / 10 };
  }

  /** 503 while starting, from the first moment of shutdown, and while the database is unreachable. */
  @Get('ready')
  @ApiOperation({ operationId: 'get_readiness' })
  // Declared here rather than by @HealthCheck, whose schema depends on it finding @nestjs/swagger
  // at run time (it does not under every module loader) and would merge into these otherwise.
  @ApiOkResponse({ type: ReadinessResponse })
  @ApiServiceUnavailableResponse({ type: ReadinessResponse, description: 'Starting, shutting down, or the database does not answer' })
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  ready() {
    return this.health.check([() => this.memory.isReady('memory')]);
  }
}
