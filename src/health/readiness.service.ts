import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ShutdownCoordinator } from '../lifecycle/shutdown-coordinator.js';

export type ReadinessState = 'starting' | 'ready' | 'draining';

/**
 * Whether this instance should be sent work. It turns to `draining` as the first teardown step,
 * before anything else is released, so a load balancer stops routing here while in-flight work
 * still has its database.
 */
@Injectable()
export class ReadinessService implements OnModuleInit {
  private readonly logger = new Logger(ReadinessService.name);
  private current: ReadinessState = 'starting';

  constructor(@Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator) {}

  onModuleInit(): void {
    this.coordinator.register('readiness', 'readiness', () => {
      this.current = 'draining';
      this.logger.log('Readiness is now draining: /health/ready answers 503');
    });
  }

  get state(): ReadinessState {
    return this.coordinator.isShuttingDown ? 'draining' : this.current;
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }
}
