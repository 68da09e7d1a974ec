import { temporalArm, temporalArmQuery } from '../../src/recall/arms/temporal-arm.js';
import type { RecallScope } from '../../src/recall/arms/visible-memories.js';
import { FACT_TYPES } from '../../src/recall/recall.types.js';
import type { TemporalRange } from '../../src/recall/temporal-query.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type PlanNode, planNodes } from '../helpers/query-plan.js';

const DAY = 86_400_000;
const FIRST = new Date('2020-01-01T00:00:00Z');
/** In each bank, one every eight hours: about five and a half years. */
const MEMORIES = 6000;
const scope = (bankId: string): RecallScope => ({ bankId, types: FACT_TYPES, tags: [], tagsMatch: 'any' });
const range = (start: string, days: number): TemporalRange => {
  const from = new Date(start);
  return { start: from, end: new Date(from.getTime() + days * DAY), expressions: [] };
};

/** The arm's own statements (not copies), explained with their parameters bound. */
async function explain(sql: Sql, bankId: string, within: TemporalRange): Promise<{ nearest: PlanNode[]; spans: PlanNode[] }> {
  const { nearest, spans } = temporalArmQuery(scope(bankId), within, 50);
  return { nearest: await planNodes(sql, nearest), spans: await planNodes(sql, spans([])) };
}

const indexesUsed = (nodes: PlanNode[]) =>
  new Set(nodes.filter((node) => /Index/.test(node['Node Type'])).map((node) => node['Index Name']));
const scansTheTable = (nodes: PlanNode[]) =>
  nodes.some((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'memory_units');

/**
 * The statement before the indexes (a lateral subquery computing the bounds), kept here only as
 * the oracle the indexed one must agree with.
 */
async function previousArm(sql: Sql, bankId: string, within: TemporalRange, limit: number): Promise<string[]> {
  const centre = new Date((within.start.getTime() + within.end.getTime()) / 2);
  const rows = await sql.query<{ id: string }>(
    `SELECT m.id
       FROM memory_units m
       CROSS JOIN LATERAL (
         SELECT coalesce(m.occurred_start, m.mentioned_at) AS when_start,
                CASE WHEN m.occurred_start IS NULL THEN m.mentioned_at
                     ELSE greatest(m.occurred_start, coalesce(m.occurred_end, m.occurred_start)) END AS when_end
       ) AS w
      WHERE m.bank_id = $1 AND m.state = 'valid'
        AND w.when_start < $3::timestamptz AND w.when_end >= $2::timestamptz
      ORDER BY abs(extract(epoch FROM (w.when_start + (w.when_end - w.when_start) / 2) - $4::timestamptz))::float8 / 86400,
               m.mentioned_at DESC, m.id
      LIMIT $5`,
    [bankId, within.start, within.end, centre, limit],
  );
  return rows.map((row) => row.id);
}

describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('the temporal arm on %s', (_label, kind) => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;
  let dropName: string | undefined;

  beforeAll(async () => {
    registry = new DataSourceRegistry();
    let url = 'pglite://memory/temporal-arm';
    if (kind === 'postgres') ({ url, name: dropName } = await createTestDatabase('temporal_arm'));
    database = new MemoryDatabase(await registry.acquire(url));
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('timeline', 'timeline'), ('other', 'other')`);
      // Every shape of time a memory can have: undated (the mention is its time), a moment, a
      // range of up to a month, an end before its start (a moment), an end without a start.
      await sql.query(
        `INSERT INTO memory_units (bank_id, text, mentioned_at, occurred_start, occurred_end)
         SELECT bank, 'Memory ' || i || ' of ' || bank, at,
                CASE WHEN i % 5 = 0 THEN NULL ELSE at - (i % 40) * interval '1 day' END,
                CASE i % 5 WHEN 0 THEN CASE WHEN i % 10 = 0 THEN at - interval '3 days' END
                           WHEN 1 THEN NULL
                           WHEN 2 THEN at - (i % 40) * interval '1 day' + (i % 31) * interval '1 day'
                           WHEN 3 THEN at - (i % 40) * interval '1 day' - interval '2 days'
                           ELSE at - (i % 40) * interval '1 day' END
           FROM unnest(ARRAY['timeline', 'other']) AS bank,
                generate_series(1, $1::int) AS i,
                LATERAL (SELECT $2::timestamptz + i * interval '8 hours' AS at) AS t`,
        [MEMORIES, FIRST],
      );
      await sql.query(`ANALYZE memory_units`);
    });
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  // Every range, narrow or wide, near the present or in the middle of the history: the nearest
  // are walked from the centre on the midpoint index, the memories that last read on a bound's.
  it.each([
    ['a week near the present', range('2025-06-20T00:00:00Z', 7), true],
    ['a day long ago', range('2020-02-10T00:00:00Z', 1), true],
    ['a month in the middle', range('2022-09-01T00:00:00Z', 30), false],
    ['a year', range('2023-01-01T00:00:00Z', 365), false],
  ])('reads %s through its indexes, never the whole table', async (_what, within, spansOnABound) => {
    const { nearest, spans } = await database.withConnection((sql) => explain(sql, 'timeline', within));
    expect(scansTheTable(nearest)).toBe(false);
    expect(indexesUsed(nearest)).toEqual(new Set(['memory_units_when_middle']));
    expect(scansTheTable(spans)).toBe(false);
    // Near either end of the history one bound is narrow; the planner takes whichever it estimates
    // narrower, so the test does not pin which.
    if (spansOnABound) {
      const used = [...indexesUsed(spans)];
      expect(used.length).toBeGreaterThan(0);
      expect(used.every((index) => index === 'memory_units_span_start' || index === 'memory_units_span_end')).toBe(true);
    }
  });

  it.each([
    ['a week near the present', range('2025-06-20T00:00:00Z', 7)],
    ['a day long ago', range('2020-02-10T00:00:00Z', 1)],
    ['a month in the middle', range('2022-09-01T00:00:00Z', 30)],
    ['a year', range('2023-01-01T00:00:00Z', 365)],
  ])('returns what the unindexed statement returned for %s, in the same order', async (_what, within) => {
    await database.withConnection(async (sql) => {
      // 10 is served by the walks alone; 500 asks more of a short range than its middles hold.
      for (const limit of [10, 500]) {
        const expected = await previousArm(sql, 'timeline', within, limit);
        const actual = (await temporalArm(sql, scope('timeline'), within, limit)).map((candidate) => candidate.id);
        expect(expected.length).toBeGreaterThan(0);
        expect(actual).toEqual(expected);
      }
    });
  });
});
