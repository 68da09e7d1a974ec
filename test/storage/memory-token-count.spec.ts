import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { MemoryEditService } from '../../src/memories/memory-edit.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { oracleMemoryTokens } from '../helpers/cl100k-oracle.js';
import { consolidateHikers } from '../helpers/hikers-observation.js';
import { bootOnPglite } from '../helpers/memory-app.js';

/**
 * Each memory's count for recall's token budget (`memory_units.tokens_cl100k`, migration
 * 1766000000000) is written by every writer, and never outlives the text it was counted from.
 */
describe('stored token counts (PGlite)', () => {
  const tokensOf = oracleMemoryTokens;
  let app: INestApplicationContext;
  let database: MemoryDatabase;

  const stored = async (id: string) => {
    const [row] = await database.query<{ text: string; context: string | null; tokens_cl100k: number | null }>(
      `SELECT text, context, tokens_cl100k FROM memory_units WHERE id = $1`,
      [id],
    );
    return row;
  };

  beforeAll(async () => {
    app = await bootOnPglite('token-count', { consolidation: { cron: null, batchSize: 10, similarityThreshold: 0.55 } });
    database = app.get(MemoryDatabase);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('retain stores the count of each memory’s text and context', async () => {
    const context = 'From a letter Oskar wrote in the spring — “naïve” as ever.';
    const { memoryIds } = await app.get(RetainService).retain('counts', {
      items: [{ content: 'Oskar Lind moved to Uppsala in March 2024. He teaches chemistry at the gymnasium.', context }],
    });
    expect(memoryIds).toHaveLength(2);
    for (const id of memoryIds) {
      const row = await stored(id);
      expect(row.context).toBe(context);
      expect(row.tokens_cl100k).toBe(tokensOf(row.text, context));
    }
  });

  it('an edit stores the new text’s count', async () => {
    const [id] = (await app.get(RetainService).retain('counts', { items: [{ content: 'Petra Holm teaches physics.' }] })).memoryIds;
    const text = 'Petra Holm teaches physics and astronomy to the older classes, on Tuesdays and Thursdays.';
    await app.get(MemoryEditService).edit('counts', id, { text });
    expect(await stored(id)).toMatchObject({ text, tokens_cl100k: tokensOf(text) });

    await app.get(MemoryEditService).edit('counts', id, { context: 'Said at the parents’ evening.' });
    expect((await stored(id)).tokens_cl100k).toBe(tokensOf(text, 'Said at the parents’ evening.'));
  });

  it('forgets a count when the text or context changes without a new one, and keeps one given or still true', async () => {
    const [id] = (await app.get(RetainService).retain('counts', { items: [{ content: 'The ferry leaves at nine.' }] })).memoryIds;
    const counted = tokensOf('The ferry leaves at nine.');
    expect((await stored(id)).tokens_cl100k).toBe(counted);

    // Written, but to what it was: the count still describes the text.
    await database.query(`UPDATE memory_units SET text = text, context = context WHERE id = $1`, [id]);
    expect((await stored(id)).tokens_cl100k).toBe(counted);
    // Another column only.
    await database.query(`UPDATE memory_units SET tags = '{harbour}' WHERE id = $1`, [id]);
    expect((await stored(id)).tokens_cl100k).toBe(counted);

    await database.query(`UPDATE memory_units SET text = 'The ferry leaves at ten, from the north pier.' WHERE id = $1`, [id]);
    expect((await stored(id)).tokens_cl100k).toBeNull();

    await database.query(`UPDATE memory_units SET text = 'The ferry is cancelled.', tokens_cl100k = 5 WHERE id = $1`, [id]);
    expect((await stored(id)).tokens_cl100k).toBe(5);
    await database.query(`UPDATE memory_units SET context = 'Posted at the pier.' WHERE id = $1`, [id]);
    expect((await stored(id)).tokens_cl100k).toBeNull();
  });

  it('recall budgets a row without a count by counting it, the same as a stored count', async () => {
    const { memoryIds } = await app.get(RetainService).retain('uncounted', {
      items: [{ content: 'Ingrid is allergic to hazelnuts.', context: 'Noted at the dinner.' }],
    });
    const recall = () => app.get(RecallService).recall({ bankId: 'uncounted', query: 'Who is allergic to hazelnuts?', trace: true });
    const withCount = await recall();
    await database.query(`UPDATE memory_units SET tokens_cl100k = NULL WHERE id = $1`, [memoryIds[0]]);
    const counted = await recall();
    expect(withCount.results.map((memory) => memory.id)).toEqual(memoryIds);
    expect(counted.trace!.tokens).toBe(withCount.trace!.tokens);
    expect(counted.trace!.tokens).toBe(tokensOf('Ingrid is allergic to hazelnuts.', 'Noted at the dinner.'));
  });

  it('consolidation stores the count of the observation it creates and of the text it folds into it', async () => {
    const retain = app.get(RetainService);
    const consolidation = app.get(ConsolidationService);
    expect(await consolidateHikers(app)).toMatchObject({ created: 1 });
    const observation = async () => {
      const rows = await database.query<{ id: string; text: string; tokens_cl100k: number | null }>(
        `SELECT id, text, tokens_cl100k FROM memory_units WHERE bank_id = 'hikers' AND fact_type = 'observation'`,
      );
      expect(rows).toHaveLength(1);
      return rows[0];
    };
    const created = await observation();
    expect(created.tokens_cl100k).toBe(tokensOf(created.text));

    await retain.retain('hikers', { items: [{ content: 'Alice Johnson loves hiking in the Alps every summer.' }] });
    expect(await consolidation.consolidateBank('hikers')).toMatchObject({ updated: 1 });
    const folded = await observation();
    expect(folded.text).not.toBe(created.text);
    expect(folded.tokens_cl100k).toBe(tokensOf(folded.text));
  });
});
