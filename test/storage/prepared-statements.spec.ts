import { QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { HashingEmbedder } from '../../src/external/hashing-embedder.js';
import { MemoryErrorCode, MemoryException } from '../../src/memory.exception.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { DEFAULT_DATA_SOURCE_SETTINGS, DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { prepareVectorBackend } from '../../src/storage/vector-backend.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { seedMemories } from '../helpers/recall-fixtures.js';

/** What the server holds prepared on the connection `sql` runs on, with how each was planned. */
async function preparedOn(sql: Sql): Promise<Array<{ statement: string; generic_plans: number; custom_plans: number }>> {
  return sql.query(
    `SELECT statement, generic_plans::int AS generic_plans, custom_plans::int AS custom_plans
       FROM pg_prepared_statements WHERE name LIKE 'nestjs\\_memory\\_%'`,
  );
}

const BANK_ROWS = `SELECT id, name FROM banks WHERE id = $1`;

describe('Sql.queryPrepared (PostgreSQL)', () => {
  const registry = new DataSourceRegistry();
  let dropName: string;
  let url: string;

  beforeAll(async () => {
    ({ url, name: dropName } = await createTestDatabase('prepared'));
    const database = new MemoryDatabase(await registry.acquire(url));
    await database.query(`INSERT INTO banks (id, name) VALUES ('prepared-a', 'A'), ('prepared-b', 'B'), ('prepared-c', 'C')`);
  });

  afterAll(async () => {
    await registry.closeAll();
    await dropTestDatabase(dropName);
  });

  it('returns what query returns, from a statement the server keeps and plans once', async () => {
    const database = new MemoryDatabase(await registry.acquire(url));
    await database.withConnection(async (sql) => {
      const asked = ['prepared-a', 'prepared-b', 'prepared-c', 'none'];
      for (let round = 0; round < 3; round += 1) {
        for (const id of asked) expect(await sql.queryPrepared(BANK_ROWS, [id])).toEqual(await sql.query(BANK_ROWS, [id]));
      }
      const [prepared] = await preparedOn(sql);
      expect(prepared.statement).toBe(BANK_ROWS);
      // Twelve executions: PostgreSQL plans the first five for their values, then keeps the
      // generic plan, whose cost does not depend on them here.
      expect(prepared.custom_plans + prepared.generic_plans).toBe(12);
      expect(prepared.generic_plans).toBeGreaterThan(0);
    });
  });

  it('shares names between databases on one data source, and prepares nothing when told not to', async () => {
    const dataSource = await registry.acquire(url);
    const first = new MemoryDatabase(dataSource);
    const second = new MemoryDatabase(dataSource);
    const unprepared = new MemoryDatabase(dataSource, { preparedStatements: false });
    const rows = [{ id: 'prepared-b', name: 'B' }];
    // The pool hands the same idle connection to each scope in turn: a name derived from the text
    // means one statement there, not a clash between two numberings.
    for (const database of [first, second, first, unprepared]) {
      expect(await database.withConnection((sql) => sql.queryPrepared(BANK_ROWS, ['prepared-b']))).toEqual(rows);
    }
    const held = await first.withConnection(preparedOn);
    expect(held.map((row) => row.statement)).toEqual([BANK_ROWS]);

    const unpreparedText = `SELECT name FROM banks WHERE id = $1`;
    expect(await unprepared.withConnection((sql) => sql.queryPrepared(unpreparedText, ['prepared-c']))).toEqual([{ name: 'C' }]);
    expect((await first.withConnection(preparedOn)).map((row) => row.statement)).toEqual([BANK_ROWS]);
  });

  it('prepares at most 64 statement texts, and runs the others unnamed', async () => {
    const database = new MemoryDatabase(await registry.acquire(url));
    await database.withConnection(async (sql) => {
      const before = (await preparedOn(sql)).length;
      for (let index = 0; index < 70; index += 1) {
        expect(await sql.queryPrepared(`SELECT ${index}::int AS n, $1::text AS tag`, ['limit'])).toEqual([{ n: index, tag: 'limit' }]);
      }
      const prepared = await preparedOn(sql);
      expect(prepared.length - before).toBe(64);
      expect(prepared.some((row) => row.statement.startsWith('SELECT 64::int'))).toBe(false);
    });
  });

  it('fails as query fails: the driver error wrapped, text the database cannot hold refused as input', async () => {
    const database = new MemoryDatabase(await registry.acquire(url));
    await database.withConnection(async (sql) => {
      const failure = await sql.queryPrepared(`SELECT 1 / $1::int AS n`, [0]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(QueryFailedError);
      expect((failure as QueryFailedError & { driverError: { code: string } }).driverError.code).toBe('22012');

      const refused = await sql.queryPrepared(`SELECT $1::text AS t`, ['a\u0000b']).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(MemoryException);
      expect((refused as MemoryException).code).toBe(MemoryErrorCode.InvalidInput);

      // The connection is usable afterwards, and the failed statement is prepared like any other.
      expect(await sql.queryPrepared(`SELECT 1 / $1::int AS n`, [1])).toEqual([{ n: 1 }]);
    });
  });

  it('refuses a statement once its scope has ended, as query does', async () => {
    const database = new MemoryDatabase(await registry.acquire(url));
    const ended = await database.withConnection(async (sql) => sql);
    await expect(ended.queryPrepared(BANK_ROWS, ['prepared-a'])).rejects.toBeInstanceOf(QueryRunnerAlreadyReleasedError);
    await expect(ended.query(BANK_ROWS, ['prepared-a'])).rejects.toBeInstanceOf(QueryRunnerAlreadyReleasedError);
  });
});

describe('recall on PostgreSQL', () => {
  // One connection, so that every recall runs where the statements it prepared are.
  const registry = new DataSourceRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, poolSize: 1 });
  let dropName: string;
  afterAll(async () => {
    await registry.closeAll();
    await dropTestDatabase(dropName);
  });

  it('plans its candidates and the entity arm once: their statements are prepared, and past five recalls generic', async () => {
    const created = await createTestDatabase('prepared_recall');
    dropName = created.name;
    const database = new MemoryDatabase(await registry.acquire(created.url));
    const vectors = await database.withConnection((sql) => prepareVectorBackend(sql, 384));
    const embedder = new HashingEmbedder(new ExternalCallGuard('strict'), 384);
    const now = new Date('2026-03-20T12:00:00Z');
    await seedMemories(database, vectors, embedder, 'prepared', [
      { text: 'Orla Venn keeps bees on the harbour wall.', entities: ['Orla Venn'], occurredStart: new Date('2026-03-02T09:00:00Z') },
      { text: 'Orla Venn sold honey at the March market.', entities: ['Orla Venn'], occurredStart: new Date('2026-03-14T09:00:00Z') },
      { text: 'The harbour wall was repaired in February.', occurredStart: new Date('2026-02-10T09:00:00Z') },
    ]);
    const recall = new RecallService(database, vectors, embedder, null);
    for (let round = 0; round < 8; round += 1) {
      const outcome = await recall.recall({
        bankId: 'prepared',
        query: 'What did Orla Venn do in March?',
        queryTimestamp: now,
        bankMustExist: true,
      });
      expect(outcome.results.map((memory) => memory.text)).toContain('Orla Venn sold honey at the March market.');
    }
    const prepared = await database.withConnection(preparedOn);
    const candidates = prepared.find((row) => row.statement.startsWith('WITH found AS MATERIALIZED'));
    expect(candidates).toMatchObject({ custom_plans: 5, generic_plans: 3 });
    // The entity arm's walk of each named person's newest memories is planned once too.
    const entityMemories = prepared.find((row) => row.statement.startsWith('SELECT recent.id'));
    expect(entityMemories).toMatchObject({ custom_plans: 5, generic_plans: 3 });
    // The names the question gives and the temporal arm's walk are prepared too (parsed once).
    expect(prepared.some((row) => row.statement.startsWith('SELECT e.id, e.canonical_name'))).toBe(true);
    expect(prepared.some((row) => row.statement.startsWith('SELECT id, mentioned_at, distance_days'))).toBe(true);
    // So is an API recall's check that its bank exists, which reads no column.
    expect(prepared.some((row) => row.statement === 'SELECT 1 FROM banks WHERE id = $1')).toBe(true);
    await expect(recall.recall({ bankId: 'no-such-bank', query: 'Orla', queryTimestamp: now, bankMustExist: true })).rejects.toMatchObject({
      code: MemoryErrorCode.BankNotFound,
    });
  });
});

describe('Sql.queryPrepared (PGlite)', () => {
  const registry = new DataSourceRegistry();
  afterAll(() => registry.closeAll());

  it('runs the statement as query does: one session, nothing to prepare', async () => {
    const database = new MemoryDatabase(await registry.acquire('pglite://memory/prepared-statements'));
    await database.withConnection(async (sql) => {
      await sql.query(`INSERT INTO banks (id, name) VALUES ('prepared-a', 'A')`);
      for (let round = 0; round < 3; round += 1) {
        expect(await sql.queryPrepared(BANK_ROWS, ['prepared-a'])).toEqual([{ id: 'prepared-a', name: 'A' }]);
      }
      expect(await sql.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`)).toEqual([{ n: 0 }]);
    });
  });
});
