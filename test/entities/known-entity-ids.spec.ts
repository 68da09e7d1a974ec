import type { INestApplicationContext } from '@nestjs/common';
import { BanksService } from '../../src/banks/banks.service.js';
import { resolveMentionedEntities } from '../../src/entities/entities.queries.js';
import { KnownEntityIds } from '../../src/entities/known-entity-ids.js';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import type { Sql } from '../../src/storage/memory-database.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { entitiesWithLinkCounts, entityIdsOffTheirLinks } from '../helpers/entity-ids-on-row.js';
import { bootOnPglite } from '../helpers/memory-app.js';

/**
 * Names a process has resolved before are not looked up again (`KnownEntityIds`), and a
 * remembered id the database no longer has is corrected by the write that uses it
 * (docs/ARCHITECTURE.md, "A memory's entities on its row").
 */
describe('entity ids the process remembers (PGlite)', () => {
  let app: INestApplicationContext;
  let database: MemoryDatabase;
  let known: KnownEntityIds;
  const offTheirLinks = (bankId: string) => entityIdsOffTheirLinks((text, params) => database.query(text, params), bankId);
  const entitiesOf = (bankId: string) => entitiesWithLinkCounts((text, params) => database.query(text, params), bankId);

  beforeAll(async () => {
    app = await bootOnPglite('known-entity-ids');
    database = app.get(MemoryDatabase);
    known = app.get(KnownEntityIds);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('looks up only the names it does not know, and none when it knows them all', async () => {
    await app.get(RetainService).retain('known', { items: [{ content: 'Alice Johnson met Bob Smith in Paris.' }] });
    const [alice, bob] = await entitiesOf('known');

    /** The names each look-up statement was sent, on the write's own connection. */
    const resolveWith = (names: string[][]) =>
      database.transaction(async (sql) => {
        const lookedUp: string[][] = [];
        const watched: Sql = {
          ...sql,
          queryPrepared: (text, params) => {
            if (text.trimStart().startsWith('WITH found AS')) lookedUp.push(params![2] as string[]);
            return sql.queryPrepared(text, params);
          },
        };
        const mentioned = await resolveMentionedEntities(
          watched,
          'known',
          names.map((memory) => memory.map((name) => ({ name, type: null }))),
          known,
        );
        return { lookedUp, mentioned };
      });

    const allKnown = await resolveWith([['Alice Johnson'], ['Bob Smith', 'Alice Johnson']]);
    expect(allKnown.lookedUp).toEqual([]);
    expect(allKnown.mentioned.perMemory).toEqual([[alice.id], [bob.id, alice.id]]);
    expect(allKnown.mentioned.existing.map((mention) => mention.canonical)).toEqual(['alice johnson', 'bob smith']);

    const oneNew = await resolveWith([['Bob Smith', 'Carol Diaz']]);
    expect(oneNew.lookedUp).toEqual([['carol diaz']]);
    expect(oneNew.mentioned.existing.map((mention) => mention.canonical)).toEqual(['bob smith']);
  });

  it('remembers an id only once the write that created it commits, and never one rolled back', async () => {
    await database.query(`INSERT INTO banks (id, name) VALUES ('pending', 'pending')`);
    const ivy = [[{ name: 'Ivy Chen', type: null }]];
    let inside: string | undefined = 'not read';
    const created = await database.transaction(async (sql) => {
      const mentioned = await resolveMentionedEntities(sql, 'pending', ivy, known);
      inside = known.get('pending', 'ivy chen');
      return mentioned.byCanonical.get('ivy chen');
    });
    expect(inside).toBeUndefined();
    expect(known.get('pending', 'ivy chen')).toBe(created);

    const rolledBack = database.transaction(async (sql) => {
      await resolveMentionedEntities(sql, 'pending', [[{ name: 'Jon Ree', type: null }]], known);
      throw new Error('the write fails after resolving its names');
    });
    await expect(rolledBack).rejects.toThrow('the write fails after resolving its names');
    expect(known.get('pending', 'jon ree')).toBeUndefined();
  });

  it('an id remembered from before its entity was deleted is replaced, on the rows, the links and in memory', async () => {
    const retain = app.get(RetainService);
    await retain.retain('cleared', { items: [{ content: 'Dan Wu met Erin Park in Rome.' }] });
    const before = await entitiesOf('cleared');
    expect(before).toHaveLength(3);
    for (const entity of before) expect(known.get('cleared', entity.canonical_name)).toBe(entity.id);

    // Clearing the bank's memories deletes its entities and leaves the process's ids as they were.
    await app.get(MemoriesService).clear('cleared');
    expect(await entitiesOf('cleared')).toEqual([]);
    await retain.retain('cleared', {
      items: [{ content: 'Dan Wu and Erin Park flew to Rome.' }, { content: 'Erin Park stayed in Rome.' }],
    });

    const after = await entitiesOf('cleared');
    expect(after.map((entity) => [entity.canonical_name, entity.mention_count, Number(entity.links)])).toEqual([
      ['dan wu', 1, 1],
      ['erin park', 2, 2],
      ['rome', 2, 2],
    ]);
    for (const entity of after) {
      expect(before.map((old) => old.id)).not.toContain(entity.id);
      expect(known.get('cleared', entity.canonical_name)).toBe(entity.id);
    }
    expect(await offTheirLinks('cleared')).toEqual([]);
  });

  it("forgets a deleted bank's names, and only that bank's", async () => {
    const retain = app.get(RetainService);
    await retain.retain('gone', { items: [{ content: 'Frank Moss sails from Bergen.' }] });
    await retain.retain('kept', { items: [{ content: 'Frank Moss sails from Bergen.' }] });
    expect(known.get('gone', 'frank moss')).toBeDefined();

    await app.get(BanksService).delete('gone');
    expect(known.get('gone', 'frank moss')).toBeUndefined();
    expect(known.get('gone', 'bergen')).toBeUndefined();
    expect(known.get('kept', 'frank moss')).toBe((await entitiesOf('kept')).find((entity) => entity.canonical_name === 'frank moss')!.id);
  });
});
