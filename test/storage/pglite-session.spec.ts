import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';

describe('PGlite behind the registry', () => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;

  beforeAll(async () => {
    new LogCapture().install();
    registry = new DataSourceRegistry();
    database = new MemoryDatabase(await registry.acquire('pglite://memory/session'));
    await database.query(`CREATE TABLE t (v text PRIMARY KEY)`);
  });

  afterAll(async () => {
    await registry.closeAll();
  });

  /** Resolves once `count` scopes are queued for the one session. */
  const waitingAcquirers = (count: number) =>
    eventually(
      () => database.poolStats()?.waiting,
      (waiting) => waiting === count,
    );

  it('keeps both commits when two transactions run concurrently and one rolls back', async () => {
    const committing = database.transaction(async (sql) => {
      await sql.query(`INSERT INTO t VALUES ('committed')`);
      // Hold the session until both other transactions are queued behind this one.
      await waitingAcquirers(2);
    });
    const rollingBack = database
      .transaction(async (sql) => {
        await sql.query(`INSERT INTO t VALUES ('rolled back')`);
        throw new Error('abort this one');
      })
      .catch(() => 'rolled back');
    const committingAfter = database.transaction(async (sql) => {
      await sql.query(`INSERT INTO t VALUES ('committed later')`);
    });
    await Promise.all([committing, rollingBack, committingAfter]);
    const rows = await database.query<{ v: string }>(`SELECT v FROM t ORDER BY v`);
    expect(rows.map((row) => row.v)).toEqual(['committed', 'committed later']);
  });

  it('makes a second acquirer wait until the first releases', async () => {
    const order: string[] = [];
    const first = database.withConnection(async (sql) => {
      order.push('first in');
      await waitingAcquirers(1);
      await sql.query('SELECT 1');
      order.push('first out');
    });
    const second = database.withConnection(async (sql) => {
      order.push('second in');
      await sql.query('SELECT 1');
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('shares one PGlite between two registries on one URL', async () => {
    const other = new DataSourceRegistry();
    const otherDatabase = new MemoryDatabase(await other.acquire('PGLITE://memory/session/'));
    await otherDatabase.query(`INSERT INTO t VALUES ('from the other registry')`);
    expect(await database.query(`SELECT v FROM t WHERE v = 'from the other registry'`)).toHaveLength(1);
    await other.closeAll();
    // Our registry still holds a reference: the instance must still be open.
    expect(await database.query(`SELECT count(*)::int AS n FROM t`)).toEqual([{ n: 3 }]);
  });
});
