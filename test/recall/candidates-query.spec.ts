import type { QueryRunner } from 'typeorm';
import { FACT_TYPES } from '../../src/memory.constants.js';
import type { RecallScope } from '../../src/recall/arms/visible-memories.js';
import { candidatesQuery, loadCandidates } from '../../src/recall/recalled-rows.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { LinkUnitIndexBack1766500000000 } from '../../src/storage/migrations/1766500000000-link-unit-index-back.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { planNodes } from '../helpers/query-plan.js';

/** Many links per person and a few observations: a large bank that consolidation has barely begun. */
const PEOPLE = 40;
const MEMORIES = 40_000;
const OBSERVED_PEOPLE = 5;
const OBSERVATIONS_PER_ENTITY = 3;
/**
 * What reading one observation's links through the index may cost: its root and leaf, and the
 * heap where the visibility map does not yet say all-visible (15 to 20 pages for 5 measured).
 * The primary key's walk without it read 10 per observation.
 */
const PAGES_PER_OBSERVATION = 6;

const scope: RecallScope = { bankId: 'links', types: FACT_TYPES, tags: [], tagsMatch: 'any' };

/** The pages of `unit_entities` and its indexes the statement read, run as recall runs it. */
async function linkPagesRead(sql: Pick<Sql, 'query'>, statement: { text: string; values: unknown[] }): Promise<number> {
  return (await planNodes(sql, statement, { analyze: true }))
    .filter((node) => node['Relation Name'] === 'unit_entities')
    .reduce((pages, node) => pages + node['Shared Hit Blocks']! + node['Shared Read Blocks']!, 0);
}

describe.each(['PGlite', 'PostgreSQL'] as const)('the candidates’ statement (%s)', (backend) => {
  const registry = new DataSourceRegistry();
  let database: MemoryDatabase;
  let candidates: string[];
  let server: { name: string; url: string } | undefined;

  beforeAll(async () => {
    server = backend === 'PostgreSQL' ? await createTestDatabase('candidates') : undefined;
    database = new MemoryDatabase(await registry.acquire(server?.url ?? 'pglite://memory/candidates-query'));
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('links', 'links')`);
      await sql.query(
        `INSERT INTO entities (bank_id, name, canonical_name)
         SELECT 'links', 'Person ' || i, 'Person ' || i FROM generate_series(1, $1::int) AS i`,
        [PEOPLE],
      );
      await sql.query(
        `WITH people AS (SELECT array_agg(id ORDER BY canonical_name) AS ids FROM entities WHERE bank_id = 'links')
         INSERT INTO memory_units (bank_id, text, fact_type, mentioned_at, entity_ids)
         SELECT 'links', 'Memory ' || i || ' of ' || (i % $2::int), 'world', now() - i * interval '1 minute',
                ARRAY[people.ids[1 + i % $2::int]]
           FROM generate_series(1, $1::int) AS i, people`,
        [MEMORIES, PEOPLE],
      );
      await sql.query(
        `WITH people AS (SELECT array_agg(id ORDER BY canonical_name) AS ids FROM entities WHERE bank_id = 'links')
         INSERT INTO memory_units (bank_id, text, fact_type, mentioned_at, entity_ids)
         SELECT 'links', 'What is known of person ' || i, 'observation', now(), ARRAY[people.ids[1 + i]]
           FROM generate_series(1, $1::int) AS i, people`,
        [OBSERVED_PEOPLE],
      );
      await sql.query(
        `INSERT INTO unit_entities (bank_id, unit_id, entity_id, memory_at)
         SELECT bank_id, id, entity_ids[1], mentioned_at FROM memory_units WHERE bank_id = 'links'`,
      );
      await sql.query('ANALYZE');
    });
    // The newest memory of each person: every entity is wanted.
    candidates = (
      await database.query<{ id: string }>(
        `SELECT DISTINCT ON (entity_ids[1]) id FROM memory_units
          WHERE bank_id = 'links' AND fact_type = 'world' ORDER BY entity_ids[1], mentioned_at DESC`,
      )
    ).map((row) => row.id);
  });

  afterAll(async () => {
    await registry.closeAll();
    if (server) await dropTestDatabase(server.name);
  });

  const statement = () => candidatesQuery(scope, candidates, OBSERVATIONS_PER_ENTITY);

  it('reads the links of the bank’s few observations by memory, not every link of the table', async () => {
    expect(candidates).toHaveLength(PEOPLE);
    const { rows, observations } = await database.withConnection((sql) => loadCandidates(sql, scope, candidates, OBSERVATIONS_PER_ENTITY));
    expect(rows.size).toBe(PEOPLE);
    expect([...observations.values()].map((list) => list.map((observation) => observation.text)).sort()).toEqual(
      Array.from({ length: OBSERVED_PEOPLE }, (_, i) => [`What is known of person ${i + 1}`]).sort(),
    );
    expect(await linkPagesRead(database, statement())).toBeLessThanOrEqual(OBSERVED_PEOPLE * PAGES_PER_OBSERVATION);
  });

  // In a bank of a million memories on PostgreSQL 15, the planner's way without it was a parallel
  // scan of every bank's links (migration 1766500000000); at this size it walks the primary key
  // instead, still more pages than the index's bound.
  it('reads more link pages than that without unit_entities_unit, which migration 1766500000000 puts back and down() drops', async () => {
    const rolledBack = new Error('rolled back');
    await expect(
      database.transaction(async (sql) => {
        const runner = { query: (text: string) => sql.query(text) } as QueryRunner;
        await new LinkUnitIndexBack1766500000000().down(runner);
        expect(await linkPagesRead(sql, statement())).toBeGreaterThan(OBSERVED_PEOPLE * PAGES_PER_OBSERVATION);
        await new LinkUnitIndexBack1766500000000().up(runner);
        expect(await linkPagesRead(sql, statement())).toBeLessThanOrEqual(OBSERVED_PEOPLE * PAGES_PER_OBSERVATION);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
  });
});
