import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { LogCapture } from '../helpers/log-capture.js';
import { signal } from '../helpers/signal.js';

/**
 * The one PGlite session is shared first come, first served, and the event loop turns between
 * two holders (issue 14): PGlite answers as microtasks, so without that turn a backlog of scopes
 * runs as one block and nothing that arrives meanwhile (a request on a socket, a timer) is even
 * read until all of it is through.
 */
describe('PGlite session: first come, first served', () => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;

  beforeAll(async () => {
    new LogCapture().install();
    registry = new DataSourceRegistry();
    database = new MemoryDatabase(await registry.acquire('pglite://memory/fifo'));
    await database.query(`CREATE TABLE holds (n serial PRIMARY KEY, caller text NOT NULL)`);
  });

  afterAll(async () => {
    await registry.closeAll();
  });

  beforeEach(async () => {
    await database.query(`TRUNCATE holds RESTART IDENTITY`);
  });

  it('grants the session in the order it was asked for, whatever the caller came from', async () => {
    const EACH = 12;
    const requested: string[] = [];
    const acquired: string[] = [];
    const callers: Array<Promise<void>> = [];
    const everyoneAsked = signal();
    const ask = (name: string) => {
      requested.push(name);
      const caller = database.withConnection(async (sql) => {
        acquired.push(name);
        // Real statements on the one session, as a scope runs them.
        await sql.query(`INSERT INTO holds (caller) VALUES ($1)`, [name]);
        await sql.query(`SELECT count(*) FROM holds`);
      });
      callers.push(caller);
      if (requested.length === 1 + EACH * 3) everyoneAsked.fire();
      return caller;
    };

    // The first holder keeps the session until every other caller has asked for it.
    requested.push('first');
    const first = database.withConnection(async (sql) => {
      acquired.push('first');
      await sql.query(`SELECT 1`);
      await everyoneAsked.fired;
    });
    for (let index = 0; index < EACH; index += 1) {
      // Callers of this tick; each asks again as soon as its scope ends (a service that takes
      // the session twice per request), behind whoever asked in the meantime.
      void ask(`sync-${index}`).then(() => ask(`again-${index}`));
      // Callers from the event loop: a socket read or a timer, in the real server.
      setImmediate(() => ask(`immediate-${index}`));
      setTimeout(() => ask(`timer-${index}`), 0);
    }
    await first;
    // The callers that ask again join while the others run: wait until no one is left.
    for (let waited = 0; waited < callers.length;) {
      waited = callers.length;
      await Promise.all(callers);
    }

    expect(acquired).toHaveLength(1 + EACH * 4);
    expect(acquired).toEqual(requested);
    const rows = await database.query<{ caller: string }>(`SELECT caller FROM holds ORDER BY n`);
    expect(rows.map((row) => row.caller)).toEqual(requested.slice(1));
  });

  it('lets the event loop turn between two holders', async () => {
    const HOLDERS = 8;
    const events: string[] = [];
    const holders = Array.from({ length: HOLDERS }, (_, index) =>
      database.withConnection(async (sql) => {
        events.push(`hold ${index}`);
        await sql.query(`INSERT INTO holds (caller) VALUES ($1)`, [`holder ${index}`]);
        // What arrives while the session is held must be seen before the next holder starts.
        setImmediate(() => events.push(`turn after ${index}`));
      }),
    );
    await Promise.all(holders);
    // The last holder's turn may still be due: immediates run in order, so wait for one more.
    await new Promise((resolve) => setImmediate(resolve));

    expect(events).toEqual(Array.from({ length: HOLDERS }, (_, index) => [`hold ${index}`, `turn after ${index}`]).flat());
  });

  it('answers a caller that arrives from the event loop while a backlog waits before the backlog is through', async () => {
    // A backlog of scopes that each ask again once, as recall does (its arms, then its entities).
    const order: string[] = [];
    const backlog = Array.from({ length: 6 }, (_, index) =>
      (async () => {
        await database.withConnection(async (sql) => {
          order.push(`backlog ${index}`);
          await sql.query(`SELECT 1`);
        });
        await database.withConnection(async (sql) => {
          order.push(`backlog ${index} again`);
          await sql.query(`SELECT 1`);
        });
      })(),
    );
    // A request read from a socket while the first of them holds the session.
    const arrival = new Promise<void>((resolve, reject) =>
      setImmediate(() =>
        database
          .withConnection(async (sql) => {
            order.push('arrival');
            await sql.query(`SELECT 1`);
          })
          .then(resolve, reject),
      ),
    );
    await Promise.all([...backlog, arrival]);

    // The arrival waits for the scopes asked for before it was read (the backlog, and the first
    // holder's second scope, asked as it released), not for the second scopes asked after it.
    expect(order.indexOf('arrival')).toBeLessThan(order.indexOf('backlog 1 again'));
  });

  it('counts a session whose grant is scheduled as in use, and its first waiter as served', async () => {
    const idle = { total: 1, idle: 1, inUse: 0, waiting: 0 };
    expect(database.poolStats()).toEqual(idle);
    // Asked for while free: granted on the next turn of the event loop, already reserved now.
    const first = database.withConnection((sql) => sql.query(`SELECT 1`));
    expect(database.poolStats()).toEqual({ total: 1, idle: 0, inUse: 1, waiting: 0 });
    const second = database.withConnection((sql) => sql.query(`SELECT 1`));
    expect(database.poolStats()).toEqual({ total: 1, idle: 0, inUse: 1, waiting: 1 });
    await Promise.all([first, second]);
    expect(database.poolStats()).toEqual(idle);
  });
});
