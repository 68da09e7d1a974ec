import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ReadinessService } from '../health/readiness.service.js';
import { ShutdownCoordinator } from './shutdown-coordinator.js';

/** Connects Nest's hooks to the coordinator, which owns the order. */
@Injectable()
export class MemoryLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.markReady();
  }

  /**
   * Before, not on, application shutdown: Nest closes the HTTP server between the two, and
   * readiness must already answer 503 while it drains.
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    await this.coordinator.shutdown(signal ? `signal ${signal}` : 'application closing');
  }
}
