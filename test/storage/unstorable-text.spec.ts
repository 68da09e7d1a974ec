import type { INestApplicationContext } from '@nestjs/common';
import { BanksService } from '../../src/banks/banks.service.js';
import { MemoryErrorCode, MemoryException } from '../../src/memory.exception.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

/**
 * A host that calls the services directly, without the HTTP edge's validation: text the database
 * cannot hold (NUL, a lone surrogate) is the domain's invalid-input error, never a driver error,
 * and nothing stored changes; retained content is stored without it.
 */
describe.each(['PGlite', 'PostgreSQL'] as const)('text the database cannot store, through the services on %s', (backend) => {
  let app: INestApplicationContext;
  let dropName: string | undefined;

  beforeAll(async () => {
    let databaseUrl = `pglite://memory/unstorable-${process.pid}`;
    if (backend === 'PostgreSQL') {
      const created = await createTestDatabase('unstorable');
      databaseUrl = created.url;
      dropName = created.name;
    }
    const booted = await bootStartedMemory({ databaseUrl, watchdogIntervalMs: 60_000 });
    app = booted.app;
  });

  afterAll(async () => {
    await app?.close();
    if (dropName) await dropTestDatabase(dropName);
  });

  async function invalidInput(promise: Promise<unknown>): Promise<void> {
    const error = await promise.then(
      () => new Error('expected a refusal'),
      (refused: unknown) => refused,
    );
    expect(error).toBeInstanceOf(MemoryException);
    expect((error as MemoryException).code).toBe(MemoryErrorCode.InvalidInput);
  }

  it('refuses NUL and lone surrogates in tags, queries, names and metadata; strips them from content', async () => {
    const retain = app.get(RetainService);
    const { memoryIds } = await retain.retain('host', { items: [{ content: 'Ada\u0000 likes tea.\ud800', context: 'chat\u0000' }] });
    const [stored] = await app
      .get(MemoryDatabase)
      .query<{ text: string; context: string }>(`SELECT text, context FROM memory_units WHERE id = $1`, [memoryIds[0]]);
    expect(stored).toEqual({ text: 'Ada likes tea.', context: 'chat' });
    const count = async () => (await app.get(MemoryDatabase).query<{ n: string }>(`SELECT count(*) AS n FROM memory_units`))[0].n;
    const before = await count();

    await invalidInput(retain.retain('host', { items: [{ content: 'Fine.', tags: ['user:\u0000'] }] }));
    await invalidInput(retain.retain('host', { items: [{ content: 'Fine.', metadata: { k: 'v\ud800' } }] }));
    await invalidInput(app.get(RecallService).recall({ bankId: 'host', query: 'tea\u0000' }));
    await invalidInput(app.get(BanksService).update('host', { name: 'Ho\u0000st' }));
    expect(await count()).toBe(before);
  });
});
