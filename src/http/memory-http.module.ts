import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from '../health/health.controller.js';

/**
 * The HTTP face of the module: health probes and the Hindsight-compatible v1 API. Imported by the
 * standalone server; a host imports it too when it wants the same routes, next to a global
 * `MemoryModule`.
 */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
})
export class MemoryHttpModule {}
