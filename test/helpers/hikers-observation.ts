import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { RetainService } from '../../src/retain/retain.service.js';

/**
 * Two memories of one person and one place, consolidated into one observation in `bankId`: the
 * smallest bank whose consolidation creates an observation that a third memory can fold into.
 */
export async function consolidateHikers(app: INestApplicationContext, bankId = 'hikers'): Promise<{ created: number }> {
  await app.get(RetainService).retain(bankId, {
    items: [
      { content: 'Alice Johnson loves hiking in the Alps.', timestamp: new Date('2025-01-01T10:00:00Z') },
      { content: 'Alice Johnson went hiking in the Alps last summer.', timestamp: new Date('2025-01-02T10:00:00Z') },
    ],
  });
  return app.get(ConsolidationService).consolidateBank(bankId);
}
