import type { DataSource, QueryRunner } from 'typeorm';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { BankLeadingKeys1764700000000 } from '../../src/storage/migrations/1764700000000-bank-leading-keys.js';
import { EntityLinkTime1765900000000 } from '../../src/storage/migrations/1765900000000-entity-link-time.js';
import { LinkUnitIndex1766300000000 } from '../../src/storage/migrations/1766300000000-link-unit-index.js';
import { LinkUnitIndexBack1766500000000 } from '../../src/storage/migrations/1766500000000-link-unit-index-back.js';
import { LogCapture } from '../helpers/log-capture.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

/**
 * Tables no bank owns, each with where it would live on Citus (docs/SCALING.md). A new table
 * either has a `bank_id` column, and then every key of it leads with that column, or is listed
 * here.
 */
const GLOBAL_TABLES = ['memory_migrations', 'memory_settings'];

interface ConstraintRow {
  table_name: string;
  name: string;
  type: 'p' | 'u' | 'f';
  columns: string[];
  referenced_table: string | null;
  referenced_columns: string[] | null;
}

async function tables(sql: QueryRunner | DataSource): Promise<Map<string, string[]>> {
  const rows = (await sql.query(
    `SELECT c.relname AS name,
            ARRAY(SELECT a.attname::text FROM pg_attribute a
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')`,
  )) as Array<{ name: string; columns: string[] }>;
  return new Map(rows.map((row) => [row.name, row.columns]));
}

/** Primary keys, unique constraints and foreign keys, each with its columns in key order. */
async function constraints(sql: QueryRunner | DataSource): Promise<ConstraintRow[]> {
  return (await sql.query(
    `SELECT t.relname AS table_name, c.conname AS name, c.contype AS type,
            ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
            r.relname AS referenced_table,
            CASE WHEN c.contype = 'f' THEN
              ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n)
            END AS referenced_columns
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       LEFT JOIN pg_class r ON r.oid = c.confrelid
      WHERE t.relnamespace = current_schema()::regnamespace AND c.contype IN ('p', 'u', 'f')
      ORDER BY t.relname, c.conname`,
  )) as ConstraintRow[];
}

/** Each index of the table with its columns in key order, by index name. */
async function indexesOf(sql: QueryRunner | DataSource, table: string): Promise<Record<string, string[]>> {
  const rows = (await sql.query(
    `SELECT i.relname AS name,
            ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = $1`,
    [table],
  )) as Array<{ name: string; columns: string[] }>;
  return Object.fromEntries(rows.map((row) => [row.name, row.columns]));
}

/** What breaks the rule, one line per key: empty when every key of a bank-owned table leads with its bank. */
async function keysNotLedByTheBank(sql: QueryRunner | DataSource): Promise<string[]> {
  const columnsOf = await tables(sql);
  const keys = await constraints(sql);
  const problems: string[] = [];
  // The bank's own key: `banks.id` is the bank id every other table leads with.
  const bankColumn = (table: string) => (table === 'banks' ? 'id' : 'bank_id');
  for (const [table, columns] of columnsOf) {
    if (GLOBAL_TABLES.includes(table)) continue;
    if (table !== 'banks' && !columns.includes('bank_id')) {
      problems.push(`${table}: no bank_id column, and not listed as a table no bank owns`);
      continue;
    }
    const own = keys.filter((key) => key.table_name === table);
    if (!own.some((key) => key.type === 'p')) problems.push(`${table}: no primary key`);
    for (const key of own) {
      if (key.columns[0] !== bankColumn(table)) problems.push(`${table}.${key.name} (${key.columns.join(', ')})`);
      if (key.type === 'f' && key.referenced_columns?.[0] !== bankColumn(key.referenced_table!)) {
        problems.push(`${table}.${key.name} references ${key.referenced_table} (${key.referenced_columns?.join(', ')})`);
      }
    }
  }
  return problems;
}

