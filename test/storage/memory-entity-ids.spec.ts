import type { INestApplicationContext } from '@nestjs/common';
import { ConsolidationService } from '../../src/consolidation/consolidation.service.js';
import { MemoryEditService } from '../../src/memories/memory-edit.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { entityIdsOffTheirLinks } from '../helpers/entity-ids-on-row.js';
import { consolidateHikers } from '../helpers/hikers-observation.js';
import { bootOnPglite } from '../helpers/memory-app.js';

/**
 * Each memory's row carries the ids of its entities (`memory_units.entity_ids`, migration
 * 1766200000000), written by every writer of links in the same step; recall reads a row's entities
 * from it, and a row written before the column from its links.
 */
describe('entity ids on the memory row (PGlite)', () => {
  let app: INestApplicationContext;
  let database: MemoryDatabase;
  const offTheirLinks = (bankId: string) => entityIdsOffTheirLinks((text, params) => database.query(text, params), bankId);
  const entityIdsOf = async (id: string) =>
    (await database.query<{ entity_ids: string[] | null }>(`SELECT entity_ids FROM memory_units WHERE id = $1`, [id]))[0].entity_ids;

  beforeAll(async () => {
    app = await bootOnPglite('entity-ids', { consolidation: { cron: null, batchSize: 10, similarityThreshold: 0.55 } });
    database = app.get(MemoryDatabase);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('retain writes each memory with its entities, once each, and an empty list for a memory that names none', async () => {
    const { memoryIds } = await app.get(RetainService).retain('retained', {
      items: [
        { content: 'Alice Johnson met Bob Smith in Paris. Alice Johnson paid for dinner.' },
        { content: 'Bob Smith moved to Oslo with Alice Johnson.' },
        { content: 'the weather was fine all week.' },
      ],
    });
    expect(memoryIds).toHaveLength(4);
    expect(await offTheirLinks('retained')).toEqual([]);
    const [met, paid, moved, weather] = await Promise.all(memoryIds.map(entityIdsOf));
    expect(met).toHaveLength(3);
    expect(paid).toHaveLength(1);
    // One entity, one id, however many memories of the request name it: Alice and Bob.
    expect(moved).toEqual(expect.arrayContaining(paid!));
    expect(met!.filter((id) => moved!.includes(id))).toHaveLength(2);
    expect(weather).toEqual([]);
  });

  it('a document retained again writes its new memories with their entities', async () => {
    const retain = app.get(RetainService);
    await retain.retain('documents', { items: [{ content: 'Carol Diaz lives in Lisbon.', documentId: 'letter' }] });
    const { memoryIds } = await retain.retain('documents', {
      items: [{ content: 'Carol Diaz moved from Lisbon to Porto with Dan Wu.', documentId: 'letter' }],
    });
    expect(await offTheirLinks('documents')).toEqual([]);
    expect(await entityIdsOf(memoryIds[0])).toHaveLength(4);
  });

  it('an edit that relinks a memory rewrites its ids, down to none', async () => {
    const edits = app.get(MemoryEditService);
    const [id] = (await app.get(RetainService).retain('edited', { items: [{ content: 'Erik Berg sails from Bergen.' }] })).memoryIds;
    expect(await entityIdsOf(id)).toHaveLength(2);

    await edits.edit('edited', id, { entities: ['Frida Lund', 'Erik Berg', 'Stavanger'] });
    expect(await entityIdsOf(id)).toHaveLength(3);
    expect(await offTheirLinks('edited')).toEqual([]);

    await edits.edit('edited', id, { text: 'Greta Nyström sails from Tromsø.' });
    expect(await entityIdsOf(id)).toHaveLength(2);
    expect(await offTheirLinks('edited')).toEqual([]);

    await edits.edit('edited', id, { entities: [] });
    expect(await entityIdsOf(id)).toEqual([]);
    expect(await offTheirLinks('edited')).toEqual([]);
  });

  it('consolidation writes the observation it creates, and the one it folds sources into, with their sources’ entities', async () => {
    const retain = app.get(RetainService);
    const consolidation = app.get(ConsolidationService);
    expect(await consolidateHikers(app)).toMatchObject({ created: 1 });
    const observation = async () => {
      const rows = await database.query<{ entity_ids: string[] | null }>(
        `SELECT entity_ids FROM memory_units WHERE bank_id = 'hikers' AND fact_type = 'observation'`,
      );
      expect(rows).toHaveLength(1);
      return rows[0].entity_ids;
    };
    expect(await observation()).toHaveLength(2);
    expect(await offTheirLinks('hikers')).toEqual([]);

    await retain.retain('hikers', { items: [{ content: 'Alice Johnson loves hiking in the Alps with Hugo Mayer.' }] });
    expect(await consolidation.consolidateBank('hikers')).toMatchObject({ updated: 1 });
    expect(await observation()).toHaveLength(3);
    expect(await offTheirLinks('hikers')).toEqual([]);
  });

  it('recall gives a row written before the column the entities its links name, as it gives a row that carries them', async () => {
    await app.get(RetainService).retain('older', {
      items: [{ content: 'Ingrid Sand and Jonas Eik opened a bakery in Trondheim.' }, { content: 'Jonas Eik bakes rye bread.' }],
    });
    const recall = async () => {
      const outcome = await app.get(RecallService).recall({ bankId: 'older', query: 'Who opened a bakery with Jonas Eik?' });
      return {
        results: outcome.results.map((result) => [result.text, result.entities]),
        entities: Object.keys(outcome.entities ?? {}).sort(),
      };
    };
    const carried = await recall();
    expect(carried.results).toContainEqual([
      'Ingrid Sand and Jonas Eik opened a bakery in Trondheim.',
      ['Ingrid Sand', 'Jonas Eik', 'Trondheim'],
    ]);
    expect(carried.entities).toEqual(['Ingrid Sand', 'Jonas Eik', 'Trondheim']);

    await database.query(`UPDATE memory_units SET entity_ids = NULL WHERE bank_id = 'older'`);
    expect(await recall()).toEqual(carried);
  });
});
