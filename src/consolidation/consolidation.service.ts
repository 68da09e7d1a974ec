import { Injectable } from '@nestjs/common';

/** Placeholder: consolidation of raw memories into observations (being written). */
@Injectable()
export class ConsolidationService {
  start(): void {}
}