describe.each([['PGlite'], ['PostgreSQL']] as const)('keys of the tables a bank owns, on %s', (backEnd) => {
  let registry: DataSourceRegistry;
  let dataSource: DataSource;
  let dropName: string | undefined;
  let logs: LogCapture;

  beforeAll(async () => {
    logs = new LogCapture().install();
    registry = new DataSourceRegistry();
    let url = 'pglite://memory/bank-leading-keys';
    if (backEnd === 'PostgreSQL') {
      const created = await createTestDatabase('bank_keys');
      url = created.url;
      dropName = created.name;
    }
    dataSource = await registry.acquire(url);
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  it('lead every primary key, unique constraint and foreign key with bank_id', async () => {
    const columnsOf = await tables(dataSource);
    // The rule only means something if the catalog query sees the schema.
    expect([...columnsOf.keys()]).toEqual(expect.arrayContaining(['banks', 'memory_units', 'unit_entities', 'webhook_deliveries']));
    expect(await keysNotLedByTheBank(dataSource)).toEqual([]);
  });

  it('keep unit_entities_unit, which migration 1766300000000 dropped and 1766500000000 put back, and their down()s undo each', async () => {
    const kept = {
      unit_entities_pkey: ['bank_id', 'unit_id', 'entity_id'],
      unit_entities_entity_time: ['bank_id', 'entity_id', 'memory_at', 'unit_id'],
      // Recall's observations join reads links by entity and by memory without the bank (src/recall/recalled-rows.ts).
      unit_entities_entity: ['entity_id'],
      unit_entities_unit: ['unit_id', 'entity_id'],
    };
    expect(await indexesOf(dataSource, 'unit_entities')).toEqual(kept);

    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      const { unit_entities_unit: _byMemory, ...withoutIt } = kept;
      const back = new LinkUnitIndexBack1766500000000();
      const dropped = new LinkUnitIndex1766300000000();
      await back.down(runner);
      expect(await indexesOf(runner, 'unit_entities')).toEqual(withoutIt);
      await dropped.down(runner);
      expect(await indexesOf(runner, 'unit_entities')).toEqual(kept);
      await dropped.up(runner);
      await back.up(runner);
      expect(await indexesOf(runner, 'unit_entities')).toEqual(kept);
    } finally {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  });

  it('are put back by down() and led by the bank again by up(), with every row kept and cross-bank rows repaired', async () => {
    const runner = dataSource.createQueryRunner();
    const migration = new BankLeadingKeys1764700000000();
    await runner.startTransaction();
    try {
      const ids = {
        older: '00000000-0000-4000-8000-000000000001',
        newer: '00000000-0000-4000-8000-000000000002',
        otherBank: '00000000-0000-4000-8000-000000000003',
        pointsAcross: '00000000-0000-4000-8000-000000000004',
      };
      await runner.query(`INSERT INTO banks (id) VALUES ('a'), ('b')`);
      await runner.query(
        `INSERT INTO memory_units (id, bank_id, text) VALUES ($1, 'a', 'Evan lives in Berlin.'), ($2, 'a', 'Evan moved to Oslo.'),
                ($3, 'b', 'Mia lives in Rome.'), ($4, 'a', 'Mia moved.')`,
        [ids.older, ids.newer, ids.otherBank, ids.pointsAcross],
      );
      await runner.query(`INSERT INTO entities (bank_id, name, canonical_name) VALUES ('a', 'Evan', 'evan'), ('b', 'Mia', 'mia')`);
      await runner.query(`UPDATE memory_units SET superseded_by = $2, superseded_at = now() WHERE id = $1`, [ids.older, ids.newer]);
      await runner.query(`INSERT INTO webhooks (bank_id, url) VALUES ('a', 'http://receiver.invalid/')`);
      await runner.query(
        `INSERT INTO webhook_deliveries (webhook_id, bank_id, event_type, payload) SELECT id, 'a', 'retain.completed', '{}' FROM webhooks`,
      );

      // Reverted in reverse order, as the migration runner would: a later migration's trigger
      // reads the links' bank_id, which this down() takes away.
      const linkIndexBack = new LinkUnitIndexBack1766500000000();
      await linkIndexBack.down(runner);
      const linkIndexes = new LinkUnitIndex1766300000000();
      await linkIndexes.down(runner);
      const linkTime = new EntityLinkTime1765900000000();
      await linkTime.down(runner);
      await migration.down(runner);
      expect(await keysNotLedByTheBank(runner)).toEqual(
        expect.arrayContaining([
          'memory_units.memory_units_pkey (id)',
          'unit_entities: no bank_id column, and not listed as a table no bank owns',
        ]),
      );
      // Rows the old keys let through and the new ones refuse: a link to another bank's entity, a
      // pointer to another bank's memory, a delivery filed under a bank that is not its webhook's.
      await runner.query(
        `INSERT INTO unit_entities (unit_id, entity_id)
         SELECT m.id, e.id FROM memory_units m JOIN entities e ON e.bank_id = m.bank_id WHERE m.id IN ($1, $2)`,
        [ids.older, ids.newer],
      );
      await runner.query(`INSERT INTO unit_entities (unit_id, entity_id) SELECT $1, id FROM entities WHERE bank_id = 'b'`, [ids.older]);
      await runner.query(`UPDATE memory_units SET superseded_by = $2, superseded_at = now(), superseded_by_llm = true WHERE id = $1`, [
        ids.pointsAcross,
        ids.otherBank,
      ]);
      await runner.query(`UPDATE webhook_deliveries SET bank_id = 'b'`);

      logs.lines.length = 0;
      await migration.up(runner);
      await linkTime.up(runner);
      await linkIndexes.up(runner);
      await linkIndexBack.up(runner);
      expect(await keysNotLedByTheBank(runner)).toEqual([]);
      expect(logs.lines.some((line) => /1 entity links deleted, 1 supersession pointers cleared, 1 deliveries given/.test(line))).toBe(
        true,
      );

      const links = (await runner.query(`SELECT bank_id, unit_id FROM unit_entities ORDER BY unit_id`)) as Array<{
        bank_id: string;
        unit_id: string;
      }>;
      expect(links).toEqual([
        { bank_id: 'a', unit_id: ids.older },
        { bank_id: 'a', unit_id: ids.newer },
      ]);
      const pointers = (await runner.query(
        `SELECT id, superseded_by, superseded_by_llm FROM memory_units WHERE bank_id = 'a' ORDER BY id`,
      )) as Array<{
        id: string;
        superseded_by: string | null;
        superseded_by_llm: boolean;
      }>;
      expect(pointers).toEqual([
        { id: ids.older, superseded_by: ids.newer, superseded_by_llm: false },
        { id: ids.newer, superseded_by: null, superseded_by_llm: false },
        { id: ids.pointsAcross, superseded_by: null, superseded_by_llm: false },
      ]);
      expect(await runner.query(`SELECT bank_id FROM webhook_deliveries`)).toEqual([{ bank_id: 'a' }]);

      // Deleting the successor clears the pointer and leaves the bank, which the key needs.
      await runner.query(`DELETE FROM memory_units WHERE id = $1`, [ids.newer]);
      expect(await runner.query(`SELECT bank_id, superseded_by FROM memory_units WHERE id = $1`, [ids.older])).toEqual([
        { bank_id: 'a', superseded_by: null },
      ]);
      await expect(
        runner.query(`INSERT INTO unit_entities (bank_id, unit_id, entity_id) SELECT 'a', $1, id FROM entities WHERE bank_id = 'b'`, [
          ids.older,
        ]),
      ).rejects.toThrow(/foreign key/);
    } finally {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  });
});
