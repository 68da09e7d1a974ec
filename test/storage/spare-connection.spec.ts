import { DataSourceRegistry, DEFAULT_DATA_SOURCE_SETTINGS } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase, type Sql } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';
import { adminQuery, createTestDatabase, dropTestDatabase, openSessions } from '../helpers/postgres.js';
import { signal } from '../helpers/signal.js';

const backendPid = async (sql: Sql) => (await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;

/** Both halves on the scope's connection, the second started only once the first is done. */
async function expectHalvesInTurnOnOneConnection(database: MemoryDatabase): Promise<void> {
  const steps: string[] = [];
  const [first, second] = await database.withConnection((sql) =>
    database.alongside(
      sql,
      async (sql) => {
        const pid = await backendPid(sql);
        steps.push('first done');
        return pid;
      },
      async (sql) => {
        steps.push('second started');
        return backendPid(sql);
      },
    ),
  );
  expect(second).toBe(first);
  expect(steps).toEqual(['first done', 'second started']);
}

describe('MemoryDatabase.alongside (PostgreSQL)', () => {
  let testDatabase: { name: string; url: string };
  let logs: LogCapture;
  const registries: DataSourceRegistry[] = [];
  /** A role that may open one session at a time: the server's refusal, without filling the server. */
  const limitedRole = `alongside_${Math.random().toString(36).slice(2, 10)}`;

  /** A bare pool of `poolSize` on the test database: no module, so nothing else takes a connection. */
  const poolOf = async (poolSize: number, url = testDatabase.url): Promise<MemoryDatabase> => {
    const registry = new DataSourceRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, poolSize }, async () => undefined);
    registries.push(registry);
    return new MemoryDatabase(await registry.acquire(url));
  };

  beforeAll(async () => {
    logs = new LogCapture().install();
    testDatabase = await createTestDatabase('alongside');
  });

  afterAll(async () => {
    for (const registry of registries) await registry.closeAll();
    await dropTestDatabase(testDatabase.name);
    await adminQuery(`DROP ROLE IF EXISTS ${limitedRole}`);
  });

  it('runs the second half on another connection of a mostly idle pool, while the first still holds its own', async () => {
    const database = await poolOf(4);
    const firstStarted = signal();
    let askedInScope: boolean | undefined;
    const askedOutside = database.canRunAlongside();
    const [first, second] = await database.withConnection((sql) => {
      askedInScope = database.canRunAlongside();
      return database.alongside(
        sql,
        async (sql) => {
          firstStarted.fire();
          return backendPid(sql);
        },
        async (sql) => {
          await firstStarted.fired;
          return { pid: await backendPid(sql), inUse: database.poolStats()!.inUse };
        },
      );
    });
    expect({ askedOutside, askedInScope }).toEqual({ askedOutside: false, askedInScope: true });
    expect(second.pid).not.toBe(first);
    expect(second.inUse).toBe(2);
    expect(database.poolStats()!.inUse).toBe(0);
  });

  it('runs the halves one after the other on the scope’s connection when the pool cannot spare half of itself', async () => {
    const database = await poolOf(2);
    await expectHalvesInTurnOnOneConnection(database);
  });

  it('takes no second connection while other scopes hold the pool', async () => {
    const database = await poolOf(4);
    const release = signal();
    const holders = [1, 2].map(() => database.withConnection(() => release.fired));
    await eventually(
      () => database.poolStats()!.inUse,
      (inUse) => inUse === 2,
    );
    const [first, second] = await database.withConnection((sql) => {
      expect(database.canRunAlongside()).toBe(false);
      return database.alongside(sql, backendPid, backendPid);
    });
    release.fire();
    await Promise.all(holders);
    expect(second).toBe(first);
  });

  it('keeps both halves on the transaction’s connection inside a transaction', async () => {
    const database = await poolOf(4);
    const [first, second] = await database.transaction((sql) => {
      expect(database.canRunAlongside()).toBe(false);
      return database.alongside(sql, backendPid, backendPid);
    });
    expect(second).toBe(first);
  });

  it('rejects with the failing half’s error only once the other half has finished, and releases both connections', async () => {
    const database = await poolOf(4);
    let firstFinished = false;
    const firstMayFinish = signal();
    const outcome = database.withConnection((sql) =>
      database.alongside(
        sql,
        async (sql) => {
          await firstMayFinish.fired;
          await backendPid(sql);
          firstFinished = true;
        },
        async (sql) => {
          await sql.query('SELECT 1');
          firstMayFinish.fire();
          throw new Error('the second half failed');
        },
      ),
    );
    await expect(outcome).rejects.toThrow('the second half failed');
    expect(firstFinished).toBe(true);
    expect(database.poolStats()).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it('finishes every caller when many share a small pool (no caller waits for a second connection while holding one)', async () => {
    const database = await poolOf(4);
    const callers = 16;
    const allStarted = signal();
    let started = 0;
    const results = await Promise.all(
      Array.from({ length: callers }, (_, index) =>
        database.withConnection(async (sql) => {
          started += 1;
          if (started === 4) allStarted.fire();
          // The first four hold the whole pool together, so every one of them decides with the
          // pool full; the rest queue behind them.
          if (index < 4) await allStarted.fired;
          return database.alongside(
            sql,
            (sql) => sql.query<{ n: number }>('SELECT $1::int AS n', [index]),
            (sql) => sql.query<{ n: number }>('SELECT $1::int + 1 AS n', [index]),
          );
        }),
      ),
    );
    expect(results.map(([first, second]) => [first[0].n, second[0].n])).toEqual(
      Array.from({ length: callers }, (_, index) => [index, index + 1]),
    );
    expect(database.poolStats()).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it('runs both halves on the scope’s connection when the server refuses a second, and asks for none for a while', async () => {
    await adminQuery(`CREATE ROLE ${limitedRole} LOGIN PASSWORD 'limited' CONNECTION LIMIT 1`);
    const url = new URL(testDatabase.url);
    url.username = limitedRole;
    url.password = 'limited';
    const database = await poolOf(4, url.toString());
    const refusals = () => logs.lines.filter((line) => line.startsWith('A second connection could not be opened'));
    for (let call = 0; call < 2; call += 1) {
      const [first, second] = await database.withConnection((sql) => database.alongside(sql, backendPid, backendPid));
      expect(second).toBe(first);
    }
    // Asked once: the second call did not try the server again.
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toContain(`too many connections for role "${limitedRole}"`);
    expect(database.poolStats()).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it('leaves no session open once the pools are closed', async () => {
    for (const registry of registries.splice(0)) await registry.closeAll();
    await eventually(
      () => openSessions(testDatabase.name),
      (sessions) => sessions === 0,
    );
  });
});

describe('MemoryDatabase.alongside (PGlite)', () => {
  let registry: DataSourceRegistry;

  afterAll(async () => {
    await registry?.closeAll();
  });

  it('runs both halves on the one session, one after the other', async () => {
    new LogCapture().install();
    registry = new DataSourceRegistry();
    const database = new MemoryDatabase(await registry.acquire('pglite://memory/alongside'));
    await expectHalvesInTurnOnOneConnection(database);
  });
});
