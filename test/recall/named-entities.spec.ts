import type { QueryRunner } from 'typeorm';
import { namedEntities, namedEntitiesQuery } from '../../src/recall/arms/entity-arm.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { EntityNameWordsIndex1766400000000 } from '../../src/storage/migrations/1766400000000-entity-name-words-index.js';
import { planNodes } from '../helpers/query-plan.js';

/** Enough people that reading them all is the plan to avoid, and the planner knows it. */
const PEOPLE = 20_000;

describe('namedEntities (PGlite)', () => {
  const registry = new DataSourceRegistry();
  let database: MemoryDatabase;

  beforeAll(async () => {
    database = new MemoryDatabase(await registry.acquire('pglite://memory/named-entities'));
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('people', 'people'), ('other', 'other')`);
      await sql.query(
        `INSERT INTO entities (bank_id, name, canonical_name)
         SELECT 'people', n, n FROM (SELECT 'Person' || i || ' Family' || (i % 97) AS n FROM generate_series(1, $1::int) AS i) AS names`,
        [PEOPLE],
      );
      await sql.query(
        `INSERT INTO entities (bank_id, name, canonical_name) VALUES
           ('people', 'Haltor Gorroro', 'Haltor Gorroro'), ('people', 'Haltor Vinse', 'Haltor Vinse'),
           ('people', 'Oskar Lind', 'Oskar Lind'), ('people', 'O''Brien', 'O''Brien'), ('people', 'Dr Khan', 'Dr Khan'),
           ('people', 'Ann', 'Ann'), ('other', 'Oskar Lind', 'Oskar Lind')`,
      );
      await sql.query('ANALYZE entities');
    });
  });

  afterAll(async () => {
    await registry.closeAll();
  });

  const names = async (query: string) =>
    (await database.withConnection((sql) => namedEntities(sql, 'people', query))).map((entity) => entity.canonical_name).sort();

  it('finds names in full, by first word, and whole words only', async () => {
    expect(await names('Where does Oskar live?')).toEqual(['Oskar Lind']);
    expect(await names("What did o'brien say about annual leave?")).toEqual(["O'Brien"]);
    expect(await names('Did Ann call Dr Khan?')).toEqual(['Ann', 'Dr Khan']);
    // "Dr" is a title, not a first name.
    expect(await names('Which dr was it?')).toEqual([]);
    expect(await names('What did Haltor say?')).toEqual(['Haltor Gorroro', 'Haltor Vinse']);
    // A first name given with its surname is that person only.
    expect(await names('What did Haltor Gorroro say?')).toEqual(['Haltor Gorroro']);
  });

  it('looks the names up in the indexes instead of reading every entity of the bank', async () => {
    const nodes = await planNodes(database, namedEntitiesQuery('people', 'What did Haltor Gorroro book at the bakery?'));
    expect(nodes.some((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'entities')).toBe(false);
    const indexes = new Set(nodes.map((node) => node['Index Name']).filter(Boolean));
    expect(indexes).toEqual(new Set(['entities_first_name_word']));
  });

  it('keeps no index on whole names, which only the lookup by n-grams read, and down() puts it back', async () => {
    const nameIndexes = async (sql: Sql) =>
      (
        await sql.query<{ name: string }>(
          `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'entities' AND indexname LIKE '%name_word%' ORDER BY 1`,
        )
      ).map((row) => row.name);
    const rolledBack = new Error('rolled back');
    await expect(
      database.transaction(async (sql) => {
        expect(await nameIndexes(sql)).toEqual(['entities_first_name_word']);
        const migration = new EntityNameWordsIndex1766400000000();
        const runner = { query: (text: string) => sql.query(text) } as QueryRunner;
        await migration.down(runner);
        expect(await nameIndexes(sql)).toEqual(['entities_first_name_word', 'entities_name_words']);
        await migration.up(runner);
        expect(await nameIndexes(sql)).toEqual(['entities_first_name_word']);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
  });
});
