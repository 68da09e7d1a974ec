import { Injectable } from '@nestjs/common';

/** Placeholder: the cron tick that queues consolidation (being written). */
@Injectable()
export class ConsolidationScheduler {
  start(): void {}
}
