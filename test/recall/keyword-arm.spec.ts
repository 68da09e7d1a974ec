import { type KeywordSearch, keywordArm, keywordArmQuery } from '../../src/recall/arms/keyword-arm.js';
import type { RecallScope } from '../../src/recall/arms/visible-memories.js';
import { FACT_TYPES } from '../../src/recall/recall.types.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { planNodes } from '../helpers/query-plan.js';

const scope = (bankId: string, tags: string[] = []): RecallScope => ({ bankId, types: FACT_TYPES, tags, tagsMatch: 'any' });

/** A small vocabulary, so that questions share one, two or several words with many memories. */
const PEOPLE = ['Ann', 'Bo', 'Cy', 'Di'];
const THINGS = ['bicycle', 'kettle', 'lantern', 'violin', 'umbrella'];
const PLACES = ['market', 'harbour', 'library', 'station'];
const WHEN = ['last week', 'in spring', 'yesterday', 'at dawn'];

const QUESTIONS = [
  // Two and more shared words: the first tier, which for the small limit has more matches than it ranks.
  'Which bicycle did Ann buy at the market last week?',
  'What did Bo leave at the harbour in spring?',
  'Who fixed the violin in the library yesterday?',
  // One shared word only: the second tier alone.
  'Anything about a kettle?',
  // A word no memory has, beside ones they have.
  'Where is the zeppelin lantern?',
  // No memory matches.
  'Tell me about quasars',
];

describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('the keyword arm on %s', (_label, kind) => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;
  let dropName: string | undefined;

  beforeAll(async () => {
    registry = new DataSourceRegistry();
    let url = 'pglite://memory/keyword-arm';
    if (kind === 'postgres') ({ url, name: dropName } = await createTestDatabase('keyword_arm'));
    database = new MemoryDatabase(await registry.acquire(url));
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('small', 'small'), ('crowd', 'crowd')`);
      // The same sentences in both banks, the crowd's fifty times over: its matches fill the
      // full-text index's posting lists, and must never come back from the small bank. Each row
      // carries about the kilobyte and a half an embedding of 384 dimensions would (as metadata
      // that does not compress, so it stays in the row): the planner weighs a walk by the table's
      // pages it reads, and without it a page held fifty memories instead of four.
      await sql.query(
        `INSERT INTO memory_units (bank_id, text, mentioned_at, tags, metadata)
         SELECT bank, ($1::text[])[i % 4 + 1] || ' left the ' || ($2::text[])[i % 5 + 1] || ' at the '
                      || ($3::text[])[i % 4 + 1] || ' ' || ($4::text[])[(i / 3) % 4 + 1] || ' (' || i || ').',
                '2025-01-01T00:00:00Z'::timestamptz + i * interval '1 hour',
                CASE WHEN i % 7 = 0 THEN ARRAY['private'] ELSE ARRAY[]::text[] END,
                jsonb_build_object('embedding-sized', (SELECT string_agg(md5(bank || i || '.' || j), '') FROM generate_series(1, 45) AS j))
           FROM (VALUES ('small', 200), ('crowd', 10000)) AS banks(bank, size),
                generate_series(1, size) AS i`,
        [PEOPLE, THINGS, PLACES, WHEN],
      );
    });
    // Outside a transaction, as (auto)vacuum runs: it marks the pages all-visible, without which
    // no walk can skip the table.
    await database.query(`VACUUM ANALYZE memory_units`);
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  const search = (sql: Sql, how: KeywordSearch, question: string, limit: number, tags: string[] = []) =>
    keywordArm(sql, scope('small', tags), question, limit, new Set(['ann', 'bo']), how);

  it.each(QUESTIONS)('finds the same memories in the same order by the bank rows as by the index: %s', async (question) => {
    await database.withConnection(async (sql) => {
      for (const limit of [3, 50]) {
        for (const tags of [[], ['private']]) {
          const byIndex = await search(sql, 'index', question, limit, tags);
          const byRows = await search(sql, 'bank-rows', question, limit, tags);
          expect(byRows).toEqual(byIndex);
          expect(byRows.length).toBeLessThanOrEqual(limit);
        }
      }
    });
  });

  // "kettle" is in a fifth of the crowd's memories: the second tier walks the newest along the
  // bank's mention-time index and stops at fifty, rather than reading every match.
  it.each([
    ['without tags', []],
    ['with tags', ['private']],
  ])('walks the newest memories for one-word matches, %s', async (_what, tags) => {
    const nodes = await database.withConnection((sql) => planNodes(sql, keywordArmQuery(scope('crowd', tags), QUESTIONS[3], 50)!));
    expect(nodes.filter((node) => node['Index Name']?.startsWith('memory_units_mentioned')).map((node) => node['Index Name'])).toEqual([
      'memory_units_mentioned',
    ]);
  });

  it('fills every place from a bank that has the matches, through either search', async () => {
    await database.withConnection(async (sql) => {
      for (const how of ['index', 'bank-rows'] as const) {
        const found = await search(sql, how, QUESTIONS[0], 50);
        expect(found).toHaveLength(50);
        const rows = await sql.query<{ bank_id: string }>(`SELECT DISTINCT bank_id FROM memory_units WHERE id = ANY($1::uuid[])`, [
          found.map((candidate) => candidate.id),
        ]);
        expect(rows).toEqual([{ bank_id: 'small' }]);
      }
    });
  });
});
