import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { BanksService, ConsolidationService } from 'nestjs-memory';

/**
 * The host decides when memories are consolidated: its own `@Cron` job, instead of the module's
 * built-in tick (turned off in `AppModule`). Each run consolidates every bank with new memories.
 */
@Injectable()
export class ConsolidationJob {
  private readonly logger = new Logger(ConsolidationJob.name);

  constructor(
    @Inject(BanksService) private readonly banks: BanksService,
    @Inject(ConsolidationService) private readonly consolidation: ConsolidationService,
  ) {}

  private running = false;

  @Cron(process.env.NOTES_CONSOLIDATION_CRON ?? '0 */10 * * * *', { name: 'consolidate-notes' })
  async consolidateAll(): Promise<void> {
    // A tick that is still running is not overlapped by the next: two runs at once would split
    // a bank's new memories between them, and without an LLM memories are grouped within a run.
    if (this.running) return;
    this.running = true;
    try {
      for (const bank of await this.banks.list()) {
        const result = await this.consolidation.consolidateBank(bank.bankId);
        if (result.created + result.updated > 0) {
          this.logger.log(`Consolidated ${bank.bankId}: ${result.created} observation(s) created, ${result.updated} updated`);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
