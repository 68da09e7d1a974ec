import type { LoggerService } from '@nestjs/common';
import { errorMessage } from '../lifecycle/shutdown-coordinator.js';

/**
 * Logs the first failure of a polling loop and the recovery, not every poll in between: a
 * database outage would otherwise print one line per loop per poll interval for its whole length.
 */
export class RepeatedFailureLog {
  private failures = 0;

  constructor(
    private readonly logger: Pick<LoggerService, 'warn' | 'log'>,
    /** Who fails, e.g. `Worker 1`. */
    private readonly subject: string,
    /** What it tries, e.g. `claim work`. */
    private readonly action: string,
  ) {}

  failed(error: unknown): void {
    this.failures += 1;
    if (this.failures === 1) {
      this.logger.warn(`${this.subject} could not ${this.action}: ${errorMessage(error)}; retrying quietly until it can`);
    }
  }

  succeeded(): void {
    if (this.failures > 0) this.logger.log(`${this.subject} can ${this.action} again after ${this.failures} failed attempt(s)`);
    this.failures = 0;
  }
}
