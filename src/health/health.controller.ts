import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { MemoryHealthIndicator } from './memory.health.js';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(MemoryHealthIndicator) private readonly memory: MemoryHealthIndicator,
  ) {}

  /** The process answers: no database involved, so a slow database never gets it restarted. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** 503 while starting, from the first moment of shutdown, and while the database is unreachable. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.memory.isReady('memory')]);
  }
}
